package faulttest

import (
	"bytes"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestCLIImportInterrupted stops "postdesk import" with SIGINT (Ctrl-C)
// while it imports a Maildir: between two chunks of the import, and in its
// only chunk, after the first of its commits. Either way the import says
// it was interrupted and how far it got, exits non-zero, the store holds
// exactly the tickets it reported, and the same import run again adds
// exactly the rest.
func TestCLIImportInterrupted(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		mails int
		size  int // bytes of body a mail
		// The signal goes once this many tickets are committed, which
		// the import must have got through.
		committed int
	}{
		// Chunks of 200 small mails: the signal comes after the first.
		{name: "many chunks", mails: 2000, size: 8 << 10, committed: 200},
		// One chunk (199 mails, 62 MiB), committed in runs of 50: the
		// signal comes after the first run, the rest of the chunk is
		// never tried.
		{name: "in the last chunk", mails: 199, size: 320 << 10, committed: 50},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			db := filepath.Join(dir, "postdesk.db")
			cfg := filepath.Join(dir, "postdesk.yaml")
			conf := fmt.Sprintf("store:\n  path: %s\nimport:\n  sender_cap: -1\nmailboxes:\n  - {id: 607, name: support}\n", db)
			if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
				t.Fatal(err)
			}
			md := filepath.Join(dir, "Maildir")
			for _, sub := range []string{"cur", "new", "tmp"} {
				if err := os.MkdirAll(filepath.Join(md, sub), 0o700); err != nil {
					t.Fatal(err)
				}
			}
			for i := range tc.mails {
				raw := bigMail(fmt.Sprintf("cli-int-%d@faulttest.example", i), tc.size)
				if err := os.WriteFile(filepath.Join(md, "cur", fmt.Sprintf("%d.host:2,S", 1700000000+i)), raw, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			// The first import, stopped once its commits have begun. Should
			// it end before the signal (a starved test process can miss
			// the window), it is tried again on a fresh store.
			var out, errOut bytes.Buffer
			var err error
			for attempt := 1; ; attempt++ {
				os.Remove(db)
				os.Remove(db + "-wal")
				os.Remove(db + "-shm")
				runCLI(t, nil, "user", "list", "--config", cfg) // creates the store
				out.Reset()
				errOut.Reset()
				var interrupted bool
				interrupted, err = importUntil(t, cfg, md, db, tc.committed, tc.mails, &out, &errOut)
				if interrupted {
					break
				}
				if attempt == 3 {
					t.Fatalf("the import ended before it was interrupted, three times (%v): %s\n%s", err, out.String(), tail(errOut.String(), 2000))
				}
				t.Logf("attempt %d: the import ended before the signal; again", attempt)
			}
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 1 {
				t.Fatalf("interrupted import: %v, want exit status 1\n%s\n%s", err, out.String(), tail(errOut.String(), 2000))
			}
			var tried, total, created, appended, dups, ignored, quarantined, failed int
			if _, err := fmt.Sscanf(out.String(), "interrupted after %d of %d mails: %d created, %d appended, %d duplicates, %d ignored, %d quarantined, %d failed",
				&tried, &total, &created, &appended, &dups, &ignored, &quarantined, &failed); err != nil {
				t.Fatalf("interrupted import printed %q (%v)\n%s", out.String(), err, tail(errOut.String(), 2000))
			}
			t.Logf("interrupted after %d of %d mails: %d created", tried, total, created)
			if total != tc.mails || tried < tc.committed || tried >= total || created != tried || appended+dups+ignored+quarantined+failed != 0 {
				t.Fatalf("interrupted import: %q; want %d to %d mails tried, each created", out.String(), tc.committed, tc.mails-1)
			}
			if !strings.Contains(errOut.String(), "import interrupted; run it again") {
				t.Errorf("stderr does not say what to do:\n%s", tail(errOut.String(), 2000))
			}
			tickets, ids := listTickets(t, cfg)
			if len(tickets) != created || len(ids) != created {
				t.Fatalf("%d tickets with %d Message-IDs stored, the import said %d created", len(tickets), len(ids), created)
			}

			// The same import again adds exactly the rest.
			again := runCLI(t, nil, "import", "-q", "--config", cfg, "--mailbox", "607", md)
			want := fmt.Sprintf("imported %d mails into mailbox 607: %d created, 0 appended, %d duplicates, 0 ignored, 0 quarantined, 0 failed\n", tc.mails, tc.mails-created, created)
			if again != want {
				t.Fatalf("the import run again printed %q, want %q", again, want)
			}
			tickets, ids = listTickets(t, cfg)
			if len(tickets) != tc.mails || len(ids) != tc.mails {
				t.Errorf("after both imports: %d tickets, %d Message-IDs; want %d each", len(tickets), len(ids), tc.mails)
			}
			for id, n := range ids {
				if n != 1 {
					t.Errorf("%s stored %d times", id, n)
				}
			}
		})
	}
}

// importUntil runs "postdesk import" of md and sends it SIGINT once the
// store at db holds committed tickets (read through a connection of its
// own, as another process would). It reports whether the signal went
// before the import ended, and the import's exit; an import that ended
// first, or that had imported all total mails when the signal came and
// says so, was not interrupted (the caller tries again).
func importUntil(t *testing.T, cfg, md, db string, committed, total int, out, errOut *bytes.Buffer) (bool, error) {
	t.Helper()
	rdb, err := sql.Open("sqlite3", "file:"+db+"?_busy_timeout=5000&_query_only=on")
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	cmd := exec.Command(postdesk.get(t), "import", "-q", "--config", cfg, "--mailbox", "607", md)
	cmd.Env = cleanEnv()
	cmd.Stdout, cmd.Stderr = out, errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(time.Minute)
	for {
		select {
		case err := <-exited:
			return false, err
		default:
		}
		var n int
		if err := rdb.QueryRow(`SELECT count(*) FROM tickets`).Scan(&n); err != nil {
			cmd.Process.Kill()
			t.Fatalf("count tickets: %v", err)
		}
		if n >= committed {
			if err := cmd.Process.Signal(syscall.SIGINT); errors.Is(err, os.ErrProcessDone) {
				return false, <-exited // it ended between the count and the signal
			} else if err != nil {
				t.Fatal(err)
			}
			err := <-exited
			if err == nil && strings.HasPrefix(out.String(), fmt.Sprintf("imported %d mails", total)) {
				// The signal came after the last mail: a whole import
				// rightly reports success.
				return false, nil
			}
			return true, err
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("not %d tickets within a minute: %s\n%s", committed, out.String(), tail(errOut.String(), 2000))
		}
		time.Sleep(time.Millisecond)
	}
}
