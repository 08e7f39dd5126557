package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/postdesk/postdesk/daemon"
	"github.com/postdesk/postdesk/daemon/config"
	"github.com/postdesk/postdesk/store"
	"github.com/postdesk/postdesk/ticket"
)

// app holds what every subcommand shares.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	configPath     string
	logLevel       string
}

func newRootCmd(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:   "postdesk",
		Short: "Turn e-mail into help-desk tickets",
		Long: `postdesk imports e-mail into help-desk tickets: it polls IMAP mailboxes, serves
SuperOffice's CreateTicketFromMailData over HTTP and keeps tickets in SQLite.

Run "postdesk serve" to start on embedded defaults (HTTP on 127.0.0.1:8080,
postdesk.db in the working directory), or "postdesk demo" to watch sample mail
become tickets.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVarP(&a.configPath, "config", "c", os.Getenv("POSTDESK_CONFIG"), "configuration file (YAML); default: embedded defaults")
	root.PersistentFlags().StringVar(&a.logLevel, "log-level", "", "log level: debug, info, warn, error (overrides log.level)")
	root.AddCommand(
		newServeCmd(a), newImportCmd(a), newDeliverCmd(a), newTicketsCmd(a), newQuarantineCmd(a),
		newUserCmd(a), newTokenCmd(a), newCheckConfigCmd(a), newVersionCmd(a), newDemoCmd(a), newManCmd(a, root),
	)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageErr(err) })
	return root
}

// isUsage reports whether err is cobra's complaint about the command line.
func isUsage(err error) bool {
	s := err.Error()
	return strings.HasPrefix(s, "unknown command") || strings.HasPrefix(s, "unknown flag") ||
		strings.HasPrefix(s, "unknown shorthand flag") || strings.Contains(s, "arg(s)") ||
		strings.HasPrefix(s, "required flag")
}

// loadConfig reads the configuration; its errors are usage errors (exit 2).
func (a *app) loadConfig() (*config.Config, error) {
	cfg, err := config.Load(a.configPath, os.Environ())
	if err != nil {
		return nil, usageErr(err)
	}
	if a.logLevel != "" {
		cfg.Log.Level = a.logLevel
	}
	return cfg, nil
}

// logger builds the process logger from the configuration.
func (a *app) logger(cfg *config.Config) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cmpOr(cfg.Log.Level, "info"))); err != nil {
		return nil, usageErr(fmt.Errorf("log.level: %w", err))
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(a.stderr, opts)), nil
	}
	return slog.New(slog.NewTextHandler(a.stderr, opts)), nil
}

// core opens the store and the import core for a one-shot command.
type core struct {
	cfg   *config.Config
	log   *slog.Logger
	store *store.Store
	svc   *ticket.Service
}

// withStoreID reads arg as an ID (parseID) and runs fn with the store
// open: the shape of every command that shows one stored thing.
func (a *app) withStoreID(arg string, fn func(st *store.Store, id int64) error) error {
	id, err := parseID(arg)
	if err != nil {
		return err
	}
	c, err := a.openCore(false)
	if err != nil {
		return err
	}
	defer c.Close()
	return fn(c.store, id)
}

func (a *app) openCore(withService bool, adjust ...func(*config.Config)) (*core, error) {
	cfg, err := a.loadConfig()
	if err != nil {
		return nil, err
	}
	for _, f := range adjust {
		f(cfg)
	}
	log, err := a.logger(cfg)
	if err != nil {
		return nil, err
	}
	st, err := store.Open(cfg.Store.Path, store.Options{Logger: log})
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", cfg.Store.Path, err)
	}
	c := &core{cfg: cfg, log: log, store: st}
	if !withService {
		return c, nil
	}
	mbs, err := cfg.TicketMailboxes()
	if err != nil {
		st.Close()
		return nil, usageErr(err)
	}
	if err := st.SyncMailboxes(context.Background(), mbs); err != nil {
		st.Close()
		return nil, err
	}
	c.svc, err = ticket.NewService(daemon.ServiceOptions(cfg, st, mbs, log, nil))
	if err != nil {
		st.Close()
		return nil, usageErr(err)
	}
	return c, nil
}

func (c *core) Close() error { return c.store.Close() }

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
