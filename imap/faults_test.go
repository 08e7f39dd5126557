package imap

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/postdesk/postdesk/imap/imaptest"
)

// bulky returns a message of about n bytes.
func bulky(i, n int) []byte {
	return append(mail(i, fmt.Sprintf("bulky %d", i)), bytes.Repeat([]byte("abcdefghijklmnopqrstuvwxyz0123456789\r\n"), n/38)...)
}

func TestConnectionCutMidFetch(t *testing.T) {
	t.Parallel()
	srv := startMem(t, nil)
	const n = 30
	for i := range n {
		if err := srv.Append("u", "INBOX", bulky(i, 40<<10)); err != nil {
			t.Fatal(err)
		}
	}
	proxy := imaptest.StartProxy(t, srv.Addr)
	proxy.CutAfter(500 << 10) // inside the body FETCH of the first batch
	sink := newSink(t)
	h := newHarness(t, sink, nil)
	cfg := memConfig(1, proxy.Host, proxy.Port)
	cfg.BatchSize = 20
	h.set(cfg)
	waitFor(t, sink, patience, "all messages", func() bool { return sink.count(1) == n })
	waitFor(t, sink, patience, "all \\Seen", func() bool { return countSeen(list(t, srv.Addr, "INBOX")) == n })
	sink.assertOnce(t)
	if proxy.Cuts() != 1 || proxy.Accepted() < 2 {
		t.Errorf("proxy cut %d connections, accepted %d", proxy.Cuts(), proxy.Accepted())
	}
	if v := h.metric("postdesk_imap_reconnects_total", "1"); v < 1 {
		t.Errorf("reconnects = %v", v)
	}
	for _, m := range sink.messages(1) {
		if !bytes.Equal(m.Raw, bulky(int(m.UID)-1, 40<<10)) {
			t.Errorf("uid %d delivered damaged (%d bytes)", m.UID, len(m.Raw))
		}
	}
}

func TestStalledServer(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		hide bool
	}{{"poll", true}, {"idle", false}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			opts := &imaptest.MemOptions{}
			if tc.hide {
				opts.Caps, opts.HideCaps = rev1, noIdle
			}
			srv := startMem(t, opts)
			proxy := imaptest.StartProxy(t, srv.Addr)
			sink := newSink(t)
			h := newHarness(t, sink, nil)
			cfg := memConfig(1, proxy.Host, proxy.Port)
			cfg.PollInterval = 100 * time.Millisecond
			cfg.IdleRestart = 300 * time.Millisecond
			cfg.CommandTimeout = 500 * time.Millisecond
			h.set(cfg)
			waitFor(t, sink, patience, "a first pass", func() bool { return !h.status(1).LastSuccess.IsZero() })

			proxy.Stall() // the open connection goes silent, new ones work
			if err := srv.Append("u", "INBOX", mail(1, "after the stall")); err != nil {
				t.Fatal(err)
			}
			waitFor(t, sink, patience, "delivery over a new connection", func() bool { return sink.count(1) == 1 })
			if proxy.Accepted() < 2 {
				t.Errorf("accepted %d connections: the worker did not reconnect", proxy.Accepted())
			}
			if v := h.metric("postdesk_imap_reconnects_total", "1"); v < 1 {
				t.Errorf("reconnects = %v", v)
			}
			waitFor(t, sink, patience, "\\Seen", func() bool { return countSeen(list(t, srv.Addr, "INBOX")) == 1 })
			sink.assertOnce(t)
		})
	}
}

func TestPanicRecovered(t *testing.T) {
	t.Parallel()
	srv := startMem(t, nil)
	if err := srv.Append("u", "INBOX", mail(1, "panics once")); err != nil {
		t.Fatal(err)
	}
	sink := newSink(t)
	sink.panicOne = true
	h := newHarness(t, sink, nil)
	h.set(memConfig(1, srv.Host, srv.Port))
	waitFor(t, sink, patience, "delivery after the panic", func() bool { return sink.count(1) == 1 })
	if v := h.metric("postdesk_panics_total"); v != 1 {
		t.Errorf("postdesk_panics_total = %v, want 1", v)
	}
	sink.assertOnce(t)
}

func TestConnectionCutWhileIdle(t *testing.T) {
	t.Parallel()
	srv := startMem(t, nil)
	proxy := imaptest.StartProxy(t, srv.Addr)
	sink := newSink(t)
	h := newHarness(t, sink, nil)
	h.set(memConfig(1, proxy.Host, proxy.Port))
	waitFor(t, sink, patience, "a first pass", func() bool { return !h.status(1).LastSuccess.IsZero() })
	proxy.Cut()
	if err := srv.Append("u", "INBOX", mail(1, "after the cut")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, sink, patience, "delivery after reconnecting", func() bool { return sink.count(1) == 1 })
	if proxy.Accepted() != 2 {
		t.Errorf("accepted %d connections, want 2", proxy.Accepted())
	}
	sink.assertOnce(t)
}

func TestMissingFolderBacksOff(t *testing.T) {
	t.Parallel()
	srv := startMem(t, nil)
	sink := newSink(t)
	h := newHarness(t, sink, nil)
	cfg := memConfig(1, srv.Host, srv.Port)
	cfg.Folder = "Gone"
	h.set(cfg, memConfig(2, srv.Host, srv.Port))
	if err := srv.Append("u", "INBOX", mail(1, "for the healthy mailbox")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, sink, patience, "select failures", func() bool {
		return h.metric("postdesk_imap_polls_total", "1", "error") >= 3
	})
	if st := h.status(1); !strings.Contains(st.LastError, `select "Gone"`) || st.Connected {
		t.Errorf("Status = %+v", st)
	}
	waitFor(t, sink, patience, "the other mailbox importing", func() bool { return sink.count(2) == 1 })

	// The folder appears: the worker recovers on its own.
	if err := srv.User("u").Create("Gone", nil); err != nil {
		t.Fatal(err)
	}
	if err := srv.Append("u", "Gone", mail(2, "in the new folder")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, sink, patience, "delivery from the re-created folder", func() bool { return sink.count(1) == 1 })
}

func TestServerRefusals(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		command, action, folder string
	}{
		{"SELECT", "seen", "INBOX"},
		{"SEARCH", "seen", "INBOX"},
		{"FETCH", "seen", "INBOX"},
		{"STORE", "seen", "INBOX"},
		{"MOVE", "move:Archive", "Archive"},
		{"EXPUNGE", "delete", ""},
	} {
		t.Run(tc.command, func(t *testing.T) {
			t.Parallel()
			srv := startMem(t, nil)
			var mu sync.Mutex
			refused := 0
			srv.SetFault(func(cmd string) error {
				mu.Lock()
				defer mu.Unlock()
				if cmd != tc.command || refused == 3 {
					return nil
				}
				refused++
				return &imap.Error{Type: imap.StatusResponseTypeNo, Text: "injected refusal"}
			})
			for i := range 3 {
				if err := srv.Append("u", "INBOX", mail(i, "refused "+tc.command)); err != nil {
					t.Fatal(err)
				}
			}
			sink := newSink(t)
			h := newHarness(t, sink, nil)
			cfg := memConfig(1, srv.Host, srv.Port)
			cfg.AfterImport = tc.action
			h.set(cfg)
			waitFor(t, sink, patience, "3 deliveries and the acknowledgements", func() bool {
				if sink.count(1) != 3 {
					return false
				}
				switch tc.folder {
				case "INBOX":
					return countSeen(list(t, srv.Addr, "INBOX")) == 3
				case "":
					return len(list(t, srv.Addr, "INBOX")) == 0
				default:
					return len(list(t, srv.Addr, tc.folder)) == 3
				}
			})
			mu.Lock()
			n := refused
			mu.Unlock()
			if n != 3 {
				t.Errorf("%s refused %d times, want 3", tc.command, n)
			}
			if v := h.metric("postdesk_imap_polls_total", "1", "error"); v < 1 {
				t.Errorf("polls error = %v", v)
			}
			sink.assertOnce(t)
		})
	}
}
