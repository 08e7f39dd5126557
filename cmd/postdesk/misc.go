package main

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"
)

func newVersionCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use: "version", Short: "Print the version", Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			fmt.Fprintf(a.stdout, "postdesk %s (%s, %s/%s)\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return nil
		},
	}
}

func newCheckConfigCmd(a *app) *cobra.Command {
	var show bool
	cmd := &cobra.Command{
		Use:   "check-config",
		Short: "Validate the configuration (exit 2 naming every bad key)",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			if _, err := cfg.TicketMailboxes(); err != nil {
				return usageErr(err)
			}
			src := a.configPath
			if src == "" {
				src = "embedded defaults"
			}
			fmt.Fprintf(a.stdout, "configuration ok (%s): store %s, http %s, %d mailboxes\n", src, cfg.Store.Path, cfg.HTTP.Listen, len(cfg.Mailboxes))
			for _, mb := range cfg.Mailboxes {
				how := "manual import only"
				if mb.IMAP != nil {
					how = fmt.Sprintf("imap %s:%d (%s) folder %s, after import %s", mb.IMAP.Host, mb.IMAP.Port, mb.IMAP.TLS, mb.IMAP.Folder, mb.IMAP.AfterImport)
				}
				fmt.Fprintf(a.stdout, "  mailbox %d %q: %s\n", mb.ID, mb.Name, how)
			}
			if show {
				out, err := yaml.Marshal(cfg.Redacted())
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "\n%s", out)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&show, "show", false, "print the effective configuration, secrets redacted")
	return cmd
}
