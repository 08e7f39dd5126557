package imap

import (
	"bytes"
	"fmt"
	netmail "net/mail"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/postdesk/postdesk/imap/imaptest"
)

// dovecotMail is a realistic small message with a unique Message-ID.
func dovecotMail(i int) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "Return-Path: <customer%d@example.org>\r\nFrom: Customer %d <customer%d@example.org>\r\n", i, i, i)
	fmt.Fprintf(&b, "To: support@example.com\r\nSubject: Printer on floor %d is broken\r\n", i%7)
	fmt.Fprintf(&b, "Message-ID: <dovecot-%06d@example.org>\r\nDate: Thu, 26 Nov 2026 10:00:00 +0000\r\n", i)
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
	for range 20 {
		fmt.Fprintf(&b, "Line of the complaint number %d, long enough to look like real text.\r\n", i)
	}
	return b.Bytes()
}

// TestDovecotDrainAndIdle is the integration test against a real Dovecot:
// 1,000 queued messages are delivered exactly once and acknowledged as
// configured, then a new message arrives through IDLE in under a second.
func TestDovecotDrainAndIdle(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test against Dovecot: skipped with -short")
	}
	const n = 1000
	for _, action := range []string{"seen", "move:Archive"} {
		t.Run(action, func(t *testing.T) {
			d := imaptest.StartDovecot(t)
			raws := make([][]byte, n)
			for i := range raws {
				raws[i] = dovecotMail(i)
			}
			if err := d.DeliverMaildir(raws); err != nil {
				t.Fatal(err)
			}
			sink := newSink(t)
			h := newHarness(t, sink, nil)
			cfg := Config{
				MailboxID: 607, Name: "support", Host: d.Host, Port: d.Port, TLS: TLSNone,
				Username: d.User, Password: d.Password, AfterImport: action,
				DialTimeout: 5 * time.Second, CommandTimeout: 10 * time.Second,
			}
			start := time.Now()
			h.set(cfg)
			waitFor(t, sink, 40*time.Second, "1,000 deliveries", func() bool { return sink.count(607) == n })
			drain := time.Since(start)
			t.Logf("Dovecot drain (%s): %d messages in %v = %.0f msgs/s", action, n, drain.Round(time.Millisecond), n/drain.Seconds())

			ids := make(map[string]int)
			for _, m := range sink.messages(607) {
				msg, err := netmail.ReadMessage(bytes.NewReader(m.Raw))
				if err != nil {
					t.Fatalf("uid %d: %v", m.UID, err)
				}
				ids[msg.Header.Get("Message-Id")]++
			}
			if len(ids) != n {
				t.Errorf("%d distinct Message-IDs delivered, want %d", len(ids), n)
			}
			sink.assertOnce(t)

			waitFor(t, sink, 20*time.Second, "acknowledgements on the server", func() bool {
				switch action {
				case "seen":
					unseen, err1 := d.Count("INBOX", "UNSEEN")
					seen, err2 := d.Count("INBOX", "SEEN")
					return err1 == nil && err2 == nil && unseen == 0 && seen == n
				default:
					inbox, err1 := d.Count("INBOX")
					archived, err2 := d.Count("Archive")
					return err1 == nil && err2 == nil && inbox == 0 && archived == n
				}
			})

			// Latency of a new message, from the end of its delivery
			// (doveadm save returned) to its commit: Dovecot's IDLE
			// notification (it batches changes for 0.5 s) + FETCH + Deliver.
			waitFor(t, sink, patience, "the worker idling", func() bool {
				return h.status(607).Backlog == 0 && strings.Contains(h.log.String(), "imap idling")
			})
			var lat []time.Duration
			for i := range 5 {
				want := n + i + 1
				if err := d.Deliver(dovecotMail(n + i)); err != nil {
					t.Fatalf("%v\n%s", err, d.Log())
				}
				t0 := time.Now()
				waitFor(t, sink, patience, "the new message", func() bool { return sink.count(607) == want })
				lat = append(lat, time.Since(t0))
			}
			slices.Sort(lat)
			t.Logf("Dovecot IDLE latency (%s), delivered → committed, 5 messages: min %v, median %v, max %v",
				action, lat[0].Round(time.Millisecond), lat[2].Round(time.Millisecond), lat[4].Round(time.Millisecond))
			// The median, so that one scheduling hiccup of a loaded CI
			// machine does not fail the test; the figure is logged anyway.
			if lat[2] >= time.Second {
				t.Errorf("new messages took a median %v from delivery to commit, want under 1s", lat[2])
			}
			if v := h.metric("postdesk_imap_reconnects_total", "607"); v != 0 {
				t.Errorf("%v reconnects against a healthy Dovecot", v)
			}
		})
	}
}
