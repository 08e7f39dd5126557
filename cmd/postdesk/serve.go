package main

import (
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/postdesk/postdesk/daemon"
	"github.com/postdesk/postdesk/daemon/config"
)

func newServeCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Run the daemon: IMAP pollers and the HTTP API",
		Long: `Run the daemon. Without --config it runs on embedded defaults: HTTP on
127.0.0.1:8080, the SQLite file postdesk.db in the working directory (or
$STATE_DIRECTORY), one manual-import mailbox with id 1.

SIGHUP re-reads the mailboxes from the configuration file; SIGTERM and
SIGINT shut down gracefully.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			log, err := a.logger(cfg)
			if err != nil {
				return err
			}
			var reload func() (*config.Config, error)
			if a.configPath != "" {
				reload = func() (*config.Config, error) { return config.Load(a.configPath, os.Environ()) }
			}
			log.Info("go garbage collector", "settings", daemon.TuneGC(os.LookupEnv))
			d, err := daemon.Open(daemon.Options{Config: cfg, Reload: reload, Version: version, Logger: log})
			if err != nil {
				return err
			}
			hup := make(chan os.Signal, 1)
			signal.Notify(hup, syscall.SIGHUP)
			defer signal.Stop(hup)
			go func() {
				for range hup {
					if err := d.Reload(); err != nil {
						log.Error("reload failed; the running configuration stays", "err", err)
					}
				}
			}()
			return d.Run(cmd.Context())
		},
	}
}
