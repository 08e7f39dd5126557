package imap

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/postdesk/postdesk/imap/imaptest"
)

// rev1 is a server without MOVE and UIDPLUS (and, with noIdle, IDLE).
var rev1 = imap.CapSet{imap.CapIMAP4rev1: {}}

// noIdle hides the IDLE that imapserver always offers.
var noIdle = []imap.Cap{imap.CapIdle}

func TestIdlePickup(t *testing.T) {
	t.Parallel()
	srv := startMem(t, nil)
	if err := srv.Append("u", "INBOX", mail(1, "before start")); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, newSink(t), nil)
	h.set(memConfig(1, srv.Host, srv.Port)) // PollInterval 1h: only IDLE can wake it
	waitFor(t, h.sink, patience, "first message", func() bool { return h.sink.count(1) == 1 })
	waitFor(t, h.sink, patience, "the worker idling", func() bool { return strings.Contains(h.log.String(), "imap idling") })

	start := time.Now()
	if err := srv.Append("u", "INBOX", mail(2, "while idling")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, h.sink, patience, "message appended while idling", func() bool { return h.sink.count(1) == 2 })
	t.Logf("IDLE pick-up latency (memserver): %v", time.Since(start))
	waitFor(t, h.sink, patience, "both flagged \\Seen", func() bool { return countSeen(list(t, srv.Addr, "INBOX")) == 2 })
	h.sink.assertOnce(t)

	st := h.status(1)
	if st.LastSuccess.IsZero() || st.LastError != "" || st.Backlog != 0 || st.Name != "mb1" {
		t.Errorf("Status = %+v", st)
	}
	if v := h.metric("postdesk_imap_connected", "1"); v != 1 {
		t.Errorf("connected = %v", v)
	}
	waitFor(t, h.sink, patience, "two clean passes", func() bool {
		return h.metric("postdesk_imap_polls_total", "1", "ok") >= 2
	})
	if v := h.metric("postdesk_imap_polls_total", "1", "error"); v != 0 {
		t.Errorf("polls error = %v, want a zero series", v)
	}
	if v := h.metric("postdesk_imap_fetched_bytes_total", "1"); v < float64(len(mail(1, "before start"))) {
		t.Errorf("fetched bytes = %v", v)
	}
	if strings.Contains(h.log.String(), "p-secret") {
		t.Error("the password appears in the log")
	}
}

// A server that says nothing during IDLE (Dovecot holds its notification
// back 500 ms) still brings new mail at once with IdleRecheck: ending IDLE
// makes it report the EXISTS before DONE's tagged OK. Without the recheck
// the same mail waits for the poll interval.
func TestIdleRecheck(t *testing.T) {
	t.Parallel()
	for _, recheck := range []time.Duration{0, 100 * time.Millisecond} {
		srv := startMem(t, &imaptest.MemOptions{MuteIdle: true})
		h := newHarness(t, newSink(t), nil)
		cfg := memConfig(1, srv.Host, srv.Port) // PollInterval 1h
		cfg.IdleRecheck = recheck
		h.set(cfg)
		waitFor(t, h.sink, patience, "the worker idling", func() bool { return strings.Contains(h.log.String(), "imap idling") })
		if err := srv.Append("u", "INBOX", mail(1, "while idling")); err != nil {
			t.Fatal(err)
		}
		if recheck == 0 {
			// The control: the muted IDLE really hides the mail.
			time.Sleep(700 * time.Millisecond)
			if n := h.sink.count(1); n != 0 {
				t.Fatalf("without idle_recheck %d messages came through a muted IDLE", n)
			}
			if v := h.metric("postdesk_imap_idle_rechecks_total", "1"); v != 0 {
				t.Errorf("idle rechecks = %v without idle_recheck", v)
			}
			continue
		}
		waitFor(t, h.sink, patience, "the message, through a recheck", func() bool { return h.sink.count(1) == 1 })
		waitFor(t, h.sink, patience, "more rechecks while quiet", func() bool {
			return h.metric("postdesk_imap_idle_rechecks_total", "1") >= 3
		})
		// A recheck is not a poll: no SELECT, no pass while nothing is new.
		if v := h.metric("postdesk_imap_polls_total", "1", "ok"); v > 2 {
			t.Errorf("polls = %v: a quiet recheck ran a synchronisation pass", v)
		}
		h.sink.assertOnce(t)
	}
}

func TestPollFallback(t *testing.T) {
	t.Parallel()
	srv := startMem(t, &imaptest.MemOptions{Caps: rev1, HideCaps: noIdle})
	h := newHarness(t, newSink(t), nil)
	cfg := memConfig(1, srv.Host, srv.Port)
	cfg.PollInterval = 50 * time.Millisecond
	h.set(cfg)
	waitFor(t, h.sink, patience, "a first poll", func() bool { return !h.status(1).LastSuccess.IsZero() })
	for i := range 3 {
		if err := srv.Append("u", "INBOX", mail(i, "polled")); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, h.sink, patience, "3 polled messages", func() bool { return h.sink.count(1) == 3 })
	waitFor(t, h.sink, patience, "3 flagged \\Seen", func() bool { return countSeen(list(t, srv.Addr, "INBOX")) == 3 })
	h.sink.assertOnce(t)
	if !strings.Contains(h.log.String(), "idle=false") {
		t.Error("the worker did not fall back to polling")
	}
}

func TestAfterImportActions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		caps   imap.CapSet
		action string
		check  func(t *testing.T, inbox, archive []imaptest.MessageInfo)
	}{
		{"seen", nil, "seen", func(t *testing.T, inbox, archive []imaptest.MessageInfo) {
			if len(inbox) != 4 || countSeen(inbox) != 4 || len(archive) != 0 {
				t.Errorf("inbox %d (%d seen), archive %d", len(inbox), countSeen(inbox), len(archive))
			}
		}},
		{"move", nil, "move:Archive", func(t *testing.T, inbox, archive []imaptest.MessageInfo) {
			if len(inbox) != 0 || len(archive) != 4 {
				t.Errorf("inbox %d, archive %d", len(inbox), len(archive))
			}
		}},
		{"move-copy-fallback", rev1, "move:Archive", func(t *testing.T, inbox, archive []imaptest.MessageInfo) {
			if len(inbox) != 0 || len(archive) != 4 {
				t.Errorf("inbox %d, archive %d", len(inbox), len(archive))
			}
		}},
		{"move-create-folder", nil, "move:Done/2026", func(t *testing.T, inbox, archive []imaptest.MessageInfo) {
			if len(inbox) != 0 {
				t.Errorf("inbox %d", len(inbox))
			}
		}},
		{"delete-uidplus", nil, "delete", func(t *testing.T, inbox, archive []imaptest.MessageInfo) {
			if len(inbox) != 0 || len(archive) != 0 {
				t.Errorf("inbox %d, archive %d", len(inbox), len(archive))
			}
		}},
		{"delete-expunge", rev1, "delete", func(t *testing.T, inbox, archive []imaptest.MessageInfo) {
			if len(inbox) != 0 || len(archive) != 0 {
				t.Errorf("inbox %d, archive %d", len(inbox), len(archive))
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			opts := &imaptest.MemOptions{Caps: tc.caps}
			if tc.caps != nil {
				opts.HideCaps = noIdle // the fallback server has no IDLE either
			}
			srv := startMem(t, opts)
			for i := range 4 {
				if err := srv.Append("u", "INBOX", mail(i, tc.name)); err != nil {
					t.Fatal(err)
				}
			}
			h := newHarness(t, newSink(t), nil)
			cfg := memConfig(1, srv.Host, srv.Port)
			cfg.AfterImport = tc.action
			cfg.BatchSize = 3 // two batches
			cfg.PollInterval = 50 * time.Millisecond
			h.set(cfg)
			waitFor(t, h.sink, patience, "4 messages", func() bool { return h.sink.count(1) == 4 })
			// The acknowledgement follows the commit; wait for the pass to end.
			waitFor(t, h.sink, patience, "a clean pass", func() bool {
				return h.metric("postdesk_imap_polls_total", "1", "ok") >= 1
			})
			tc.check(t, list(t, srv.Addr, "INBOX"), list(t, srv.Addr, "Archive"))
			if tc.action == "move:Done/2026" {
				if n := len(list(t, srv.Addr, "Done/2026")); n != 4 {
					t.Errorf("created folder holds %d messages", n)
				}
			}
			h.sink.assertOnce(t)
		})
	}
}

func TestUIDValidityChange(t *testing.T) {
	t.Parallel()
	srv := startMem(t, nil)
	for i := range 2 {
		if err := srv.Append("u", "INBOX", mail(i, "first life")); err != nil {
			t.Fatal(err)
		}
	}
	h := newHarness(t, newSink(t), nil)
	cfg := memConfig(1, srv.Host, srv.Port)
	cfg.IdleRestart = 100 * time.Millisecond // a quiet interval re-selects
	h.set(cfg)
	waitFor(t, h.sink, patience, "2 messages", func() bool { return h.sink.count(1) == 2 })
	before, _ := h.sink.Cursor(t.Context(), 1)

	if err := srv.Recreate("u", "INBOX"); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := srv.Append("u", "INBOX", mail(10+i, "second life")); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, h.sink, patience, "3 messages under the new UIDVALIDITY", func() bool { return h.sink.count(1) == 5 })
	after, _ := h.sink.Cursor(t.Context(), 1)
	if after.UIDValidity == before.UIDValidity || after.UID != 3 {
		t.Errorf("cursor %+v → %+v, want a new UIDVALIDITY at UID 3", before, after)
	}
	// The new folder's UIDs restart at 1: all of them were delivered.
	for uid := uint32(1); uid <= 3; uid++ {
		if _, ok := h.sink.msgs[key{1, after.UIDValidity, uid}]; !ok {
			t.Errorf("uid %d of the new folder not delivered", uid)
		}
	}
	h.sink.assertOnce(t)
}

func TestQuarantine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, action, folder   string
		wantInbox, wantQuarant int
		wantInboxSeen          int
	}{
		{"to-folder", "delete", "Quarantine", 0, 1, 0},
		{"delete-becomes-seen", "delete", "", 1, 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := startMem(t, nil)
			sink := newSink(t)
			sink.quar = func(m Message) bool { return bytes.Contains(m.Raw, []byte("Subject: bad")) }
			for i, subj := range []string{"good", "bad", "good"} {
				if err := srv.Append("u", "INBOX", mail(i, subj)); err != nil {
					t.Fatal(err)
				}
			}
			h := newHarness(t, sink, nil)
			cfg := memConfig(1, srv.Host, srv.Port)
			cfg.AfterImport = tc.action
			cfg.QuarantineFolder = tc.folder
			h.set(cfg)
			waitFor(t, sink, patience, "3 messages and a clean pass", func() bool {
				return sink.count(1) == 3 && h.metric("postdesk_imap_polls_total", "1", "ok") >= 1
			})
			inbox, quarantine := list(t, srv.Addr, "INBOX"), list(t, srv.Addr, "Quarantine")
			if len(inbox) != tc.wantInbox || len(quarantine) != tc.wantQuarant || countSeen(inbox) != tc.wantInboxSeen {
				t.Errorf("inbox %d (%d seen), quarantine %d; want %d (%d), %d",
					len(inbox), countSeen(inbox), len(quarantine), tc.wantInbox, tc.wantInboxSeen, tc.wantQuarant)
			}
			if len(quarantine) == 1 && quarantine[0].MessageID != "msg1@example.com" {
				t.Errorf("quarantined %q", quarantine[0].MessageID)
			}
		})
	}
}

func TestDeliverErrorRetried(t *testing.T) {
	t.Parallel()
	srv := startMem(t, nil)
	sink := newSink(t)
	h := newHarness(t, sink, nil)
	h.set(memConfig(1, srv.Host, srv.Port))
	waitFor(t, sink, patience, "the worker idling", func() bool { return strings.Contains(h.log.String(), "imap idling") })
	sink.setFailing(true)
	if err := srv.Append("u", "INBOX", mail(1, "store down")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, sink, patience, "2 failed deliveries", func() bool {
		sink.mu.Lock()
		defer sink.mu.Unlock()
		return sink.errs >= 2
	})
	if msgs := list(t, srv.Addr, "INBOX"); len(msgs) != 1 || msgs[0].Seen() {
		t.Fatalf("message acknowledged although nothing was committed: %+v", msgs)
	}
	if st := h.status(1); !strings.Contains(st.LastError, "store unavailable") || st.Backlog != 1 {
		t.Errorf("Status while failing = %+v", st)
	}
	if v := h.metric("postdesk_imap_polls_total", "1", "error"); v < 1 {
		t.Errorf("polls error = %v", v)
	}
	sink.setFailing(false)
	waitFor(t, sink, patience, "delivery after recovery", func() bool { return sink.count(1) == 1 })
	waitFor(t, sink, patience, "\\Seen after commit", func() bool { return countSeen(list(t, srv.Addr, "INBOX")) == 1 })
	sink.assertOnce(t)
	if v := h.metric("postdesk_imap_reconnects_total", "1"); v != 0 {
		t.Errorf("a store failure reconnected %v times; the connection should be kept", v)
	}
}

func TestOversize(t *testing.T) {
	t.Parallel()
	srv := startMem(t, nil)
	big := append(mail(1, "huge"), bytes.Repeat([]byte("0123456789abcdef\r\n"), 1000)...)
	if err := srv.Append("u", "INBOX", big); err != nil {
		t.Fatal(err)
	}
	if err := srv.Append("u", "INBOX", mail(2, "small")); err != nil {
		t.Fatal(err)
	}
	hugeHeader := append([]byte("X-Junk: "+strings.Repeat("j", 100<<10)+"\r\n"), mail(3, "huge header")...)
	if err := srv.Append("u", "INBOX", hugeHeader); err != nil {
		t.Fatal(err)
	}
	sink := newSink(t)
	h := newHarness(t, sink, nil)
	cfg := memConfig(1, srv.Host, srv.Port)
	cfg.MaxSize = 4096
	h.set(cfg)
	waitFor(t, sink, patience, "3 messages", func() bool { return sink.count(1) == 3 })
	var over, small, hdr Message
	for _, m := range sink.messages(1) {
		switch m.UID {
		case 1:
			over = m
		case 2:
			small = m
		case 3:
			hdr = m
		}
	}
	if !hdr.Oversize || int64(len(hdr.Raw)) != cfg.MaxSize+sizeSlack {
		t.Errorf("huge header: Oversize=%v, %d header bytes kept", hdr.Oversize, len(hdr.Raw))
	}
	if !over.Oversize || over.Size != int64(len(big)) || !bytes.Contains(over.Raw, []byte("Subject: huge")) ||
		bytes.Contains(over.Raw, []byte("0123456789")) {
		t.Errorf("oversize message: Oversize=%v Size=%d Raw=%q", over.Oversize, over.Size, over.Raw)
	}
	if small.Oversize || !bytes.Equal(small.Raw, mail(2, "small")) {
		t.Errorf("small message: %+v", small)
	}
	waitFor(t, sink, patience, "the small one \\Seen", func() bool {
		msgs := list(t, srv.Addr, "INBOX")
		return len(msgs) == 3 && msgs[1].Seen()
	})
	if msgs := list(t, srv.Addr, "INBOX"); msgs[0].Seen() || msgs[2].Seen() {
		t.Error("oversize message touched on the server")
	}
	if c, _ := sink.Cursor(t.Context(), 1); c.UID != 3 {
		t.Errorf("cursor %+v, want past the oversize message", c)
	}
}

func TestAuthFailureIsolated(t *testing.T) {
	t.Parallel()
	srv := startMem(t, nil)
	sink := newSink(t)
	h := newHarness(t, sink, nil)
	good := memConfig(1, srv.Host, srv.Port)
	bad := memConfig(2, srv.Host, srv.Port)
	bad.Password = "wrong-secret"
	bad.Auth = AuthPlain
	refused := memConfig(3, "127.0.0.1", 1) // nothing listens on port 1
	h.set(good, bad, refused)
	for i := range 5 {
		if err := srv.Append("u", "INBOX", mail(i, "keeps importing")); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, sink, patience, "5 messages in the healthy mailbox", func() bool { return sink.count(1) == 5 })
	waitFor(t, sink, patience, "repeated auth failures", func() bool {
		return h.metric("postdesk_imap_auth_failures_total", "2") >= 3
	})
	st := h.status(2)
	if st.Connected || !strings.Contains(st.LastError, "authentication failed") {
		t.Errorf("bad mailbox Status = %+v", st)
	}
	if v := h.metric("postdesk_imap_reconnects_total", "2"); v < 2 {
		t.Errorf("reconnects = %v", v)
	}
	if v := h.metric("postdesk_imap_polls_total", "3", "error"); v < 1 {
		t.Errorf("refused mailbox polls error = %v", v)
	}
	if v := h.metric("postdesk_imap_auth_failures_total", "3"); v != 0 {
		t.Errorf("a refused connection counted as auth failure: %v", v)
	}
	if sink.count(2)+sink.count(3) != 0 {
		t.Error("broken mailboxes delivered")
	}
	if strings.Contains(h.log.String(), "wrong-secret") || strings.Contains(h.log.String(), "p-secret") {
		t.Error("a password appears in the log")
	}
}

func TestBackoffGrowsAndCaps(t *testing.T) {
	t.Parallel()
	for n := 1; n <= 20; n++ {
		d := backoff(n, time.Second, time.Minute)
		want := time.Second << min(n-1, 6)
		want = min(want, time.Minute)
		if d < want/2 || d > want {
			t.Errorf("backoff(%d) = %v, want in [%v, %v]", n, d, want/2, want)
		}
	}
}

func TestCursorAheadOfServerRescans(t *testing.T) {
	t.Parallel()
	srv := startMem(t, nil)
	for i := range 2 {
		if err := srv.Append("u", "INBOX", mail(i, "renumbered server")); err != nil {
			t.Fatal(err)
		}
	}
	sink := newSink(t)
	sink.rewind = true
	// The server lost its UIDs without changing UIDVALIDITY (1 for the
	// first folder imapmemserver creates): the cursor is far ahead.
	sink.cursors[1] = Cursor{UIDValidity: 1, UID: 100}
	h := newHarness(t, sink, nil)
	h.set(memConfig(1, srv.Host, srv.Port))
	waitFor(t, sink, patience, "both messages despite the cursor", func() bool { return sink.count(1) == 2 })
	if !strings.Contains(h.log.String(), "UIDNEXT is at or below the cursor") {
		t.Error("the rescan was not logged")
	}
}

// A crash between the commit and the acknowledgement leaves committed
// messages unacknowledged on the server, with the cursor past them. The
// next session acknowledges them, and leaves oversize ones alone.
func TestCommittedButUnacknowledgedAreAcknowledgedOnReconnect(t *testing.T) {
	t.Parallel()
	for _, action := range []string{"seen", "move:Archive"} {
		t.Run(action, func(t *testing.T) {
			t.Parallel()
			srv := startMem(t, nil)
			for i := range 3 {
				if err := srv.Append("u", "INBOX", mail(i, action)); err != nil {
					t.Fatal(err)
				}
			}
			big := append(mail(3, action), bytes.Repeat([]byte("x"), 4096)...)
			if err := srv.Append("u", "INBOX", big); err != nil {
				t.Fatal(err)
			}
			if err := srv.Append("u", "INBOX", mail(4, action)); err != nil {
				t.Fatal(err)
			}
			before := list(t, srv.Addr, "INBOX")
			sink := newSink(t)
			// The "previous run" committed UIDs 1-4 (4 being the oversize
			// one) and died before acknowledging anything.
			sink.cursors[1] = Cursor{UIDValidity: uidValidity(t, srv), UID: uint32(before[3].UID)}
			h := newHarness(t, sink, nil)
			cfg := memConfig(1, srv.Host, srv.Port)
			cfg.AfterImport = action
			cfg.MaxSize = 2048
			cfg.PollInterval = 50 * time.Millisecond
			h.set(cfg)
			waitFor(t, sink, patience, "the message above the cursor", func() bool { return sink.count(1) == 1 })
			waitFor(t, sink, patience, "a clean pass", func() bool {
				return h.metric("postdesk_imap_polls_total", "1", "ok") >= 1
			})
			inbox := list(t, srv.Addr, "INBOX")
			switch action {
			case "seen":
				if len(inbox) != 5 || countSeen(inbox) != 4 || inbox[3].Seen() {
					t.Fatalf("inbox %+v: want all but the oversize message seen", inbox)
				}
			default:
				if len(inbox) != 1 || inbox[0].UID != before[3].UID || len(list(t, srv.Addr, "Archive")) != 4 {
					t.Fatalf("inbox %+v: want only the oversize message left", inbox)
				}
			}
			sink.assertOnce(t)
		})
	}
}

func uidValidity(t *testing.T, srv *imaptest.MemServer) uint32 {
	t.Helper()
	_, sel := examineInbox(t, srv)
	return sel.UIDValidity
}

// examineInbox logs in as the test user and selects INBOX read-only; the
// client is closed when the test ends.
func examineInbox(t *testing.T, srv *imaptest.MemServer) (*imapclient.Client, *imap.SelectData) {
	t.Helper()
	c, err := imapclient.DialInsecure(srv.Addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Login("u", "p-secret").Wait(); err != nil {
		t.Fatal(err)
	}
	sel, err := c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		t.Fatal(err)
	}
	return c, sel
}

// batchSink commits a group through DeliverBatch; failAfter > 0 makes the
// next batch commit only that many messages and then fail.
type batchSink struct {
	*testSink
	mu        sync.Mutex
	batches   int
	failAfter int
}

func (b *batchSink) DeliverBatch(ctx context.Context, ms []Message, ready func() error) ([]Disposition, error) {
	if err := ready(); err != nil {
		return nil, err
	}
	b.mu.Lock()
	b.batches++
	failAfter := b.failAfter
	b.failAfter = 0
	b.mu.Unlock()
	var disps []Disposition
	for i, m := range ms {
		if failAfter > 0 && i == failAfter {
			return disps, errStoreDown
		}
		d, err := b.Deliver(ctx, m)
		if err != nil {
			return disps, err
		}
		disps = append(disps, d)
	}
	return disps, nil
}

// A BatchSink gets whole groups; when it commits only a prefix, the prefix
// is acknowledged and the rest delivered later, each message once.
func TestBatchSinkPrefixCommitted(t *testing.T) {
	t.Parallel()
	srv := startMem(t, nil)
	for i := range 6 {
		if err := srv.Append("u", "INBOX", mail(i, "batch")); err != nil {
			t.Fatal(err)
		}
	}
	sink := &batchSink{testSink: newSink(t), failAfter: 2}
	h := newHarnessSink(t, sink, sink.testSink, nil)
	cfg := memConfig(1, srv.Host, srv.Port)
	cfg.PollInterval = 50 * time.Millisecond
	h.set(cfg)
	waitFor(t, sink.testSink, patience, "6 messages", func() bool { return sink.count(1) == 6 })
	waitFor(t, sink.testSink, patience, "a clean pass", func() bool {
		return h.metric("postdesk_imap_polls_total", "1", "ok") >= 1
	})
	if n := countSeen(list(t, srv.Addr, "INBOX")); n != 6 {
		t.Errorf("%d of 6 seen", n)
	}
	sink.mu.Lock()
	batches := sink.batches
	sink.mu.Unlock()
	if batches < 2 {
		t.Errorf("%d batches: want the failed one and its retry", batches)
	}
	sink.assertOnce(t)
}
