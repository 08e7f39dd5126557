package imap

import (
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/postdesk/postdesk/imap/imaptest"
)

// unparseable is a mail go-imap's in-process server stores but serves with
// an empty BODY[] (it extracts sections by parsing the mail, and an mbox
// "From " line with bare LF does not parse): a stand-in for any server that
// sends no body for a message it sizes above zero.
var unparseable = []byte("From someone Thu Nov 26 10:00:00 2026\nSubject: mbox\nMessage-ID: <mbox@example.com>\n\nbody\n")

// bodyLen fetches BODY.PEEK[] of the folder's first message.
func bodyLen(t *testing.T, srv *imaptest.MemServer) int {
	t.Helper()
	c, _ := examineInbox(t, srv)
	msgs, err := c.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{{Peek: true}}}).Collect()
	if err != nil || len(msgs) != 1 || len(msgs[0].BodySection) != 1 {
		t.Fatalf("fetch: %v, %+v", err, msgs)
	}
	return len(msgs[0].BodySection[0].Bytes)
}

// A message the server serves without a body is quarantined (as nothing)
// but never acknowledged: with after_import delete it would otherwise be
// gone from the one place that has it. Neither the pass that imports it nor
// a later session's reconciliation touches it.
func TestEmptyBodyLeftOnServer(t *testing.T) {
	t.Parallel()
	for _, previousRun := range []bool{false, true} {
		name := "imported now"
		if previousRun {
			name = "committed by a previous run"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := startMem(t, nil)
			if err := srv.Append("u", "INBOX", unparseable); err != nil {
				t.Fatal(err)
			}
			if n := bodyLen(t, srv); n != 0 {
				t.Skipf("the in-process server now serves this mail (%d bytes): nothing to test", n)
			}
			if err := srv.Append("u", "INBOX", mail(1, "fine")); err != nil {
				t.Fatal(err)
			}
			before := list(t, srv.Addr, "INBOX")
			sink := newSink(t)
			if previousRun {
				sink.cursors[1] = Cursor{UIDValidity: uidValidity(t, srv), UID: uint32(before[1].UID)}
			}
			h := newHarness(t, sink, nil)
			cfg := memConfig(1, srv.Host, srv.Port)
			cfg.AfterImport = AfterDelete
			cfg.PollInterval = 50 * time.Millisecond
			h.set(cfg)
			if !previousRun {
				waitFor(t, sink, patience, "both delivered", func() bool { return sink.count(1) == 2 })
			}
			waitFor(t, sink, patience, "the fine one deleted", func() bool {
				return len(list(t, srv.Addr, "INBOX")) == 1
			})
			waitFor(t, sink, patience, "two clean passes", func() bool {
				return h.metric("postdesk_imap_polls_total", "1", "ok") >= 2
			})
			inbox := list(t, srv.Addr, "INBOX")
			if len(inbox) != 1 || inbox[0].UID != before[0].UID {
				t.Fatalf("inbox %+v: want only the message served without a body", inbox)
			}
		})
	}
}
