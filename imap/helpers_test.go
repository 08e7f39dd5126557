package imap

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/postdesk/postdesk/imap/imaptest"
	"github.com/prometheus/client_golang/prometheus"
)

// key identifies a delivered message.
type key struct {
	mailbox int64
	uv, uid uint32
}

// testSink is an in-memory Sink: committed messages keyed by (mailbox,
// UIDVALIDITY, UID) plus a cursor per mailbox, updated together under one
// lock like the real store's transaction. Hooks inject failures.
type testSink struct {
	mu       sync.Mutex
	changed  chan struct{} // closed and replaced on every change
	cursors  map[int64]Cursor
	msgs     map[key]Message
	calls    map[key]int // Deliver calls that committed, per key
	errs     int         // Deliver calls that failed
	failing  bool        // Deliver fails while set
	quar     func(Message) bool
	block    chan struct{} // Deliver waits on it when set
	entered  chan struct{} // signalled when Deliver blocks
	panicOne bool          // the next Deliver panics
	rewind   bool          // a cursor moving backwards is expected
	t        testing.TB
}

func newSink(t testing.TB) *testSink {
	return &testSink{
		changed: make(chan struct{}),
		cursors: make(map[int64]Cursor),
		msgs:    make(map[key]Message),
		calls:   make(map[key]int),
		t:       t,
	}
}

var errStoreDown = errors.New("store unavailable")

func (s *testSink) Cursor(ctx context.Context, id int64) (Cursor, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cursors[id], nil
}

func (s *testSink) Deliver(ctx context.Context, m Message) (Disposition, error) {
	s.mu.Lock()
	block, entered := s.block, s.entered
	if s.panicOne {
		s.panicOne = false
		s.mu.Unlock()
		panic("test sink panic")
	}
	s.mu.Unlock()
	if block != nil {
		entered <- struct{}{}
		select {
		case <-block:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.notifyLocked()
	if s.failing {
		s.errs++
		return 0, errStoreDown
	}
	cur := s.cursors[m.MailboxID]
	if cur.UIDValidity == m.UIDValidity && m.UID <= cur.UID && !s.rewind {
		s.t.Errorf("Deliver mailbox %d uid %d at or below the cursor %+v", m.MailboxID, m.UID, cur)
	}
	k := key{m.MailboxID, m.UIDValidity, m.UID}
	s.msgs[k] = m
	s.calls[k]++
	s.cursors[m.MailboxID] = Cursor{UIDValidity: m.UIDValidity, UID: m.UID}
	if s.quar != nil && s.quar(m) {
		return Quarantined, nil
	}
	return Imported, nil
}

func (s *testSink) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *testSink) setFailing(v bool) {
	s.mu.Lock()
	s.failing = v
	s.notifyLocked()
	s.mu.Unlock()
}

// count returns how many distinct messages of mailbox were committed.
func (s *testSink) count(mailbox int64) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for k := range s.msgs {
		if k.mailbox == mailbox {
			n++
		}
	}
	return n
}

// messages returns the committed messages of mailbox.
func (s *testSink) messages(mailbox int64) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for k, m := range s.msgs {
		if k.mailbox == mailbox {
			out = append(out, m)
		}
	}
	return out
}

// assertOnce fails unless every committed message was delivered once.
func (s *testSink) assertOnce(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, n := range s.calls {
		if n != 1 {
			t.Errorf("message %+v delivered %d times", k, n)
		}
	}
}

// patience bounds waiting for a condition: generous, because the tests share
// two cores with whole builds; a healthy run takes milliseconds.
const patience = 20 * time.Second

// waitFor waits until cond holds (checked on every sink change and every
// 20 ms, for conditions on the server side), failing the test after d.
func waitFor(t testing.TB, s *testSink, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if cond() {
			return
		}
		select {
		case <-ch:
		case <-tick.C:
		case <-deadline.C:
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
	}
}

// syncBuffer collects log output from several goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// harness is a pool under test with its sink, registry and log.
type harness struct {
	t    testing.TB
	pool *Pool
	sink *testSink
	reg  *prometheus.Registry
	log  *syncBuffer
}

func newHarness(t testing.TB, sink *testSink, tokens TokenStore) *harness {
	t.Helper()
	return newHarnessSink(t, sink, sink, tokens)
}

// newHarnessSink runs the pool on sink, which wraps the recording ts.
func newHarnessSink(t testing.TB, sink Sink, ts *testSink, tokens TokenStore) *harness {
	t.Helper()
	h := &harness{t: t, sink: ts, reg: prometheus.NewRegistry(), log: &syncBuffer{}}
	pool, err := NewPool(Options{
		Sink:       sink,
		Tokens:     tokens,
		Logger:     slog.New(slog.NewTextHandler(logWriter(h.log), &slog.HandlerOptions{Level: slog.LevelDebug})),
		Registerer: h.reg,
		BackoffMin: 20 * time.Millisecond,
		BackoffMax: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	h.pool = pool
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := pool.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
		if t.Failed() {
			t.Logf("pool log:\n%s", h.log.String())
		}
	})
	return h
}

func (h *harness) set(cfgs ...Config) {
	h.t.Helper()
	if err := h.pool.Set(cfgs); err != nil {
		h.t.Fatalf("Set: %v", err)
	}
}

// metric returns the value of a series, e.g. ("postdesk_imap_polls_total",
// "1", "ok").
func (h *harness) metric(name string, labels ...string) float64 {
	h.t.Helper()
	mfs, err := h.reg.Gather()
	if err != nil {
		h.t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			var vals []string
			for _, lp := range m.GetLabel() {
				if lp.GetName() != "component" {
					vals = append(vals, lp.GetValue())
				}
			}
			if strings.Join(vals, ",") != strings.Join(labels, ",") {
				continue
			}
			switch {
			case m.Counter != nil:
				return m.Counter.GetValue()
			case m.Gauge != nil:
				return m.Gauge.GetValue()
			}
		}
	}
	return -1
}

// status returns the Status of mailbox id.
func (h *harness) status(id int64) Status {
	for _, st := range h.pool.Status() {
		if st.MailboxID == id {
			return st
		}
	}
	return Status{}
}

// memConfig is a plaintext config for user u/p on a memserver-like addr.
func memConfig(id int64, host string, port int) Config {
	return Config{
		MailboxID: id, Name: fmt.Sprintf("mb%d", id),
		Host: host, Port: port, TLS: TLSNone,
		Username: "u", Password: "p-secret",
		PollInterval:   time.Hour, // tests that poll set their own
		IdleRestart:    20 * time.Minute,
		DialTimeout:    5 * time.Second,
		CommandTimeout: 5 * time.Second,
	}
}

// startMem starts a memserver with user u (password p-secret) and the
// folders Archive and Quarantine.
func startMem(t testing.TB, opts *imaptest.MemOptions) *imaptest.MemServer {
	s := imaptest.StartMemServer(t, opts)
	s.AddUser("u", "p-secret", "Archive", "Quarantine")
	return s
}

// mail returns a small message with a Message-ID derived from i.
func mail(i int, subject string) []byte {
	return fmt.Appendf(nil, "From: sender%d@example.com\r\nTo: support@example.com\r\nSubject: %s\r\nMessage-ID: <msg%d@example.com>\r\nDate: Thu, 26 Nov 2026 10:00:00 +0000\r\n\r\nHello %d\r\n", i, subject, i, i)
}

// list returns folder's messages on the server.
func list(t testing.TB, addr, folder string) []imaptest.MessageInfo {
	t.Helper()
	msgs, err := imaptest.List(addr, "u", "p-secret", folder)
	if err != nil {
		t.Fatalf("list %s: %v", folder, err)
	}
	return msgs
}

func countSeen(msgs []imaptest.MessageInfo) int {
	n := 0
	for _, m := range msgs {
		if m.Seen() {
			n++
		}
	}
	return n
}

// logWriter tees the pool log to stderr when POSTDESK_TEST_LOG is set, for
// debugging hangs (the buffer is printed only when a test fails).
func logWriter(buf *syncBuffer) io.Writer {
	if os.Getenv("POSTDESK_TEST_LOG") != "" {
		return io.MultiWriter(buf, os.Stderr)
	}
	return buf
}
