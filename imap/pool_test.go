package imap

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
)

func TestNewPoolNeedsSink(t *testing.T) {
	if _, err := NewPool(Options{}); err == nil {
		t.Fatal("NewPool without a Sink succeeded")
	}
}

func TestPoolSetReload(t *testing.T) {
	t.Parallel()
	srv := startMem(t, nil)
	sink := newSink(t)
	h := newHarness(t, sink, nil)
	a, b := memConfig(1, srv.Host, srv.Port), memConfig(2, srv.Host, srv.Port)
	h.set(a, b)
	waitFor(t, sink, patience, "both connected", func() bool { return h.status(1).Connected && h.status(2).Connected })

	// Invalid configurations change nothing.
	broken := b
	broken.TLS = "maybe"
	if err := h.pool.Set([]Config{a, broken}); err == nil || !strings.Contains(err.Error(), "tls") {
		t.Fatalf("Set with a bad config: %v", err)
	}
	if err := h.pool.Set([]Config{a, a}); err == nil {
		t.Fatal("Set with a duplicate mailbox succeeded")
	}
	if len(h.pool.Status()) != 2 {
		t.Fatal("a rejected Set changed the workers")
	}

	// Remove b, change a (restart), add c.
	a.Name = "renamed"
	c := memConfig(3, srv.Host, srv.Port)
	h.set(a, c)
	sts := h.pool.Status()
	if len(sts) != 2 || sts[0].MailboxID != 1 || sts[0].Name != "renamed" || sts[1].MailboxID != 3 {
		t.Fatalf("Status after reload = %+v", sts)
	}
	if v := h.metric("postdesk_imap_connected", "2"); v != -1 {
		t.Errorf("removed mailbox still exported: connected = %v", v)
	}
	if err := srv.Append("u", "INBOX", mail(1, "after reload")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, sink, patience, "deliveries to 1 and 3", func() bool { return sink.count(1) == 1 && sink.count(3) == 1 })
	if sink.count(2) != 0 {
		t.Error("removed mailbox delivered")
	}
}

func TestStopLetsDeliverFinish(t *testing.T) {
	t.Parallel()
	srv := startMem(t, nil)
	if err := srv.Append("u", "INBOX", mail(1, "in flight")); err != nil {
		t.Fatal(err)
	}
	sink := newSink(t)
	sink.block = make(chan struct{})
	sink.entered = make(chan struct{}, 1)
	h := newHarness(t, sink, nil)
	h.set(memConfig(1, srv.Host, srv.Port))
	select {
	case <-sink.entered:
	case <-time.After(5 * time.Second):
		t.Fatal("Deliver not called")
	}
	stopped := make(chan error, 1)
	go func() { stopped <- h.pool.Stop(context.Background()) }()
	close(sink.block) // the commit finishes after Stop began
	select {
	case err := <-stopped:
		if err != nil {
			t.Fatalf("Stop: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Stop did not return")
	}
	if sink.count(1) != 1 {
		t.Fatal("the in-flight delivery was lost")
	}
	if msgs := list(t, srv.Addr, "INBOX"); len(msgs) != 1 || !msgs[0].Seen() {
		t.Errorf("committed message not acknowledged before the connection closed: %+v", msgs)
	}
	if err := h.pool.Stop(context.Background()); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	if err := h.pool.Set([]Config{memConfig(1, srv.Host, srv.Port)}); err == nil {
		t.Error("Set after Stop succeeded")
	}
}

func TestStopDeadlineAbandonsDeliver(t *testing.T) {
	t.Parallel()
	srv := startMem(t, nil)
	if err := srv.Append("u", "INBOX", mail(1, "stuck store")); err != nil {
		t.Fatal(err)
	}
	sink := newSink(t)
	sink.block = make(chan struct{}) // never released: Deliver ends by ctx
	sink.entered = make(chan struct{}, 1)
	h := newHarness(t, sink, nil)
	h.set(memConfig(1, srv.Host, srv.Port))
	<-sink.entered
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := h.pool.Stop(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Stop = %v, want the deadline", err)
	}
	if sink.count(1) != 0 {
		t.Fatal("abandoned delivery committed")
	}
	if msgs := list(t, srv.Addr, "INBOX"); len(msgs) != 1 || msgs[0].Seen() {
		t.Errorf("uncommitted message acknowledged: %+v", msgs)
	}
}

func TestMetricsPassPromtool(t *testing.T) {
	t.Parallel()
	srv := startMem(t, nil)
	h := newHarness(t, newSink(t), nil)
	h.set(memConfig(7, srv.Host, srv.Port))
	waitFor(t, h.sink, patience, "a pass", func() bool { return !h.status(7).LastSuccess.IsZero() })
	mfs, err := h.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	for _, mf := range mfs {
		if _, err := expfmt.MetricFamilyToText(&sb, mf); err != nil {
			t.Fatal(err)
		}
	}
	text := sb.String()
	for _, want := range []string{
		`postdesk_imap_polls_total{mailbox="7",result="error"} 0`,
		`postdesk_imap_reconnects_total{mailbox="7"} 0`,
		`postdesk_imap_fetched_bytes_total{mailbox="7"} 0`,
		`postdesk_imap_idle_rechecks_total{mailbox="7"} 0`,
		`postdesk_imap_auth_failures_total{mailbox="7"} 0`,
		`postdesk_imap_backlog_messages{mailbox="7"} 0`,
		`postdesk_imap_connected{mailbox="7"} 1`,
		`postdesk_panics_total{component="imap"} 0`,
		`postdesk_imap_oauth_token_expiry_timestamp_seconds{mailbox="7"} 0`,
		`postdesk_imap_last_success_timestamp_seconds{mailbox="7"}`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("exposition lacks %s", want)
		}
	}
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Log("promtool not installed: skipping promtool check metrics")
		return
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(text)
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}
