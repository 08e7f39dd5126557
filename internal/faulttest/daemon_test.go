package faulttest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/postdesk/postdesk/daemon"
	"github.com/postdesk/postdesk/daemon/config"
	"github.com/postdesk/postdesk/store"
)

// createPath is the API route of CreateTicketFromMailData.
const createPath = "/api/v1/Agents/CustomerService/CreateTicketFromMailData"

// testDaemon is an in-process daemon (daemon.Open + Run) serving HTTP on a
// loopback port: the same composition "postdesk serve" runs, with its log
// in a buffer at debug level.
type testDaemon struct {
	t       testing.TB
	dir     string
	cfgPath string
	dbPath  string
	base    string
	token   string // a Bearer token of an admin
	logs    *syncBuffer

	d      *daemon.Daemon
	cancel context.CancelFunc
	done   chan error
}

// daemonConfig is what a test varies in the configuration file.
type daemonConfig struct {
	// Mailboxes is the YAML list under "mailboxes:" (each item indented by
	// two spaces); empty: one manual-import mailbox 607.
	Mailboxes string
	// Extra is appended at top level (import:, api:, …).
	Extra string
	// StorePath overrides the SQLite file (default dir/postdesk.db).
	StorePath string
}

// startDaemon writes a configuration, issues a Bearer token in the store
// and runs the daemon until the test ends.
func startDaemon(t testing.TB, dc daemonConfig) *testDaemon {
	t.Helper()
	dir := t.TempDir()
	td := &testDaemon{t: t, dir: dir, cfgPath: filepath.Join(dir, "postdesk.yaml"), logs: &syncBuffer{}}
	td.dbPath = dc.StorePath
	if td.dbPath == "" {
		td.dbPath = filepath.Join(dir, "postdesk.db")
	}
	listen := freeAddr(t)
	td.base = "http://" + listen
	td.writeConfig(listen, dc)

	st, err := store.Open(td.dbPath, store.Options{Logger: discardLog()})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	td.token, err = st.CreateToken(context.Background(), "faulttest", store.TokenBearer, store.RoleAdmin, time.Time{})
	if err != nil {
		t.Fatalf("create token: %v", err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	td.start()
	t.Cleanup(func() {
		td.stop()
		if t.Failed() {
			t.Logf("daemon log:\n%s", tail(td.logs.String(), 8000))
		}
	})
	return td
}

func (td *testDaemon) writeConfig(listen string, dc daemonConfig) {
	mbs := dc.Mailboxes
	if mbs == "" {
		mbs = "  - {id: 607, name: support, address: support@example.com, category: Technical Support, priority: Medium, owner: Sarah Johnson}\n"
	}
	cfg := fmt.Sprintf("http:\n  listen: %s\nstore:\n  path: %s\nlog:\n  level: debug\nimport:\n  sender_cap: -1\n%smailboxes:\n%s",
		listen, td.dbPath, dc.Extra, mbs)
	if err := os.WriteFile(td.cfgPath, []byte(cfg), 0o600); err != nil {
		td.t.Fatal(err)
	}
}

// rewrite replaces the configuration file's mailboxes and reloads (SIGHUP).
func (td *testDaemon) reload(dc daemonConfig) {
	td.t.Helper()
	td.writeConfig(strings.TrimPrefix(td.base, "http://"), dc)
	if err := td.d.Reload(); err != nil {
		td.t.Fatalf("reload: %v", err)
	}
}

func (td *testDaemon) start() {
	t := td.t
	t.Helper()
	cfg, err := config.Load(td.cfgPath, nil)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	log := slog.New(slog.NewTextHandler(td.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	td.d, err = daemon.Open(daemon.Options{
		Config:          cfg,
		Reload:          func() (*config.Config, error) { return config.Load(td.cfgPath, nil) },
		Version:         "faulttest",
		Logger:          log,
		Notify:          func(string) error { return nil },
		ShutdownTimeout: 10 * time.Second,
	})
	if err != nil {
		t.Fatalf("daemon.Open: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	td.cancel = cancel
	td.done = make(chan error, 1)
	go func() { td.done <- td.d.Run(ctx) }()
	td.waitHealthy()
}

// stop shuts the daemon down gracefully; it is idempotent.
func (td *testDaemon) stop() {
	if td.cancel == nil {
		return
	}
	td.cancel()
	td.cancel = nil
	select {
	case err := <-td.done:
		if err != nil {
			td.t.Errorf("daemon.Run: %v", err)
		}
	case <-time.After(30 * time.Second):
		td.t.Errorf("daemon did not stop within 30s")
	}
}

// restart stops the daemon and starts it again on the same files.
func (td *testDaemon) restart() {
	td.stop()
	td.start()
}

func (td *testDaemon) waitHealthy() {
	td.t.Helper()
	waitUntil(td.t, 20*time.Second, "/healthz 200", func() (bool, error) {
		resp, err := http.Get(td.base + "/healthz")
		if err != nil {
			return false, nil
		}
		resp.Body.Close()
		return resp.StatusCode == 200, nil
	})
}

// healthy fails the test unless /healthz answers 200 and a normal mail
// still imports (200, a ticket id).
func (td *testDaemon) healthy(tag string) {
	td.t.Helper()
	resp, err := http.Get(td.base + "/healthz")
	if err != nil {
		td.t.Fatalf("after %s: /healthz: %v", tag, err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		td.t.Fatalf("after %s: /healthz %d", tag, resp.StatusCode)
	}
	raw := testMail(fmt.Sprintf("healthy-%s-%d@faulttest.example", sanitizeTag(tag), time.Now().UnixNano()), "still healthy", "ann@acme.example")
	code, body := td.postMail(607, raw)
	if code != 200 || !bytes.Contains(body, []byte(`"TicketId":`)) {
		td.t.Fatalf("after %s: a normal import answered %d %.300s", tag, code, body)
	}
}

func sanitizeTag(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, strings.ToLower(s))
}

// postMail imports raw through the JSON API.
func (td *testDaemon) postMail(mailbox int64, raw []byte) (int, []byte) {
	body, err := json.Marshal(map[string]any{"MailboxId": mailbox, "Data": string(raw)})
	if err != nil {
		td.t.Fatal(err)
	}
	return td.do("POST", createPath, "application/json", bytes.NewReader(body), nil)
}

// do sends a request with the admin token unless hdr sets Authorization.
func (td *testDaemon) do(method, path, ctype string, body io.Reader, hdr map[string]string) (int, []byte) {
	td.t.Helper()
	req, err := http.NewRequest(method, td.base+path, body)
	if err != nil {
		td.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("Authorization", "Bearer "+td.token)
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	client := &http.Client{Timeout: 2 * time.Minute}
	resp, err := client.Do(req)
	if err != nil {
		td.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		td.t.Fatalf("%s %s: read: %v", method, path, err)
	}
	return resp.StatusCode, b
}

// metric sums the samples of name whose labels include every k="v" of
// labels (given as k, v pairs), as /metrics exposes them.
func (td *testDaemon) metric(name string, labels ...string) float64 {
	td.t.Helper()
	code, body := td.do("GET", "/metrics", "", nil, map[string]string{"Authorization": ""})
	if code != 200 {
		td.t.Fatalf("/metrics: %d", code)
	}
	return sumMetric(body, name, labels...)
}

func sumMetric(exposition []byte, name string, labels ...string) float64 {
	var sum float64
	sc := bufio.NewScanner(bytes.NewReader(exposition))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name) || len(line) == len(name) || (line[len(name)] != '{' && line[len(name)] != ' ') {
			continue
		}
		match := true
		for i := 0; i+1 < len(labels); i += 2 {
			if !strings.Contains(line, labels[i]+`="`+labels[i+1]+`"`) {
				match = false
			}
		}
		if !match {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err == nil {
			sum += v
		}
	}
	return sum
}

// contents stops the daemon and reads what the store holds: how often each
// Message-ID is stored, and the quarantine.
func (td *testDaemon) contents() (ids map[string]int, quarantined int) {
	td.t.Helper()
	td.stop()
	return storeContents(td.t, td.dbPath)
}

// storeContents opens a store that no daemon uses and counts Message-IDs.
func storeContents(t testing.TB, path string) (ids map[string]int, quarantined int) {
	t.Helper()
	st, err := store.Open(path, store.Options{Logger: discardLog()})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	defer st.Close()
	ctx := context.Background()
	ids = map[string]int{}
	if err := st.EachTicket(ctx, store.ListOptions{}, func(ts store.TicketSummary) error {
		for _, id := range ts.MessageIDs {
			ids[strings.Trim(id, "<>")]++
		}
		return nil
	}); err != nil {
		t.Fatalf("list tickets: %v", err)
	}
	q, err := st.QuarantineCount(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return ids, q
}

// lostAndDuplicated checks each sent Message-ID against how often the store
// holds it (storeContents, listTickets) and reports every miss.
func lostAndDuplicated(t testing.TB, stored map[string]int, sent []string) (lost, dup int) {
	t.Helper()
	for _, id := range sent {
		switch c := stored[id]; {
		case c == 0:
			lost++
			t.Errorf("Message-ID %s is in no ticket", id)
		case c > 1:
			dup++
			t.Errorf("Message-ID %s is stored %d times", id, c)
		}
	}
	return lost, dup
}

func discardLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// testMail is a small well-formed mail.
func testMail(messageID, subject, from string) []byte {
	return []byte("From: " + from + "\r\nTo: support@example.com\r\nSubject: " + subject +
		"\r\nDate: Thu, 26 Nov 2026 10:00:00 +0000\r\nMessage-ID: <" + messageID +
		">\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello from the fault tests.\r\n")
}
