package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// newManCmd prints a man page (roff) generated from the command tree, so the
// page never drifts from the CLI.
func newManCmd(a *app, root *cobra.Command) *cobra.Command {
	return &cobra.Command{
		Use:    "man",
		Short:  "Print the postdesk(1) man page (roff)",
		Args:   cobra.NoArgs,
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			writeMan(a.stdout, root)
			return nil
		},
	}
}

func writeMan(w io.Writer, root *cobra.Command) {
	fmt.Fprintf(w, ".TH POSTDESK 1 %q %q \"postdesk manual\"\n", time.Now().Format("2006-01-02"), "postdesk "+version)
	fmt.Fprintf(w, ".SH NAME\npostdesk \\- %s\n", roff(root.Short))
	fmt.Fprintf(w, ".SH SYNOPSIS\n.B postdesk\n[\\-\\-config FILE] COMMAND [ARGS]\n")
	fmt.Fprintf(w, ".SH DESCRIPTION\n%s\n", roff(root.Long))
	fmt.Fprintf(w, ".SH GLOBAL OPTIONS\n")
	manFlags(w, root.PersistentFlags())
	fmt.Fprintf(w, ".SH COMMANDS\n")
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if sub.Hidden || sub.Name() == "help" {
				continue
			}
			if sub.Runnable() {
				fmt.Fprintf(w, ".SS %s\n%s\n", roff(strings.TrimPrefix(sub.CommandPath(), "postdesk ")+" "+strings.TrimPrefix(sub.Use, sub.Name())), roff(sub.Short))
				if sub.Long != "" {
					fmt.Fprintf(w, ".PP\n%s\n", roff(sub.Long))
				}
				manFlags(w, sub.LocalFlags())
			}
			walk(sub)
		}
	}
	walk(root)
	fmt.Fprintf(w, ".SH EXIT STATUS\n0 success; 1 runtime failure; 2 usage or configuration error; deliver: 65 permanent rejection, 75 temporary failure.\n")
	fmt.Fprintf(w, ".SH ENVIRONMENT\nEvery configuration key may be set as POSTDESK_<KEY> (for example POSTDESK_HTTP_LISTEN). STATE_DIRECTORY and CREDENTIALS_DIRECTORY are honoured as set by systemd.\n")
}

func manFlags(w io.Writer, fs *pflag.FlagSet) {
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Hidden || f.Name == "help" {
			return
		}
		fmt.Fprintf(w, ".TP\n\\fB\\-\\-%s\\fR", roff(f.Name))
		if f.Value.Type() != "bool" {
			fmt.Fprintf(w, " \\fI%s\\fR", f.Value.Type())
		}
		fmt.Fprintf(w, "\n%s\n", roff(f.Usage))
	})
}

// roff escapes text for a man page body.
func roff(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	s = strings.ReplaceAll(s, "-", `\-`)
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(line, ".") || strings.HasPrefix(line, "'") {
			line = `\&` + line
		}
		if strings.TrimSpace(line) == "" {
			line = ".PP"
		}
		b.WriteString(line + "\n")
	}
	return strings.TrimRight(b.String(), "\n")
}
