package faulttest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binaryBuild builds cmd/postdesk once per test binary (without -race: the
// crash test wants throughput, and the race detector has its own tests).
type binaryBuild struct {
	once sync.Once
	dir  string
	path string
	err  error
}

var postdesk = &binaryBuild{}

func (b *binaryBuild) get(t testing.TB) string {
	t.Helper()
	b.once.Do(func() {
		b.dir, b.err = os.MkdirTemp("", "postdesk-faulttest-bin-")
		if b.err != nil {
			return
		}
		// Readable by every user: TestStoreReadOnly runs it unprivileged.
		if b.err = os.Chmod(b.dir, 0o755); b.err != nil {
			return
		}
		b.path = filepath.Join(b.dir, "postdesk")
		cmd := exec.Command("go", "build", "-ldflags", "-X main.version=faulttest", "-o", b.path, "github.com/postdesk/postdesk/cmd/postdesk")
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build cmd/postdesk: %w\n%s", err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

func (b *binaryBuild) cleanup() {
	if b.dir != "" {
		os.RemoveAll(b.dir)
	}
}

// cleanEnv keeps the developer's POSTDESK_* settings away from the binary.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "POSTDESK_") && !strings.HasPrefix(kv, "NOTIFY_SOCKET=") {
			env = append(env, kv)
		}
	}
	return env
}

// runCLI runs a one-shot subcommand and returns stdout; a non-zero exit
// fails the test.
func runCLI(t testing.TB, stdin []byte, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, postdesk.get(t), args...)
	cmd.Env = cleanEnv()
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("postdesk %s: %v\n%s", strings.Join(args, " "), err, errOut.String())
	}
	return out.String()
}

// ticketLine is one line of "postdesk tickets list --json".
type ticketLine struct {
	TicketID     int64    `json:"TicketId"`
	Title        string   `json:"Title"`
	MailboxID    int64    `json:"MailboxId"`
	Status       string   `json:"Status"`
	MessageCount int      `json:"MessageCount"`
	MessageIDs   []string `json:"MessageIds"`
}

// listTickets runs "tickets list --json" and counts every Message-ID.
func listTickets(t testing.TB, cfg string) (tickets []ticketLine, ids map[string]int) {
	t.Helper()
	out := runCLI(t, nil, "tickets", "list", "--json", "--config", cfg)
	ids = map[string]int{}
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var l ticketLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("tickets list line %q: %v", sc.Text(), err)
		}
		tickets = append(tickets, l)
		for _, id := range l.MessageIDs {
			ids[strings.Trim(id, "<>")]++
		}
	}
	return tickets, ids
}

// proc is a running "postdesk serve".
type proc struct {
	cmd  *exec.Cmd
	base string
	logs *syncBuffer
	done chan struct{}
	err  error
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startServe starts "postdesk serve" and waits for /healthz. Its output
// goes to logs (shared across restarts, so a test can grep a whole run).
func startServe(t testing.TB, cfg, listen string, logs *syncBuffer) *proc {
	t.Helper()
	return startServeAs(t, nil, cfg, listen, logs)
}

// startServeAs is startServe as another user (nil: this process's).
func startServeAs(t testing.TB, cred *syscall.Credential, cfg, listen string, logs *syncBuffer) *proc {
	t.Helper()
	cmd := exec.Command(postdesk.get(t), "serve", "--config", cfg)
	cmd.Env = cleanEnv()
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	p := &proc{cmd: cmd, base: "http://" + listen, logs: logs, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() { p.kill() })
	waitUntil(t, 30*time.Second, "daemon healthy", func() (bool, error) {
		select {
		case <-p.done:
			return false, fmt.Errorf("daemon exited: %v\n%s", p.err, tail(logs.String(), 4000))
		default:
		}
		resp, err := http.Get(p.base + "/healthz")
		if err != nil {
			return false, nil
		}
		resp.Body.Close()
		return resp.StatusCode == 200, nil
	})
	return p
}

// kill sends SIGKILL and reaps the process.
func (p *proc) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// stop sends SIGTERM and waits for a clean exit.
func (p *proc) stop(t testing.TB) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		var ee *exec.ExitError
		if p.err != nil && !errors.As(p.err, &ee) {
			t.Fatalf("daemon: %v", p.err)
		}
		if p.err != nil {
			t.Fatalf("daemon exit after SIGTERM: %v\n%s", p.err, tail(p.logs.String(), 4000))
		}
	case <-time.After(30 * time.Second):
		t.Fatal("daemon did not stop within 30s of SIGTERM")
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// waitUntil polls cond until it holds, returns an error, or d passes.
func waitUntil(t testing.TB, d time.Duration, what string, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		ok, err := cond()
		if err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(25 * time.Millisecond) // polling interval of a condition, not a wait for time
	}
}
