package imap

import (
	"bytes"
	"fmt"
	netmail "net/mail"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
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
			t.Logf("Dovecot drain (%s): all %d acknowledged on the server %v after the start", action, n,
				time.Since(start).Round(time.Millisecond))

			// Latency of a new message, from the end of its delivery
			// (doveadm save returned) to its commit: Dovecot's IDLE
			// notification (it batches changes for 0.5 s) + FETCH + Deliver.
			waitFor(t, sink, patience, "the worker idling", func() bool {
				return h.status(607).Backlog == 0 && strings.Contains(h.log.String(), "imap idling")
			})
			// A second client idles on INBOX too: its EXISTS time is
			// Dovecot's own share of the latency, so a machine too loaded
			// to meet the target is told apart from a slow worker.
			exists := idleObserver(t, d)
			var lat, server []time.Duration
			for i := range 5 {
				want := n + i + 1
				drainExists(exists)
				if err := d.Deliver(dovecotMail(n + i)); err != nil {
					t.Fatalf("%v\n%s", err, d.Log())
				}
				t0 := time.Now()
				waitFor(t, sink, patience, "the new message", func() bool { return sink.count(607) == want })
				lat = append(lat, time.Since(t0))
				// With move the worker may take the message away before
				// the observer's process looks: then it sees no EXISTS.
				select {
				case at := <-exists:
					server = append(server, max(at.Sub(t0), 0))
				case <-time.After(2 * time.Second):
				}
			}
			slices.Sort(lat)
			slices.Sort(server)
			dovecotShare := time.Duration(-1)
			if len(server) > 0 {
				dovecotShare = server[len(server)/2]
			}
			t.Logf("Dovecot IDLE latency (%s), delivered → committed, 5 messages: min %v, median %v, max %v "+
				"(Dovecot's EXISTS to a second client alone: median %v of %d)", action, lat[0].Round(time.Millisecond),
				lat[2].Round(time.Millisecond), lat[4].Round(time.Millisecond), dovecotShare.Round(time.Millisecond), len(server))
			switch {
			case lat[2] < time.Second:
			case dovecotShare > 700*time.Millisecond:
				t.Logf("the machine is overloaded (Dovecot itself needed a median %v to announce a message): "+
					"the 1 s target is not asserted on this run", dovecotShare)
			default:
				t.Errorf("new messages took a median %v from delivery to commit, want under 1s", lat[2])
			}
			if v := h.metric("postdesk_imap_reconnects_total", "607"); v != 0 {
				t.Errorf("%v reconnects against a healthy Dovecot", v)
			}
		})
	}
}

// idleObserver logs in as a second client, idles on INBOX and sends the
// arrival time of every EXISTS.
func idleObserver(t *testing.T, d *imaptest.Dovecot) <-chan time.Time {
	t.Helper()
	ch := make(chan time.Time, 64)
	c, err := imapclient.DialInsecure(d.Addr, &imapclient.Options{
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			Mailbox: func(m *imapclient.UnilateralDataMailbox) {
				if m.NumMessages != nil {
					select {
					case ch <- time.Now():
					default:
					}
				}
			},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Login(d.User, d.Password).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	idle, err := c.Idle()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = idle.Close() })
	return ch
}

func drainExists(ch <-chan time.Time) {
	for {
		select {
		case <-ch:
		default:
			return
		}
	}
}
