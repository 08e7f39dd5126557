package main

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	imapv2 "github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/spf13/cobra"

	"github.com/postdesk/postdesk/daemon"
	"github.com/postdesk/postdesk/daemon/config"
	"github.com/postdesk/postdesk/internal/memidle"
	"github.com/postdesk/postdesk/store"
)

//go:embed demo/*.eml
var demoMail embed.FS

func newDemoCmd(a *app) *cobra.Command {
	var listen, dbPath string
	var once bool
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Zero-setup first run: an embedded IMAP server with sample mail, polled by a real daemon",
		Long: `Start an IMAP server inside this process holding sample mail, and a real
postdesk daemon polling it over IMAP (with IDLE). Watch the mail become
tickets, then open the printed URLs or use the API. A new mail arrives a few
seconds after the start. Ctrl-C stops; --once stops when all sample mail is
imported.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := context.WithCancel(cmd.Context())
			defer cancel()
			mails, err := fs.Glob(demoMail, "demo/*.eml")
			if err != nil {
				return err
			}
			later := mails[len(mails)-1]
			srv, addr, user, err := startDemoIMAP()
			if err != nil {
				return err
			}
			defer srv.Close()
			for _, m := range mails[:len(mails)-1] {
				if err := demoAppend(user, m); err != nil {
					return err
				}
			}
			if dbPath == "" {
				dir, err := os.MkdirTemp("", "postdesk-demo-")
				if err != nil {
					return err
				}
				defer os.RemoveAll(dir)
				dbPath = filepath.Join(dir, "postdesk.db")
			}
			cfg := config.Default()
			cfg.Store.Path = dbPath
			cfg.HTTP.Listen = listen
			cfg.HTTP.PublicURL = "http://" + listen
			cfg.API.TicketURL = cfg.HTTP.PublicURL + "/ticket/{id}"
			host, port, _ := net.SplitHostPort(addr)
			var portN int
			fmt.Sscan(port, &portN)
			cfg.Mailboxes = []config.Mailbox{{
				ID: 1, Name: "demo", Address: "support@postdesk.example",
				Category: "Support", Priority: "Medium", Owner: "Demo Agent",
				IMAP: &config.IMAP{Host: host, Port: portN, TLS: config.TLSNone, Auth: config.AuthLogin,
					Username: "demo", Password: "demo", Folder: "INBOX", AfterImport: config.AfterImportSeen,
					PollInterval: 5 * time.Second, BatchSize: config.DefaultBatchSize},
			}}
			log, err := a.logger(cfg)
			if err != nil {
				return err
			}
			log.Info("go garbage collector", "settings", daemon.TuneGC(os.LookupEnv))
			d, err := daemon.Open(daemon.Options{Config: cfg, Version: version, Logger: log})
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "postdesk demo: IMAP server on %s (user demo), daemon on http://%s, store %s\n", addr, d.Addr(), dbPath)
			fmt.Fprintf(a.stdout, "(keep the store with --store FILE, then: POSTDESK_STORE_PATH=FILE postdesk tickets list)\n\n")
			done := make(chan error, 1)
			go func() { done <- d.Run(ctx) }()

			st, err := store.Open(dbPath, store.Options{Logger: log})
			if err != nil {
				cancel()
				<-done
				return err
			}
			defer st.Close()
			if err := st.CreateUser(ctx, "demo", store.RoleAdmin, "demo"); err != nil && !errors.Is(err, store.ErrExists) {
				cancel()
				<-done
				return err
			}
			fmt.Fprintf(a.stdout, "ticket pages and the API accept the user demo with password demo\n\n")
			seen := map[int64]int{}
			deliveredLater := false
			start := time.Now()
			tick := time.NewTicker(200 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case err := <-done:
					return err
				case <-tick.C:
				}
				if !deliveredLater && time.Since(start) > 3*time.Second {
					deliveredLater = true
					fmt.Fprintln(a.stdout, "\na new mail arrives in the IMAP mailbox...")
					if err := demoAppend(user, later); err != nil {
						cancel()
						<-done
						return err
					}
				}
				ts, err := st.ListTickets(ctx, store.ListOptions{})
				if err != nil {
					continue
				}
				msgs := 0
				for _, t := range ts {
					msgs += t.MessageCount
					if seen[t.ID] != t.MessageCount {
						verb := "new ticket"
						if seen[t.ID] > 0 {
							verb = "follow-up on ticket"
						}
						seen[t.ID] = t.MessageCount
						auto := ""
						if t.Automatic {
							auto = " [automatic]"
						}
						fmt.Fprintf(a.stdout, "  %s %d: %q (%d messages, owner %s)%s  http://%s/ticket/%d\n",
							verb, t.ID, t.Title, t.MessageCount, t.Owner, auto, d.Addr(), t.ID)
					}
				}
				if msgs == len(mails) && deliveredLater && once {
					fmt.Fprintf(a.stdout, "\nall %d sample mails imported\n", len(mails))
					cancel()
					return <-done
				}
			}
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:8080", "HTTP address of the demo daemon")
	cmd.Flags().StringVar(&dbPath, "store", "", "SQLite file to keep (default: a temporary file removed at exit)")
	cmd.Flags().BoolVar(&once, "once", false, "exit when every sample mail is a ticket")
	return cmd
}

// startDemoIMAP serves an in-memory IMAP server on a free loopback port.
func startDemoIMAP() (*imapserver.Server, string, *imapmemserver.User, error) {
	mem := imapmemserver.New()
	user := imapmemserver.NewUser("demo", "demo")
	if err := user.Create("INBOX", nil); err != nil {
		return nil, "", nil, err
	}
	mem.AddUser(user)
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			// memidle: a sample mail appended while the daemon re-enters IDLE
			// is announced at once, not at the next poll.
			return memidle.Session{SessionIMAP4rev2: mem.NewSession().(imapserver.SessionIMAP4rev2)}, nil, nil
		},
		Caps:         imapv2.CapSet{imapv2.CapIMAP4rev1: {}, imapv2.CapIMAP4rev2: {}},
		InsecureAuth: true,
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", nil, err
	}
	go srv.Serve(ln)
	return srv, ln.Addr().String(), user, nil
}

func demoAppend(user *imapmemserver.User, name string) error {
	raw, err := demoMail.ReadFile(name)
	if err != nil {
		return err
	}
	raw = bytes.ReplaceAll(raw, []byte("\n"), []byte("\r\n"))
	_, err = user.Append("INBOX", literal{bytes.NewReader(raw)}, &imapv2.AppendOptions{})
	if err != nil {
		return fmt.Errorf("demo mail %s: %w", strings.TrimPrefix(name, "demo/"), err)
	}
	return nil
}

type literal struct{ *bytes.Reader }

func (l literal) Size() int64 { return int64(l.Reader.Len()) }
