package main

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/postdesk/postdesk/ticket"
)

func TestWithMessageID(t *testing.T) {
	cases := []struct{ name, in string }{
		{"replace", "From: a@b.example\r\nMessage-ID: <old@x>\r\nSubject: hi\r\n\r\nbody\r\n"},
		{"folded", "From: a@b.example\nMessage-Id:\n <old@x>\nSubject: hi\n\nbody\n"},
		{"missing", "From: a@b.example\r\nSubject: hi\r\n\r\nbody\r\n"},
		{"mbox", "From someone Thu Nov 26 10:00:00 2026\nFrom: a@b.example\nSubject: hi\n\nbody\n"},
		{"no body", "From: a@b.example\r\nSubject: hi"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := withMessageID([]byte(c.in), "<new-1@bench>")
			m, err := ticket.ParseMail(out)
			if err != nil {
				t.Fatalf("parse %q: %v", out, err)
			}
			if m.MessageID != "new-1@bench" && m.MessageID != "<new-1@bench>" {
				t.Errorf("Message-ID %q, want new-1@bench; mail %q", m.MessageID, out)
			}
			if bytes.Contains(out, []byte("old@x")) {
				t.Errorf("old Message-ID kept: %q", out)
			}
			if m.Subject != "hi" {
				t.Errorf("Subject %q, want hi; mail %q", m.Subject, out)
			}
			if strings.HasPrefix(c.in, "From ") && !bytes.HasPrefix(out, []byte("From someone")) {
				t.Errorf("mbox From line moved: %q", out)
			}
		})
	}
}

func TestCorpusCopiesAreUnique(t *testing.T) {
	c := &corpus{mails: [][]byte{[]byte("From: a@b.example\r\nMessage-ID: <same@x>\r\n\r\nx\r\n")}}
	seen := map[string]bool{}
	for range 5 {
		m, err := ticket.ParseMail(c.next("t"))
		if err != nil {
			t.Fatal(err)
		}
		if seen[m.MessageID] {
			t.Fatalf("Message-ID %q repeated", m.MessageID)
		}
		seen[m.MessageID] = true
	}
}

func TestBodiesCarryUniqueIDs(t *testing.T) {
	c := &corpus{mails: [][]byte{[]byte("From: a@b.example\r\nSubject: <tag>\r\n\r\nx\r\n")}}
	b, err := newBodies(c)
	if err != nil {
		t.Fatal(err)
	}
	one, two := bytes.Join(b.next("h"), nil), bytes.Join(b.next("h"), nil)
	if bytes.Equal(one, two) || !bytes.Contains(one, []byte("h-0@bench")) || !bytes.Contains(two, []byte("h-1@bench")) {
		t.Errorf("bodies %q and %q", one, two)
	}
}

func TestSelectGroups(t *testing.T) {
	got, err := selectGroups("floor, 3,IMAP")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || !got["floor"] || !got["http"] || !got["imap"] {
		t.Errorf("got %v", got)
	}
	if _, err := selectGroups("nosuch"); err == nil {
		t.Error("unknown group accepted")
	}
	all, _ := selectGroups("")
	if len(all) != len(groups) {
		t.Errorf("default selects %d groups, want %d", len(all), len(groups))
	}
}

func TestPercentile(t *testing.T) {
	var l latencies
	for i := 100; i >= 1; i-- {
		l = append(l, time.Duration(i)*time.Millisecond)
	}
	if p := l.pct(50); p != 50*time.Millisecond {
		t.Errorf("p50 %v", p)
	}
	if p := l.pct(99); p != 99*time.Millisecond {
		t.Errorf("p99 %v", p)
	}
	if p := (latencies{}).pct(99); p != 0 {
		t.Errorf("empty p99 %v", p)
	}
}

func TestBigMail(t *testing.T) {
	big := bigMail()
	if len(big) != bigSize {
		t.Fatalf("size %d, want %d", len(big), bigSize)
	}
	m, err := ticket.ParseMail(big)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Attachments) != 1 || len(m.Attachments[0].Data) < 18<<20 {
		t.Errorf("attachments: %d", len(m.Attachments))
	}
}

func TestWriteTable(t *testing.T) {
	var b bytes.Buffer
	writeTable(&b, []row{{Name: "a|b", Result: "1"}, skipped("x", "c", "t", "why")})
	out := b.String()
	for _, want := range []string{`a\|b`, "skipped: why", "| 2 | c |"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

// The memory rows measure the daemon with the collector settings that the
// unit gives it, which are also the daemon's own defaults.
func TestChildGCMatchesTheUnit(t *testing.T) {
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	unit, err := os.ReadFile("../../systemd/postdesk.service")
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range childGC() {
		if want := "Environment=" + kv + "\n"; !strings.Contains(string(unit), want) {
			t.Errorf("systemd/postdesk.service has no line %q: the unit and daemon/gc.go disagree", strings.TrimSpace(want))
		}
	}
}

func TestLoadClient(t *testing.T) {
	var mu sync.Mutex
	conns, closeNext := 0, false
	var bodies []string
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, r.Method+" "+r.URL.Path+" "+r.Header.Get("Authorization")+" "+string(b))
		cl := closeNext
		closeNext = false
		mu.Unlock()
		if cl {
			w.Header().Set("Connection", "close")
		}
		switch string(b) {
		case "bad":
			http.Error(w, "no such mailbox", http.StatusBadRequest)
		case "chunked":
			w.Write([]byte(`{"TicketId":`))
			w.(http.Flusher).Flush()
			w.Write([]byte(`1}`))
		default:
			w.Write([]byte(`{"TicketId":1}`))
		}
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			mu.Lock()
			conns++
			mu.Unlock()
		}
	}
	srv.Start()
	defer srv.Close()

	lc := newLoadClient(srv.URL, createPath, "tok", 2)
	defer lc.closeIdle()
	for _, b := range []string{"a", "chunked", "b"} {
		if err := lc.post([]byte(b)); err != nil {
			t.Fatalf("post %q: %v", b, err)
		}
	}
	if err := lc.post([]byte("bad")); err == nil || !strings.Contains(err.Error(), "HTTP 400: no such mailbox") {
		t.Fatalf("a 400 gave %v", err)
	}
	mu.Lock()
	closeNext = true
	mu.Unlock()
	if err := lc.post([]byte("c")); err != nil {
		t.Fatal(err)
	}
	if err := lc.post([]byte("d")); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if conns != 2 {
		t.Errorf("%d connections, want 2: one kept alive until the server closed it", conns)
	}
	want := "POST " + createPath + " Bearer tok a"
	if len(bodies) != 6 || bodies[0] != want {
		t.Errorf("server saw %q, want 6 requests starting with %q", bodies, want)
	}
}
