package faulttest

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/postdesk/postdesk/imap/imaptest"
)

// netEnv is a daemon with two polled mailboxes on one in-process IMAP
// server: 607 (user u1) through a TCP proxy the test controls, where the
// faults happen, and 608 (user u2) direct, which must keep importing.
type netEnv struct {
	t     *testing.T
	srv   *faultServer
	proxy *imaptest.Proxy
	td    *testDaemon

	mu   sync.Mutex
	seq  int
	sent map[string]string // Message-ID → user
}

// imapBlock is mailbox 607's imap settings as a YAML flow mapping body.
func (e *netEnv) config(imap607 string) daemonConfig {
	return daemonConfig{Mailboxes: fmt.Sprintf(
		"  - {id: 607, name: support, imap: {%s}}\n"+
			"  - {id: 608, name: sales, imap: {host: %s, port: %d, tls: none, username: u2, password: p2, poll_interval: 1s}}\n",
		imap607, e.srv.Host, e.srv.Port)}
}

// plain607 is mailbox 607 over the proxy in plaintext.
func (e *netEnv) plain607(extra string) string {
	return fmt.Sprintf("host: %s, port: %d, tls: none, username: u1, password: p1, poll_interval: 1s%s", e.proxy.Host, e.proxy.Port, extra)
}

func newNetEnv(t *testing.T) *netEnv {
	e := &netEnv{t: t, srv: startFaultServer(t), sent: map[string]string{}}
	e.srv.addUser(t, "u1", "p1", "Support")
	e.srv.addUser(t, "u2", "p2")
	e.proxy = imaptest.StartProxy(t, e.srv.Addr)
	return e
}

// start runs the daemon with mailbox 607 configured by imap607.
func (e *netEnv) start(imap607 string) {
	e.td = startDaemon(e.t, e.config(imap607))
}

// send delivers n mails (of about size bytes each) to user's folder.
func (e *netEnv) send(user, folder string, n, size int) []string {
	e.t.Helper()
	var ids []string
	for range n {
		e.mu.Lock()
		e.seq++
		id := fmt.Sprintf("net-%s-%d-%s@faulttest.example", user, e.seq, sanitizeTag(e.t.Name()))
		e.sent[id] = user
		e.mu.Unlock()
		raw := testMail(id, "network fault "+id, user+"-sender@acme.example")
		if size > len(raw) {
			raw = append(raw, []byte(strings.Repeat("abcdefghijklmnopqrstuvwxyz0123456789 padding\r\n", (size-len(raw))/46))...)
		}
		e.srv.deliver(e.t, user, folder, raw)
		ids = append(ids, id)
	}
	return ids
}

// seen counts the \Seen and all messages of a folder, read directly.
func (e *netEnv) seen(user, folder string) (seen, total int) {
	e.t.Helper()
	msgs, err := imaptest.List(e.srv.Addr, user, map[string]string{"u1": "p1", "u2": "p2"}[user], folder)
	if err != nil {
		e.t.Fatalf("list %s/%s: %v", user, folder, err)
	}
	for _, m := range msgs {
		if m.Seen() {
			seen++
		}
	}
	return seen, len(msgs)
}

func (e *netEnv) waitAllSeen(user, folder string, d time.Duration) {
	e.t.Helper()
	waitUntil(e.t, d, user+"/"+folder+" all \\Seen", func() (bool, error) {
		s, n := e.seen(user, folder)
		return n > 0 && s == n, nil
	})
}

// otherKeepsImporting delivers to mailbox 608 while 607 suffers and waits
// for it to be imported.
func (e *netEnv) otherKeepsImporting() {
	e.t.Helper()
	e.send("u2", "INBOX", 1, 0)
	e.waitAllSeen("u2", "INBOX", 15*time.Second)
}

// metric reads a sample of the daemon's /metrics for mailbox 607.
func (e *netEnv) metric(name string, labels ...string) float64 {
	return e.td.metric(name, append([]string{"mailbox", "607"}, labels...)...)
}

// logged fails unless the daemon logged a failure of mailbox 607.
func (e *netEnv) logged(what string) {
	e.t.Helper()
	for _, line := range strings.Split(e.td.logs.String(), "\n") {
		if strings.Contains(line, "mailbox_id=607") && (strings.Contains(line, "level=WARN") || strings.Contains(line, "level=ERROR")) &&
			strings.Contains(line, what) {
			return
		}
	}
	e.t.Errorf("no WARN/ERROR log line of mailbox 607 mentions %q", what)
}

// finish stops the daemon and checks every sent Message-ID is stored once.
func (e *netEnv) finish(class string) {
	e.t.Helper()
	ids, q := e.td.contents()
	lost, dup := lostAndDuplicated(e.t, ids, slices.Collect(maps.Keys(e.sent)))
	if q != 0 {
		e.t.Errorf("quarantine holds %d mails", q)
	}
	record(e.t, class, len(e.sent), len(e.sent)-lost-dup, lost, dup)
}

func TestNetworkCutMidFetch(t *testing.T) {
	t.Parallel()
	e := newNetEnv(t)
	e.send("u1", "INBOX", 30, 40<<10)
	e.proxy.CutAfter(300 << 10) // inside the first batch's body FETCH
	e.start(e.plain607(""))
	e.waitAllSeen("u1", "INBOX", 30*time.Second)
	if e.proxy.Cuts() != 1 {
		t.Errorf("the proxy cut %d connections, want 1", e.proxy.Cuts())
	}
	if v := e.metric("postdesk_imap_reconnects_total"); v < 1 {
		t.Errorf("reconnects = %v, want ≥ 1", v)
	}
	if v := e.metric("postdesk_imap_polls_total", "result", "error"); v < 1 {
		t.Errorf("failed polls = %v, want ≥ 1", v)
	}
	e.logged("imap session failed")
	e.otherKeepsImporting()
	e.finish("net: connection cut mid-FETCH")
}

func TestNetworkCutMidIdle(t *testing.T) {
	t.Parallel()
	e := newNetEnv(t)
	e.send("u1", "INBOX", 2, 0)
	e.start(e.plain607(""))
	e.waitAllSeen("u1", "INBOX", 15*time.Second)
	// Idle now; cut every connection and deliver while it is down.
	waitUntil(t, 10*time.Second, "607 connected and idle", func() (bool, error) {
		return e.metric("postdesk_imap_connected") == 1 && e.metric("postdesk_imap_backlog_messages") == 0, nil
	})
	before := e.metric("postdesk_imap_reconnects_total")
	e.proxy.Cut()
	e.send("u1", "INBOX", 3, 0)
	e.waitAllSeen("u1", "INBOX", 20*time.Second)
	if v := e.metric("postdesk_imap_reconnects_total"); v <= before {
		t.Errorf("reconnects = %v, want > %v", v, before)
	}
	e.logged("imap session failed")
	e.otherKeepsImporting()
	e.finish("net: connection cut mid-IDLE")
}

// TestNetworkStalledServer stalls the polling connection: the command
// timeout (60 s, not configurable) must close it and a new connection
// import the mail. Long variant only.
func TestNetworkStalledServer(t *testing.T) {
	if !long() {
		t.Skip("waits out the 60 s IMAP command timeout: run with -faulttest.long")
	}
	t.Parallel()
	e := newNetEnv(t)
	e.send("u1", "INBOX", 1, 0)
	e.start(e.plain607(", disable_idle: true"))
	e.waitAllSeen("u1", "INBOX", 15*time.Second)
	e.proxy.Stall() // the next NOOP gets no answer
	e.send("u1", "INBOX", 2, 0)
	e.otherKeepsImporting()
	e.waitAllSeen("u1", "INBOX", 100*time.Second)
	if e.proxy.Accepted() < 2 {
		t.Errorf("accepted %d connections: no reconnect after the stall", e.proxy.Accepted())
	}
	if v := e.metric("postdesk_imap_reconnects_total"); v < 1 {
		t.Errorf("reconnects = %v, want ≥ 1", v)
	}
	// The stalled command is the SELECT after a quiet poll interval; its
	// failure must count as a failed poll like any other.
	if v := e.metric("postdesk_imap_polls_total", "result", "error"); v < 1 {
		t.Errorf("failed polls = %v, want ≥ 1 (imap worker.session returns wait and re-select errors uncounted)", v)
	}
	e.logged("server stalled")
	e.finish("net: stalled server (poll mode)")
}

func TestNetworkNoBad(t *testing.T) {
	t.Parallel()
	for _, op := range []string{"select", "fetch", "store"} {
		t.Run(op, func(t *testing.T) {
			t.Parallel()
			e := newNetEnv(t)
			e.send("u1", "INBOX", 5, 0)
			e.srv.inject(op, imap.StatusResponseTypeNo, imap.StatusResponseTypeBad)
			e.start(e.plain607(""))
			e.otherKeepsImporting()
			e.waitAllSeen("u1", "INBOX", 30*time.Second)
			if n := e.srv.injected(op); n != 2 {
				t.Errorf("%d injected %s faults answered, want 2", n, op)
			}
			if v := e.metric("postdesk_imap_polls_total", "result", "error"); v < 2 {
				t.Errorf("failed polls = %v, want ≥ 2", v)
			}
			e.logged("injected " + op + " fault")
			e.finish("net: NO and BAD to " + strings.ToUpper(op))
		})
	}
}

func TestNetworkUIDValidityChange(t *testing.T) {
	t.Parallel()
	e := newNetEnv(t)
	first := e.send("u1", "INBOX", 3, 0)
	e.start(e.plain607(""))
	e.waitAllSeen("u1", "INBOX", 15*time.Second)
	// The folder is re-created under the running worker: a new
	// UIDVALIDITY and UIDs from 1 again. A re-delivered old mail must stay
	// a duplicate; new mails are imported.
	u := e.srv.user("u1")
	if err := u.Delete("INBOX"); err != nil {
		t.Fatal(err)
	}
	if err := u.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	e.srv.deliver(t, "u1", "INBOX", testMail(first[0], "network fault "+first[0], "u1-sender@acme.example"))
	e.send("u1", "INBOX", 3, 0)
	e.proxy.Cut() // the worker notices on its next connection
	e.waitAllSeen("u1", "INBOX", 30*time.Second)
	if s, n := e.seen("u1", "INBOX"); n != 4 || s != 4 {
		t.Errorf("INBOX after the change: %d of %d seen, want 4 of 4", s, n)
	}
	if !strings.Contains(e.td.logs.String(), "uidvalidity changed") {
		t.Errorf("the UIDVALIDITY change was not logged")
	}
	e.otherKeepsImporting()
	e.finish("net: UIDVALIDITY change")
}

func TestNetworkFolderDeleted(t *testing.T) {
	t.Parallel()
	e := newNetEnv(t)
	e.send("u1", "Support", 2, 0)
	e.start(e.plain607(", folder: Support"))
	e.waitAllSeen("u1", "Support", 15*time.Second)
	if err := e.srv.user("u1").Delete("Support"); err != nil {
		t.Fatal(err)
	}
	e.proxy.Cut()
	waitUntil(t, 15*time.Second, "a failed SELECT", func() (bool, error) {
		return e.metric("postdesk_imap_polls_total", "result", "error") >= 1, nil
	})
	e.otherKeepsImporting()
	e.logged("imap session failed")
	if err := e.srv.user("u1").Create("Support", nil); err != nil {
		t.Fatal(err)
	}
	e.send("u1", "Support", 2, 0)
	e.waitAllSeen("u1", "Support", 40*time.Second)
	e.finish("net: folder deleted and re-created")
}

func TestNetworkWrongPassword(t *testing.T) {
	t.Parallel()
	e := newNetEnv(t)
	e.send("u1", "INBOX", 2, 0)
	e.start(strings.Replace(e.plain607(""), "password: p1", "password: wrong-pw", 1))
	waitUntil(t, 15*time.Second, "an auth failure", func() (bool, error) {
		return e.metric("postdesk_imap_auth_failures_total") >= 1, nil
	})
	e.otherKeepsImporting()
	if s, _ := e.seen("u1", "INBOX"); s != 0 {
		t.Errorf("%d mails seen without a login", s)
	}
	e.logged("imap session failed")
	e.td.reload(e.config(e.plain607(""))) // the operator fixes the password
	e.waitAllSeen("u1", "INBOX", 20*time.Second)
	e.finish("net: wrong password")
}

func TestNetworkTLSHandshakeFailure(t *testing.T) {
	t.Parallel()
	e := newNetEnv(t)
	tlsCfg, caFile := imaptest.SelfSigned(t, "127.0.0.1")
	tsrv := imaptest.StartMemServer(t, &imaptest.MemOptions{TLSConfig: tlsCfg, ImplicitTLS: true})
	tsrv.AddUser("u1", "p1")
	id := "net-tls-1@faulttest.example"
	e.sent[id] = "u1"
	if err := tsrv.Append("u1", "INBOX", testMail(id, "over TLS", "tls@acme.example")); err != nil {
		t.Fatal(err)
	}
	base := fmt.Sprintf("host: %s, port: %d, tls: implicit, username: u1, password: p1, poll_interval: 1s", tsrv.Host, tsrv.Port)
	e.start(base) // the self-signed certificate is not trusted
	waitUntil(t, 15*time.Second, "a failed TLS handshake", func() (bool, error) {
		return e.metric("postdesk_imap_polls_total", "result", "error") >= 1, nil
	})
	e.otherKeepsImporting()
	e.logged("certificate")
	e.td.reload(e.config(base + ", ca_file: " + caFile))
	// imaptest.List speaks plaintext only: a successful pass of 607 is the
	// sign; finish checks the mail is stored once.
	waitUntil(t, 20*time.Second, "a successful pass over TLS", func() (bool, error) {
		return e.metric("postdesk_imap_polls_total", "result", "ok") >= 1, nil
	})
	e.finish("net: TLS handshake failure")
}
