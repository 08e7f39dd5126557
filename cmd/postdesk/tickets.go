package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/postdesk/postdesk/store"
)

func newTicketsCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{Use: "tickets", Short: "List and show stored tickets"}
	var asJSON bool
	var mailbox int64
	var limit int
	list := &cobra.Command{
		Use:   "list",
		Short: "List tickets (--json: one JSON object per line)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.openCore(false)
			if err != nil {
				return err
			}
			defer c.Close()
			opts := store.ListOptions{MailboxID: mailbox, Limit: limit}
			if asJSON {
				// Streamed: a store with a million tickets is fine.
				enc := json.NewEncoder(a.stdout)
				enc.SetEscapeHTML(false)
				return c.store.EachTicket(cmd.Context(), opts, func(t store.TicketSummary) error {
					ids := t.MessageIDs
					if ids == nil {
						ids = []string{}
					}
					return enc.Encode(ticketLine{t.ID, t.Title, t.MailboxID, string(t.Status), t.MessageCount, ids})
				})
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tMAILBOX\tSTATUS\tMSGS\tCREATED\tOWNER\tTITLE")
			err = c.store.EachTicket(cmd.Context(), opts, func(t store.TicketSummary) error {
				_, err := fmt.Fprintf(tw, "%d\t%d\t%s\t%d\t%s\t%s\t%s\n", t.ID, t.MailboxID, t.Status, t.MessageCount,
					t.CreatedAt.Local().Format("2006-01-02 15:04"), t.Owner, truncate(t.Title, 60))
				return err
			})
			if err != nil {
				return err
			}
			return tw.Flush()
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON lines: TicketId, Title, MailboxId, Status, MessageCount, MessageIds")
	list.Flags().Int64Var(&mailbox, "mailbox", 0, "only this MailboxId")
	list.Flags().IntVar(&limit, "limit", 0, "at most this many tickets (0: all)")

	show := &cobra.Command{
		Use:   "show ID",
		Short: "Show a ticket with its messages",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withStoreID(strings.TrimPrefix(args[0], "#"), func(st *store.Store, id int64) error {
				d, err := st.TicketDetail(cmd.Context(), id)
				if err != nil {
					return err
				}
				printTicket(a.stdout, d)
				return nil
			})
		},
	}
	raw := &cobra.Command{
		Use:   "raw MESSAGE-ID",
		Short: "Write a stored message's raw mail, byte for byte, to stdout",
		Long: `Write a stored message's raw mail to stdout exactly as it came. MESSAGE-ID
is the message's number ("#12" in "tickets show"). Attachments are kept
once, decoded; their base64 in the raw mail is rebuilt from them.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withStoreID(strings.TrimPrefix(args[0], "#"), func(st *store.Store, id int64) error {
				b, err := st.RawMessage(cmd.Context(), id)
				if err != nil {
					return err
				}
				_, err = a.stdout.Write(b)
				return err
			})
		},
	}
	cmd.AddCommand(list, show, raw)
	return cmd
}

// ticketLine is the JSON-lines shape of "tickets list --json" (DESIGN.md).
type ticketLine struct {
	TicketID     int64    `json:"TicketId"`
	Title        string   `json:"Title"`
	MailboxID    int64    `json:"MailboxId"`
	Status       string   `json:"Status"`
	MessageCount int      `json:"MessageCount"`
	MessageIDs   []string `json:"MessageIds"`
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// printTicket writes a ticket and its messages as "tickets show" shows them.
func printTicket(w io.Writer, d *store.TicketDetail) {
	fmt.Fprintf(w, "Ticket %d: %s\n", d.ID, d.Title)
	fmt.Fprintf(w, "  Mailbox:   %d\n  Status:    %s\n  Category:  %s\n  Priority:  %s\n  Owner:     %s\n",
		d.MailboxID, d.Status, d.Category, d.Priority, d.Owner)
	if d.Person != nil {
		fmt.Fprintf(w, "  Person:    %s <%s>\n", d.Person.Name, d.Person.Email)
	}
	if d.Company != nil {
		fmt.Fprintf(w, "  Company:   %s\n", d.Company.Name)
	}
	if d.Automatic {
		fmt.Fprintf(w, "  Automatic: yes (opened by a robot, bounce or auto-reply)\n")
	}
	fmt.Fprintf(w, "  Created:   %s\n", d.CreatedAt.Local().Format(time.RFC1123Z))
	for i, m := range d.Messages {
		fmt.Fprintf(w, "\n--- message %d/%d (#%d, %s, %d bytes) ---\n", i+1, len(d.Messages), m.ID, m.Source, m.RawSize)
		fmt.Fprintf(w, "From:       %s\nSubject:    %s\nMessage-ID: <%s>\n", m.From, m.Subject, m.MessageID)
		if !m.Date.IsZero() {
			fmt.Fprintf(w, "Date:       %s\n", m.Date.Format(time.RFC1123Z))
		}
		for _, at := range m.Attachments {
			fmt.Fprintf(w, "Attachment: %s (%s, %d bytes)\n", at.Filename, at.ContentType, at.Size)
		}
		fmt.Fprintf(w, "\n%s\n", truncate(m.TextBody, 4000))
	}
}
