package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/postdesk/postdesk/store"
)

func newUserCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{Use: "user", Short: "API users (Basic authentication)"}
	var role string
	var stdinPW bool
	add := &cobra.Command{
		Use:   "add NAME --password-stdin [--role admin|import]",
		Short: "Add a user; the password is read from stdin and stored as a slow hash",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !stdinPW {
				return usageErr(errors.New("--password-stdin is required (passwords never go on the command line)"))
			}
			r := store.Role(role)
			if !r.Valid() {
				return usageErr(fmt.Errorf("--role %q: want admin or import", role))
			}
			pw, err := readSecretLine(a.stdin)
			if err != nil {
				return usageErr(err)
			}
			c, err := a.openCore(false)
			if err != nil {
				return err
			}
			defer c.Close()
			if err := c.store.CreateUser(cmd.Context(), args[0], r, pw); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "user %s added (role %s)\n", args[0], r)
			return nil
		},
	}
	add.Flags().StringVar(&role, "role", string(store.RoleImport), "role: admin (everything) or import (CreateTicketFromMailData only)")
	add.Flags().BoolVar(&stdinPW, "password-stdin", false, "read the password from stdin")
	list := &cobra.Command{
		Use: "list", Short: "List users", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.openCore(false)
			if err != nil {
				return err
			}
			defer c.Close()
			users, err := c.store.ListUsers(cmd.Context())
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tROLE\tCREATED")
			for _, u := range users {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", u.Name, u.Role, u.CreatedAt.Local().Format("2006-01-02 15:04"))
			}
			return tw.Flush()
		},
	}
	remove := &cobra.Command{
		Use: "remove NAME", Short: "Remove a user", Args: cobra.ExactArgs(1),
		Long: `Remove a user. When the command returns, a daemon running on the same
database no longer accepts the user's password (the command waits the
100 ms for which a daemon trusts its last look at the credentials' state).`,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.openCore(false)
			if err != nil {
				return err
			}
			defer c.Close()
			if err := c.store.RemoveUser(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "user %s removed\n", args[0])
			return nil
		},
	}
	cmd.AddCommand(add, list, remove)
	return cmd
}

func newTokenCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{Use: "token", Short: "API tokens (Bearer and SOTicket)"}
	var kind, role, expires string
	create := &cobra.Command{
		Use:   "create NAME [--kind bearer|soticket] [--role admin|import] [--expires 90d]",
		Short: "Create a token; its secret is printed once, on the last line",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if kind != "bearer" && kind != "soticket" {
				return usageErr(fmt.Errorf("--kind %q: want bearer or soticket", kind))
			}
			r := store.Role(role)
			if !r.Valid() {
				return usageErr(fmt.Errorf("--role %q: want admin or import", role))
			}
			var exp time.Time
			if expires != "" && expires != "never" {
				d, err := parseDays(expires)
				if err != nil {
					return usageErr(fmt.Errorf("--expires: %w", err))
				}
				exp = time.Now().Add(d)
			}
			c, err := a.openCore(false)
			if err != nil {
				return err
			}
			defer c.Close()
			secret, err := c.store.CreateToken(cmd.Context(), args[0], kind, r, exp)
			if err != nil {
				return err
			}
			when := "never expires"
			if !exp.IsZero() {
				when = "expires " + exp.Local().Format(time.RFC1123Z)
			}
			scheme := map[string]string{"bearer": "Bearer", "soticket": "SOTicket"}[kind]
			fmt.Fprintf(a.stdout, "token %s created (%s, role %s, %s); send it as \"Authorization: %s <secret>\".\n", args[0], kind, r, when, scheme)
			fmt.Fprintln(a.stdout, "The secret is shown only this once:")
			fmt.Fprintln(a.stdout, secret)
			return nil
		},
	}
	create.Flags().StringVar(&kind, "kind", "bearer", "bearer or soticket")
	create.Flags().StringVar(&role, "role", string(store.RoleImport), "admin or import")
	create.Flags().StringVar(&expires, "expires", "", `lifetime such as 90d, 12h or "never" (default never)`)
	revoke := &cobra.Command{
		Use: "revoke NAME", Short: "Revoke a token", Args: cobra.ExactArgs(1),
		Long: `Revoke a token. When the command returns, a daemon running on the same
database no longer accepts it (the command waits the 100 ms for which a
daemon trusts its last look at the credentials' state).`,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.openCore(false)
			if err != nil {
				return err
			}
			defer c.Close()
			if err := c.store.RevokeToken(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "token %s revoked\n", args[0])
			return nil
		},
	}
	list := &cobra.Command{
		Use: "list", Short: "List tokens (never their secrets)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.openCore(false)
			if err != nil {
				return err
			}
			defer c.Close()
			toks, err := c.store.ListTokens(cmd.Context())
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tKIND\tROLE\tCREATED\tEXPIRES\tSTATE")
			for _, t := range toks {
				exp, state := "never", "active"
				if !t.ExpiresAt.IsZero() {
					exp = t.ExpiresAt.Local().Format("2006-01-02 15:04")
					if time.Now().After(t.ExpiresAt) {
						state = "expired"
					}
				}
				if t.Revoked {
					state = "revoked"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.Name, t.Kind, t.Role, t.CreatedAt.Local().Format("2006-01-02 15:04"), exp, state)
			}
			return tw.Flush()
		},
	}
	cmd.AddCommand(create, revoke, list)
	return cmd
}

// parseDays is time.ParseDuration plus a "d" (days) unit.
func parseDays(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days <= 0 {
			return 0, fmt.Errorf("%q: want a positive number of days such as 90d", s)
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q: want a duration such as 90d or 12h", s)
	}
	return d, nil
}

// readSecretLine reads the first line of r, without its line ending.
func readSecretLine(r io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, 4096)).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", fmt.Errorf("read password: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("empty password on stdin")
	}
	return line, nil
}
