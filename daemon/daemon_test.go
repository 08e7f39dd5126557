package daemon_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/postdesk/postdesk/daemon"
	"github.com/postdesk/postdesk/daemon/config"
	"github.com/postdesk/postdesk/imap/imaptest"
	"github.com/postdesk/postdesk/store"
)

// notes records sd_notify states.
type notes struct {
	mu sync.Mutex
	s  []string
}

func (n *notes) notify(state string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.s = append(n.s, state)
	return nil
}

func (n *notes) has(prefix string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.ContainsFunc(n.s, func(s string) bool { return strings.HasPrefix(s, prefix) })
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func mail(i int) []byte {
	return fmt.Appendf(nil, "From: c%d@acme.example\r\nTo: support@example.com\r\nSubject: mail %d\r\nMessage-ID: <d%d@acme.example>\r\n\r\nbody %d\r\n", i, i, i, i)
}

// mailWithFile is mail i with a 3,000-byte attachment in 76-character
// base64 lines.
func mailWithFile(i int) []byte {
	data := make([]byte, 3000)
	for k := range data {
		data[k] = byte(k * 31)
	}
	enc := base64.StdEncoding.EncodeToString(data)
	var b strings.Builder
	fmt.Fprintf(&b, "From: c%d@acme.example\r\nTo: support@example.com\r\nSubject: mail %d\r\nMessage-ID: <d%d@acme.example>\r\n"+
		"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nbody %d\r\n"+
		"--b\r\nContent-Type: application/pdf; name=f.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n", i, i, i, i)
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n--b--\r\n")
	return []byte(b.String())
}

func imapMailbox(id int64, srv *imaptest.MemServer, user string) config.Mailbox {
	return config.Mailbox{
		ID: id, Name: fmt.Sprintf("mb%d", id), Category: "Support", Priority: "Medium", Owner: "Agent",
		IMAP: &config.IMAP{Host: srv.Host, Port: srv.Port, TLS: config.TLSNone, Auth: config.AuthLogin,
			Username: user, Password: "pw", Folder: "INBOX", AfterImport: config.AfterImportSeen,
			PollInterval: time.Second, BatchSize: 50},
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestDaemonImportsIMAPReloadsAndReportsReadiness(t *testing.T) {
	srv := imaptest.StartMemServer(t, nil)
	srv.AddUser("one", "pw")
	srv.AddUser("two", "pw")
	for i := range 3 {
		if err := srv.Append("one", "INBOX", mail(i)); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	cfg := config.Default()
	cfg.Store.Path = filepath.Join(dir, "postdesk.db")
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.Mailboxes = []config.Mailbox{imapMailbox(10, srv, "one")}
	// A mailbox whose server refuses the password: never ready.
	bad := imapMailbox(11, srv, "two")
	bad.IMAP.Password = "wrong"
	cfg.Mailboxes = append(cfg.Mailboxes, bad)

	var reloadCfg *config.Config
	n := &notes{}
	d, err := daemon.Open(daemon.Options{
		Config:     cfg,
		Reload:     func() (*config.Config, error) { return reloadCfg, nil },
		Notify:     n.notify,
		StaleAfter: 200 * time.Millisecond,
		Version:    "test",
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
		if !n.has("STOPPING=1") {
			t.Error("no STOPPING=1 sent")
		}
	}()
	base := "http://" + d.Addr().String()
	waitFor(t, "READY=1", func() bool { return n.has("READY=1") })

	st, err := store.Open(cfg.Store.Path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	count := func(mailbox int64) int {
		ts, err := st.ListTickets(context.Background(), store.ListOptions{MailboxID: mailbox})
		if err != nil {
			t.Fatal(err)
		}
		return len(ts)
	}
	waitFor(t, "3 tickets from mailbox 10", func() bool { return count(10) == 3 })
	// New mail is picked up while the worker idles.
	if err := srv.Append("one", "INBOX", mail(3)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the 4th ticket", func() bool { return count(10) == 4 })
	// A mail with an attachment comes back byte for byte, its base64 left
	// out of the stored copy and rebuilt from the blob.
	withFile := mailWithFile(4)
	if err := srv.Append("one", "INBOX", withFile); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the 5th ticket", func() bool { return count(10) == 5 })
	var msgID int64
	var holes string
	if err := st.DB().QueryRow(`SELECT id, raw_holes FROM messages WHERE message_id = 'd4@acme.example'`).Scan(&msgID, &holes); err != nil {
		t.Fatal(err)
	}
	if raw, err := st.RawMessage(context.Background(), msgID); err != nil || !bytes.Equal(raw, withFile) || holes == "" {
		t.Errorf("raw message over IMAP: %d bytes, %v, holes %q; want the %d appended, a hole", len(raw), err, holes, len(withFile))
	}
	msgs, err := imaptest.List(srv.Addr, "one", "pw", "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if !m.Seen() {
			t.Errorf("message %d not flagged \\Seen after import", m.UID)
		}
	}

	// /readyz names the broken mailbox.
	waitFor(t, "readyz to name mailbox 11", func() bool {
		code, body := get(t, base+"/readyz")
		return code == 503 && strings.Contains(body, "mailbox 11")
	})

	// Reload: the broken mailbox is fixed; mailbox 12 appears.
	if err := srv.Append("two", "INBOX", mail(100)); err != nil {
		t.Fatal(err)
	}
	next := *cfg
	fixed := imapMailbox(11, srv, "two")
	next.Mailboxes = []config.Mailbox{cfg.Mailboxes[0], fixed, {ID: 12, Name: "manual"}}
	reloadCfg = &next
	if err := d.Reload(); err != nil {
		t.Fatal(err)
	}
	if _, ok := d.Service().Mailbox(12); !ok {
		t.Fatal("mailbox 12 unknown after reload")
	}
	waitFor(t, "the ticket of the repaired mailbox", func() bool { return count(11) == 1 })
	waitFor(t, "readyz 200", func() bool { code, _ := get(t, base+"/readyz"); return code == 200 })

	// A bad reload keeps the running configuration.
	broken := next
	broken.Mailboxes = []config.Mailbox{{ID: -1}}
	reloadCfg = &broken
	if err := d.Reload(); err == nil {
		t.Fatal("reload of an invalid configuration succeeded")
	}
	if _, ok := d.Service().Mailbox(12); !ok {
		t.Fatal("a failed reload dropped the running mailboxes")
	}

	// Per-mailbox metrics of DESIGN.md.
	_, metrics := get(t, base+"/metrics")
	for _, want := range []string{
		`postdesk_imports_total{mailbox="10",outcome="created",source="imap"} 5`,
		`postdesk_imap_connected{mailbox="10"} 1`,
		`postdesk_imap_last_success_timestamp_seconds{mailbox="10"}`,
		`postdesk_imap_backlog_messages{mailbox="10"} 0`,
		`postdesk_build_info{goversion=`,
		`postdesk_quarantine_messages 0`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// TestDashboardAndAlertsUseExportedMetrics checks every postdesk_* metric
// that configs/grafana-dashboard.json and configs/alerts.yml query against
// what a running daemon exports.
func TestDashboardAndAlertsUseExportedMetrics(t *testing.T) {
	srv := imaptest.StartMemServer(t, nil)
	srv.AddUser("one", "pw")
	if err := srv.Append("one", "INBOX", mail(1)); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Store.Path = filepath.Join(t.TempDir(), "postdesk.db")
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.Mailboxes = []config.Mailbox{imapMailbox(10, srv, "one")}
	d, err := daemon.Open(daemon.Options{Config: cfg, Notify: func(string) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	defer func() { cancel(); <-done }()
	base := "http://" + d.Addr().String()
	// One API call and one import so that every histogram has a series.
	resp, err := http.Post(base+"/api/v1/Agents/CustomerService/CreateTicketFromMailData", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	waitFor(t, "the import", func() bool {
		_, m := get(t, base+"/metrics")
		return strings.Contains(m, `postdesk_imports_total{mailbox="10",outcome="created",source="imap"} 1`)
	})
	_, metrics := get(t, base+"/metrics")
	exported := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^# TYPE (\S+) (\S+)`).FindAllStringSubmatch(metrics, -1) {
		exported[m[1]] = true
	}

	var exprs []string
	dash, err := os.ReadFile("../configs/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && (k == "expr" || k == "query" || k == "definition") {
					exprs = append(exprs, s)
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	var dv any
	if err := json.Unmarshal(dash, &dv); err != nil {
		t.Fatal(err)
	}
	walk(dv)
	alerts, err := os.ReadFile("../configs/alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	exprs = append(exprs, string(alerts))
	checked := 0
	for _, e := range exprs {
		for _, name := range config.MetricNames(e) {
			checked++
			base := name
			for _, suf := range []string{"_bucket", "_sum", "_count"} {
				if b, ok := strings.CutSuffix(name, suf); ok && exported[b] {
					base = b
				}
			}
			if !exported[base] {
				t.Errorf("dashboard/alerts query %s, which the daemon does not export", name)
			}
		}
	}
	if checked < 10 {
		t.Fatalf("only %d metric references found: extractor broken?", checked)
	}
	t.Logf("%d metric references checked against %d exported families", checked, len(exported))
}

// TestOpenFailureReleasesWhatItOpened: when a late step of Open fails (the
// HTTP port is taken), Open returns the error, closes the store it had
// opened and does not panic.
func TestOpenFailureReleasesWhatItOpened(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	cfg := config.Default()
	cfg.Store.Path = filepath.Join(t.TempDir(), "postdesk.db")
	cfg.HTTP.Listen = busy.Addr().String()
	d, err := daemon.Open(daemon.Options{Config: cfg, Notify: func(string) error { return nil }, Version: "test"})
	if err == nil {
		d.Close()
		t.Fatal("Open on a port in use succeeded")
	}
	if !strings.Contains(err.Error(), "http listen") {
		t.Errorf("error %q does not name the listen step", err)
	}
	// The store was closed: a second Open of the same file works at once.
	cfg.HTTP.Listen = "127.0.0.1:0"
	d, err = daemon.Open(daemon.Options{Config: cfg, Notify: func(string) error { return nil }, Version: "test"})
	if err != nil {
		t.Fatalf("Open after the failed one: %v", err)
	}
	if err := d.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
}
