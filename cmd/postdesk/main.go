// Command postdesk turns e-mail into help-desk tickets: the daemon (serve),
// manual and bulk import, the MTA pipe (deliver) and the operator's tools.
//
// Exit codes: 0 ok, 1 runtime failure, 2 usage or configuration error
// (systemd's RestartPreventExitStatus=2 relies on it), 65 and 75 in deliver.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set by the build (-ldflags "-X main.version=…").
var version = "dev"

// Exit codes.
const (
	exitOK       = 0
	exitFailure  = 1
	exitUsage    = 2
	exitDataErr  = 65 // EX_DATAERR: permanent rejection (deliver)
	exitTempFail = 75 // EX_TEMPFAIL: try again later (deliver)
)

func main() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }

// exitError carries an exit code through cobra.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageErr(err error) error { return &exitError{exitUsage, err} }

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newRootCmd(&app{stdin: stdin, stdout: stdout, stderr: stderr})
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil && ee.err.Error() != "" {
			fmt.Fprintln(stderr, "postdesk:", ee.err)
		}
		return ee.code
	}
	fmt.Fprintln(stderr, "postdesk:", err)
	if isUsage(err) {
		return exitUsage
	}
	return exitFailure
}
