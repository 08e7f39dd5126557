package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/postdesk/postdesk/daemon/config"
	"github.com/postdesk/postdesk/ticket"
)

func newImportCmd(a *app) *cobra.Command {
	var mailbox int64
	var quiet, noSenderCap bool
	cmd := &cobra.Command{
		Use:   "import --mailbox ID FILE...",
		Short: "Import mail files, mbox files, Maildir folders or stdin (-)",
		Long: `Import mail into tickets exactly as the daemon would. Each argument is a mail
file, an mbox file (split at its "From " lines), a Maildir (cur/ and new/) or
a folder of mail files, or - for one mail (or an mbox) on stdin.

Re-running an import adds nothing: every mail is deduplicated by Message-ID
(or a hash of its bytes). Mail that cannot be imported is quarantined
("postdesk quarantine list"), never dropped. Ctrl-C (or SIGTERM) stops the
import once the mails in hand are committed; it says how many it got
through and exits 1, and running the same import again imports the rest.

The per-sender cap (import.sender_cap, new tickets a sender may open an hour)
counts at import time, so an archive's regular correspondents reach it within
seconds and the rest of their mail waits in the quarantine. --no-sender-cap
lifts it for this import alone; a daemon on the same configuration keeps it.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if mailbox <= 0 {
				return usageErr(errors.New("--mailbox ID is required"))
			}
			items, closeMail, err := collectMail(args, a.stdin)
			if err != nil {
				return usageErr(err)
			}
			defer closeMail()
			c, err := a.openCore(true, func(cfg *config.Config) {
				if noSenderCap {
					cfg.Import.SenderCap = -1
				}
			})
			if err != nil {
				return err
			}
			defer c.Close()
			if _, ok := c.svc.Mailbox(mailbox); !ok {
				return usageErr(fmt.Errorf("mailbox %d is not configured (check-config lists them)", mailbox))
			}
			p := newProgress(a.stderr, len(items), quiet)
			var sum importSummary
			record := func(label string, res *ticket.Result, err error) {
				switch {
				case err != nil:
					sum.add(ticket.OutcomeFailed)
					p.log("%s: %v", label, err)
				default:
					sum.add(res.Outcome)
					if res.Outcome == ticket.OutcomeQuarantined {
						p.log("%s: quarantined (#%d): %s", label, res.QuarantineID, res.Reason)
					}
				}
				p.step()
			}
			// Mails go to the core in chunks, in their order: ImportBatch
			// parses a chunk on every core and commits it in runs of up to
			// 50 mails, one durable commit a run where Import made one a
			// mail. A chunk the store did not take whole is finished one
			// mail at a time, so that each mail still gets its own outcome.
			interrupted := func() error {
				p.done()
				fmt.Fprintf(a.stdout, "interrupted after %d of %d mails: %s\n", p.n, len(items), sum)
				return &exitError{exitFailure, errors.New("import interrupted; run it again to import the rest (mails already imported are skipped as duplicates)")}
			}
			for next := 0; next < len(items); {
				if cmd.Context().Err() != nil {
					return interrupted()
				}
				var reqs []ticket.ImportRequest
				var labels []string
				for size := 0; next < len(items) && len(reqs) < importChunkMails && size < importChunkBytes; next++ {
					it := items[next]
					raw, err := it.read()
					if err != nil {
						record(it.label, nil, err)
						continue
					}
					size += len(raw)
					reqs = append(reqs, ticket.ImportRequest{MailboxID: mailbox, Raw: raw, Source: ticket.SourceCLI})
					labels = append(labels, it.label)
				}
				results, err := c.svc.ImportBatch(cmd.Context(), reqs)
				for i, res := range results {
					record(labels[i], res, nil)
				}
				if err != nil {
					for i := len(results); i < len(reqs) && cmd.Context().Err() == nil; i++ {
						res, err := c.svc.Import(cmd.Context(), reqs[i])
						record(labels[i], res, err)
					}
				}
			}
			if p.n < len(items) {
				// Interrupted during the last chunk: its rest was not tried.
				return interrupted()
			}
			p.done()
			fmt.Fprintf(a.stdout, "imported %d mails into mailbox %d: %s\n", len(items), mailbox, sum)
			if sum.n[ticket.OutcomeFailed] > 0 {
				return &exitError{exitFailure, fmt.Errorf("%d mails failed; run the import again to retry them", sum.n[ticket.OutcomeFailed])}
			}
			return nil
		},
	}
	cmd.Flags().Int64VarP(&mailbox, "mailbox", "m", 0, "MailboxId to import into (required)")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "no progress output")
	cmd.Flags().BoolVar(&noSenderCap, "no-sender-cap", false, "do not apply import.sender_cap to this import (an archive or a migration)")
	return cmd
}

// importChunkMails and importChunkBytes bound what postdesk import hands the
// core at once (and holds in memory): up to 200 mails, and no more once
// they hold 64 MiB.
const (
	importChunkMails = 200
	importChunkBytes = 64 << 20
)

type importSummary struct{ n map[ticket.Outcome]int }

func (s *importSummary) add(o ticket.Outcome) {
	if s.n == nil {
		s.n = map[ticket.Outcome]int{}
	}
	s.n[o]++
}

func (s importSummary) String() string {
	var parts []string
	for _, o := range ticket.Outcomes {
		name := string(o)
		if o == ticket.OutcomeDuplicate {
			name = "duplicates"
		}
		parts = append(parts, fmt.Sprintf("%d %s", s.n[o], name))
	}
	return strings.Join(parts, ", ")
}

// progress shows a bar with rate and ETA on a terminal, and plain log lines
// every 10 seconds otherwise.
type progress struct {
	w           io.Writer
	total, n    int
	tty, quiet  bool
	start, last time.Time
}

func newProgress(w io.Writer, total int, quiet bool) *progress {
	p := &progress{w: w, total: total, quiet: quiet, start: time.Now()}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

func (p *progress) step() {
	p.n++
	if p.quiet {
		return
	}
	now := time.Now()
	interval := 10 * time.Second
	if p.tty {
		interval = 100 * time.Millisecond
	}
	if now.Sub(p.last) < interval && p.n != p.total {
		return
	}
	p.last = now
	elapsed := now.Sub(p.start).Seconds()
	rate := float64(p.n) / max(elapsed, 1e-9)
	eta := time.Duration(float64(p.total-p.n)/max(rate, 1e-9)) * time.Second
	eta = eta.Round(time.Second)
	if !p.tty {
		fmt.Fprintf(p.w, "import: %d/%d mails, %.1f mails/s, eta %s\n", p.n, p.total, rate, eta)
		return
	}
	const width = 30
	filled := width * p.n / max(p.total, 1)
	fmt.Fprintf(p.w, "\r[%s%s] %d/%d %3d%% %.1f mails/s ETA %s   ",
		strings.Repeat("#", filled), strings.Repeat(" ", width-filled), p.n, p.total, 100*p.n/max(p.total, 1), rate, eta)
}

// log prints one line without tearing the bar.
func (p *progress) log(format string, args ...any) {
	if p.tty && !p.quiet {
		fmt.Fprint(p.w, "\r\033[K")
	}
	fmt.Fprintf(p.w, format+"\n", args...)
}

func (p *progress) done() {
	if p.tty && !p.quiet {
		fmt.Fprintln(p.w)
	}
}
