package main

import (
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/postdesk/postdesk/store"
	"github.com/postdesk/postdesk/ticket"
)

func newQuarantineCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "quarantine",
		Short: "Mail that could not be imported: list, show, retry, drop",
		Long: `Mail that could not be imported waits in the quarantine with its raw bytes
and the reason. Fix the cause (configuration, sender cap, disk space), then
retry: the mail is imported once and leaves the quarantine.`,
	}
	list := &cobra.Command{
		Use: "list", Short: "List quarantined mail", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.openCore(false)
			if err != nil {
				return err
			}
			defer c.Close()
			items, err := c.store.ListQuarantine(cmd.Context())
			if err != nil {
				return err
			}
			if len(items) == 0 {
				fmt.Fprintln(a.stdout, "The quarantine is empty.")
				return nil
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tMAILBOX\tSOURCE\tWHEN\tSIZE\tRETRY\tFROM\tSUBJECT\tREASON")
			for _, q := range items {
				fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", q.ID, q.MailboxID, q.Source,
					q.CreatedAt.Local().Format("2006-01-02 15:04"), q.Size, yesNo(q.Retryable), q.Sender, truncate(q.Subject, 40), q.Reason)
			}
			return tw.Flush()
		},
	}
	var raw bool
	show := &cobra.Command{
		Use: "show ID", Short: "Show one quarantined mail (--raw: its bytes)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withStoreID(args[0], func(st *store.Store, id int64) error {
				q, err := st.QuarantineItem(cmd.Context(), id)
				if err != nil {
					return err
				}
				if raw {
					_, err := a.stdout.Write(q.Raw)
					return err
				}
				fmt.Fprintf(a.stdout, "Quarantine item %d\n  Mailbox:    %d\n  Source:     %s\n  When:       %s\n  Reason:     %s\n  Retryable:  %s\n  From:       %s\n  Subject:    %s\n  Message-ID: <%s>\n  Size:       %d bytes (%d stored)\n",
					q.ID, q.MailboxID, q.Source, q.CreatedAt.Local().Format(time.RFC1123Z), q.Reason, yesNo(q.Retryable),
					q.Sender, q.Subject, q.MessageID, q.Size, len(q.Raw))
				fmt.Fprintf(a.stdout, "\n  postdesk quarantine show --raw %d   # the raw mail\n  postdesk quarantine retry %d       # import it again\n", q.ID, q.ID)
				return nil
			})
		},
	}
	show.Flags().BoolVar(&raw, "raw", false, "write the raw mail to stdout")
	retry := &cobra.Command{
		Use: "retry ID...", Short: "Import quarantined mail again (bypasses the sender cap)", Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.openCore(true)
			if err != nil {
				return err
			}
			defer c.Close()
			failed := 0
			for _, arg := range args {
				id, err := parseID(arg)
				if err != nil {
					return err
				}
				res, err := c.svc.RetryQuarantine(cmd.Context(), id)
				switch {
				case err != nil:
					failed++
					fmt.Fprintf(a.stdout, "%d: %v\n", id, err)
				case res.Outcome == ticket.OutcomeQuarantined:
					failed++
					fmt.Fprintf(a.stdout, "%d: still quarantined: %s\n", id, res.Reason)
				case res.Info.TicketID > 0:
					fmt.Fprintf(a.stdout, "%d: %s, ticket %d (%s)\n", id, res.Outcome, res.Info.TicketID, res.Info.Title)
				default:
					fmt.Fprintf(a.stdout, "%d: %s %s\n", id, res.Outcome, res.Reason)
				}
			}
			if failed > 0 {
				return &exitError{exitFailure, fmt.Errorf("%d of %d not imported", failed, len(args))}
			}
			return nil
		},
	}
	drop := &cobra.Command{
		Use: "drop ID...", Short: "Delete quarantined mail for good", Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.openCore(false)
			if err != nil {
				return err
			}
			defer c.Close()
			for _, arg := range args {
				id, err := parseID(arg)
				if err != nil {
					return err
				}
				if err := c.store.DropQuarantine(cmd.Context(), id); err != nil {
					return fmt.Errorf("drop %d: %w", id, err)
				}
				fmt.Fprintf(a.stdout, "%d: dropped\n", id)
			}
			return nil
		},
	}
	cmd.AddCommand(list, show, retry, drop)
	return cmd
}

func parseID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, usageErr(fmt.Errorf("%q is not an id", s))
	}
	return id, nil
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
