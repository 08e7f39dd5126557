package faulttest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/postdesk/postdesk/store"
)

// requestCase is a hostile HTTP request (the envelope, not the mail).
type requestCase struct {
	name string
	send func(t *testing.T, td *testDaemon) (int, http.Header, []byte)
	want []int
}

func jsonReq(body string) func(*testing.T, *testDaemon) (int, http.Header, []byte) {
	return func(t *testing.T, td *testDaemon) (int, http.Header, []byte) {
		return td.rawDo(t, "POST", createPath, []string{"Content-Type: application/json"}, strings.NewReader(body), int64(len(body)))
	}
}

func typedReq(ctype, query, body string, head ...string) func(*testing.T, *testDaemon) (int, http.Header, []byte) {
	return func(t *testing.T, td *testDaemon) (int, http.Header, []byte) {
		if ctype != "" {
			head = append(head, "Content-Type: "+ctype)
		}
		return td.rawDo(t, "POST", createPath+query, head, strings.NewReader(body), int64(len(body)))
	}
}

func bigReq(ctype, query, prefix string, fill byte, n int64, suffix string, chunked bool) func(*testing.T, *testDaemon) (int, http.Header, []byte) {
	return func(t *testing.T, td *testDaemon) (int, http.Header, []byte) {
		r, length := streamed(prefix, fill, n, suffix)
		if chunked {
			length = -1
		}
		return td.rawDo(t, "POST", createPath+query, []string{"Content-Type: " + ctype}, r, length)
	}
}

const okMail = "From: a@acme.example\r\nSubject: fine\r\nMessage-ID: <fine-%d@x>\r\n\r\nhi\r\n"

func okJSON(i int) string {
	b, _ := json.Marshal(map[string]any{"MailboxId": 607, "Data": fmt.Sprintf(okMail, i)})
	return string(b)
}

var billionLaughs = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">` +
	`<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;"><!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">` +
	`<!ENTITY lol9 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">]><CreateTicketFromMailData><MailboxId>607</MailboxId><Data>&lol9;</Data></CreateTicketFromMailData>`

var xxe = `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><CreateTicketFromMailData><MailboxId>607</MailboxId><Data>From: a@b.example&#13;&#10;Subject: &xxe;&#13;&#10;&#13;&#10;x</Data></CreateTicketFromMailData>`

var requestCases = []requestCase{
	{"JSON body of 50 MB (over max_body_size)", bigReq("application/json", "", `{"MailboxId":607,"Data":"`, 'a', 50<<20, `"}`, false), []int{413}},
	{"JSON body of 50 MB chunked", bigReq("application/json", "", `{"MailboxId":607,"Data":"`, 'a', 50<<20, `"}`, true), []int{413}},
	{"message/rfc822 of 50 MB", bigReq("message/rfc822", "?MailboxId=607", "From: a@b.example\r\nSubject: big\r\n\r\n", 'a', 50<<20, "", false), []int{413}},
	{"200 MB header line (message/rfc822, streamed)", bigReq("message/rfc822", "?MailboxId=607", "From: a@b.example\r\nX-Long: ", 'A', 200<<20, "\r\n\r\nbody", false), []int{413}},
	{"200 MB header line (JSON Data, streamed)", bigReq("application/json", "", `{"MailboxId":607,"Data":"From: a@b.example\r\nX-Long: `, 'A', 200<<20, `\r\n\r\nbody"}`, false), []int{413}},
	{"30 MB mail (over import max_size, under body limit)", bigReq("message/rfc822", "?MailboxId=607", "From: a@b.example\r\nMessage-ID: <big30@x>\r\nSubject: big\r\n\r\n", 'a', 30<<20, "", false), []int{413, 422}},
	{"deeply nested JSON arrays", jsonReq(strings.Repeat("[", 100000) + strings.Repeat("]", 100000)), []int{400}},
	{"deeply nested JSON in Data", jsonReq(`{"MailboxId":607,"Data":` + strings.Repeat(`{"a":`, 50000) + "1" + strings.Repeat("}", 50000) + "}"), []int{400}},
	{"JSON Data is a number", jsonReq(`{"MailboxId":607,"Data":12345}`), []int{400}},
	{"JSON MailboxId is a string", jsonReq(`{"MailboxId":"abc","Data":"From: a@b.example\r\n\r\nx"}`), []int{400}},
	{"JSON MailboxId overflows int64", jsonReq(`{"MailboxId":1e400,"Data":"From: a@b.example\r\n\r\nx"}`), []int{400}},
	{"JSON MailboxId negative", jsonReq(`{"MailboxId":-607,"Data":"From: a@b.example\r\n\r\nx"}`), []int{400, 404}},
	{"JSON unknown MailboxId", jsonReq(`{"MailboxId":999999,"Data":"From: a@b.example\r\n\r\nx"}`), []int{404}},
	{"JSON unknown PersonId", jsonReq(`{"MailboxId":607,"PersonId":424242,"Data":"From: a@b.example\r\n\r\nx"}`), []int{400}},
	{"JSON truncated", jsonReq(`{"MailboxId":607,"Data":"From: a@b`), []int{400}},
	{"JSON with invalid UTF-8", jsonReq("{\"MailboxId\":607,\"Data\":\"From: a@b.example\r\n\r\n\xff\xfe\"}"), []int{400}},
	{"empty body", jsonReq(""), []int{400}},
	{"JSON Data not mail", jsonReq(`{"MailboxId":607,"Data":"autem"}`), []int{400}},
	{"JSON Data binary garbage", jsonReq(`{"MailboxId":607,"Data":"\u0000\u0001\u0002\u00ff\u0000\u0000garbage\u0000"}`), []int{400}},
	{"JSON Data empty", jsonReq(`{"MailboxId":607,"Data":""}`), []int{400}},
	{"JSON Data only an mbox From_ line", jsonReq(`{"MailboxId":607,"Data":"From nobody Thu Nov 26 10:00:00 2026\n"}`), []int{400}},
	{"XML entity expansion (billion laughs)", typedReq("application/xml", "", billionLaughs), []int{400}},
	{"XML external entity", typedReq("text/xml", "", xxe), []int{400}},
	{"XML 100000-deep elements", typedReq("application/xml", "", strings.Repeat("<a>", 100000)+strings.Repeat("</a>", 100000)), []int{400}},
	{"XML with invalid UTF-8", typedReq("application/xml", "", "<CreateTicketFromMailData><MailboxId>607</MailboxId><Data>\xff\xfe</Data></CreateTicketFromMailData>"), []int{400}},
	{"form body with 100000 fields", typedReq("application/x-www-form-urlencoded", "", strings.Repeat("x=1&", 100000)), []int{400}},
	{"unsupported Content-Type", typedReq("text/plain", "", okJSON(1)), []int{415}},
	{"no Content-Type", typedReq("", "", okJSON(2)), []int{400, 415}},
	{"Accept image/png", typedReq("application/json", "", okJSON(3), "Accept: image/png"), []int{406}},
	{"message/rfc822 without MailboxId", typedReq("message/rfc822", "", fmt.Sprintf(okMail, 4)), []int{400}},
	{"message/rfc822 with MailboxId=abc", typedReq("message/rfc822", "?MailboxId=abc", fmt.Sprintf(okMail, 5)), []int{400}},
	{"no credentials", typedReq("application/json", "", okJSON(6), "Authorization: "), []int{401}},
	{"Basic with broken base64", typedReq("application/json", "", okJSON(7), "Authorization: Basic !!!not-base64"), []int{401}},
	{"1 MB Authorization header", typedReq("application/json", "", okJSON(8), "Authorization: Bearer "+strings.Repeat("x", 1<<20)), []int{401, 431}},
	{"NUL in a header value", typedReq("application/json", "", okJSON(9), "X-Evil: a\x00b"), []int{400}},
	{"CRLF injection in $select", typedReq("application/json", "?$select=Title%0d%0aSet-Cookie:%20pwned=1", okJSON(10)), []int{200, 400}},
	{"$select with 10000 fields", typedReq("application/json", "?$select="+strings.Repeat("Title,", 10000), okJSON(11)), []int{200, 400, 414, 431}},
	{"GET on the import route", func(t *testing.T, td *testDaemon) (int, http.Header, []byte) {
		return td.rawDo(t, "GET", createPath, nil, nil, 0)
	}, []int{405}},
	{"path traversal in the URL", func(t *testing.T, td *testDaemon) (int, http.Header, []byte) {
		return td.rawDo(t, "GET", "/api/v1/../../../../etc/passwd", nil, nil, 0)
	}, []int{301, 307, 308, 400, 404}},
	{"ticket id not a number", func(t *testing.T, td *testDaemon) (int, http.Header, []byte) {
		return td.rawDo(t, "GET", "/api/v1/Ticket/1%27%20OR%201=1", nil, nil, 0)
	}, []int{400, 404}},
}

// mailWant are the answers a hostile but well-framed mail may get: imported
// (leniently), refused as not mail, too large, or quarantined.
var mailWant = []int{200, 400, 413, 422}

// TestHostileInput sends every hostile request and mail through the HTTP
// API of a real daemon on loopback, then delivers the mails to a polled
// IMAP mailbox. Every answer must be the expected clear status (never a
// 5xx), the daemon stays healthy after each, and every mail delivered over
// IMAP ends up stored once or in the quarantine, \Seen on the server.
func TestHostileInput(t *testing.T) {
	t.Parallel()
	srv := startFaultServer(t)
	srv.addUser(t, "u1", "p1")
	td := startDaemon(t, daemonConfig{
		Mailboxes: fmt.Sprintf("  - {id: 607, name: support, address: support@example.com, imap: {host: %s, port: %d, tls: none, username: u1, password: p1, poll_interval: 1s}}\n", srv.Host, srv.Port),
	})
	survived := 0
	for _, rc := range requestCases {
		code, h, body := rc.send(t, td)
		ok := slices.Contains(rc.want, code)
		if !ok {
			t.Errorf("%s: answered %d %.200q, want one of %v", rc.name, code, body, rc.want)
		}
		if strings.Contains(string(body), "root:x:0:0") {
			t.Errorf("%s: the answer leaks /etc/passwd", rc.name)
		}
		if v := h.Get("Set-Cookie"); strings.Contains(v, "pwned") {
			t.Errorf("%s: header injection reached the response: Set-Cookie %q", rc.name, v)
		}
		td.healthy(rc.name)
		if ok {
			survived++
		}
	}
	record(t, "hostile HTTP requests (envelope)", len(requestCases), survived, 0, 0)

	// The mails, through the API as message/rfc822 (raw bytes kept).
	type stored struct{ name, check string }
	var tickets = map[int64]stored{}
	survived = 0
	for i, mc := range mailCases {
		raw := mc.mail(fmt.Sprintf("hostile-http-%d@faulttest.example", i))
		code, _, body := td.rawDo(t, "POST", createPath+"?MailboxId=607", []string{"Content-Type: message/rfc822"}, bytes.NewReader(raw), int64(len(raw)))
		ok := slices.Contains(mailWant, code)
		if !ok {
			t.Errorf("mail %q: answered %d %.200q", mc.name, code, body)
		}
		if code == 200 {
			var info struct{ TicketId int64 }
			if err := json.Unmarshal(body, &info); err != nil || info.TicketId == 0 {
				t.Errorf("mail %q: 200 without a TicketId: %.200s", mc.name, body)
			}
			tickets[info.TicketId] = stored{mc.name, mc.check}
		}
		t.Logf("HTTP %-45s → %d", mc.name, code)
		td.healthy(mc.name)
		if ok {
			survived++
		}
	}
	record(t, "hostile mails via HTTP API", len(mailCases), survived, 0, 0)

	// The same mails over IMAP, then a normal one behind them.
	ids := map[string]string{}
	overIMAP := 0
	for i, mc := range mailCases {
		if mc.notOverIMAP {
			continue
		}
		overIMAP++
		id := fmt.Sprintf("hostile-imap-%d@faulttest.example", i)
		ids[id] = mc.name
		srv.deliver(t, "u1", "INBOX", mc.mail(id))
	}
	last := "hostile-imap-last@faulttest.example"
	srv.deliver(t, "u1", "INBOX", testMail(last, "after the hostile ones", "ann@acme.example"))
	waitUntil(t, 2*time.Minute, "every hostile mail acknowledged over IMAP", func() (bool, error) {
		msgs, err := listFolder(srv, "u1", "p1")
		if err != nil {
			return false, err
		}
		for _, m := range msgs {
			if !m.Seen() {
				return false, nil
			}
		}
		return len(msgs) == overIMAP+1, nil
	})
	td.healthy("hostile IMAP mails")

	td.stop()
	st, err := store.Open(td.dbPath, store.Options{Logger: discardLog()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for id, s := range tickets {
		checkStored(t, st, id, s.name, s.check)
	}
	where := locateRaw(t, st, ids)
	lost, dup, quarantined := 0, 0, 0
	for id, name := range ids {
		switch w := where[id]; {
		case w.messages == 0 && w.quarantined == 0:
			lost++
			t.Errorf("IMAP mail %q is neither stored nor quarantined", name)
		case w.messages+w.quarantined > 1:
			dup++
			t.Errorf("IMAP mail %q is stored %d times and quarantined %d times", name, w.messages, w.quarantined)
		case w.quarantined == 1:
			quarantined++
			t.Logf("IMAP %-45s → quarantined", name)
		}
	}
	if w := locateRaw(t, st, map[string]string{last: ""})[last]; w.messages != 1 {
		t.Errorf("the normal mail after the hostile ones is stored %d times", w.messages)
	}
	t.Logf("IMAP: %d hostile mails imported, %d quarantined", len(ids)-lost-dup-quarantined, quarantined)
	record(t, "hostile mails via IMAP", len(ids), len(ids)-lost-dup, lost, dup)
}

// checkStored verifies what a hostile mail left in the store.
func checkStored(t *testing.T, st *store.Store, id int64, name, check string) {
	t.Helper()
	d, err := st.TicketDetail(t.Context(), id)
	if err != nil {
		t.Errorf("mail %q: ticket %d: %v", name, id, err)
		return
	}
	switch check {
	case "safe-filenames":
		for _, m := range d.Messages {
			for _, a := range m.Attachments {
				if strings.Contains(a.Filename, "/") || strings.Contains(a.Filename, `\`) || strings.Contains(a.Filename, "..") ||
					strings.ContainsFunc(a.Filename, unicode.IsControl) {
					t.Errorf("mail %q: stored attachment name %q", name, a.Filename)
				}
			}
		}
	case "clean-title":
		if strings.ContainsFunc(d.Title, unicode.IsControl) {
			t.Errorf("mail %q: title %q holds control characters", name, d.Title)
		}
	}
}

// found says where a raw mail was found.
type found struct{ messages, quarantined int }

// locateRaw finds each Message-ID (as "<id>" in the raw bytes, which also
// covers mails whose Message-ID the parser could not read) among the stored
// messages and the quarantine.
func locateRaw(t *testing.T, st *store.Store, ids map[string]string) map[string]found {
	t.Helper()
	ctx := t.Context()
	out := map[string]found{}
	look := func(raw []byte, quarantine bool) {
		for id := range ids {
			if bytes.Contains(raw, []byte("<"+id+">")) {
				f := out[id]
				if quarantine {
					f.quarantined++
				} else {
					f.messages++
				}
				out[id] = f
			}
		}
	}
	var tickets []int64
	if err := st.EachTicket(ctx, store.ListOptions{}, func(ts store.TicketSummary) error {
		tickets = append(tickets, ts.ID)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, id := range tickets {
		d, err := st.TicketDetail(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range d.Messages {
			raw, err := st.RawMessage(ctx, m.ID)
			if err != nil {
				t.Fatal(err)
			}
			look(raw, false)
		}
	}
	items, err := st.ListQuarantine(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		full, err := st.QuarantineItem(ctx, it.ID)
		if err != nil {
			t.Fatal(err)
		}
		look(full.Raw, true)
	}
	return out
}

// TestHostileHugeHeaderOverIMAP delivers a mail whose header holds one
// line of 200 MB to a polled mailbox. The server announces its size, so
// postdesk fetches only the header, reads at most max_size of it, and
// quarantines the mail (oversize) instead of buffering it. Like any
// oversize mail it is left on the server unflagged (for the admin to fetch
// by other means); the daemon stays healthy and the mailbox keeps
// importing.
func TestHostileHugeHeaderOverIMAP(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: a 200 MB mail")
	}
	t.Parallel()
	srv := startFaultServer(t)
	srv.addUser(t, "u1", "p1")
	td := startDaemon(t, daemonConfig{
		Mailboxes: fmt.Sprintf("  - {id: 607, name: support, imap: {host: %s, port: %d, tls: none, username: u1, password: p1, poll_interval: 1s}}\n", srv.Host, srv.Port),
	})
	huge, last := "hostile-imap-200mb@faulttest.example", "hostile-imap-after-200mb@faulttest.example"
	srv.deliver(t, "u1", "INBOX", longHeaderLine(huge, 200<<20))
	srv.deliver(t, "u1", "INBOX", testMail(last, "after the 200 MB header", "ann@acme.example"))
	// Waiting on the daemon's own counters: listing the folder makes the
	// test server parse the 200 MB header each time.
	waitUntil(t, 2*time.Minute, "the 200 MB mail quarantined and the next one imported", func() (bool, error) {
		return td.metric("postdesk_quarantine_messages") == 1 &&
			td.metric("postdesk_imports_total", "outcome", "created") == 1, nil
	})
	waitUntil(t, 30*time.Second, "the next mail \\Seen, the 200 MB one left unflagged", func() (bool, error) {
		msgs, err := listFolder(srv, "u1", "p1")
		if err != nil {
			return false, err
		}
		if len(msgs) != 2 || msgs[0].Seen() {
			return false, fmt.Errorf("folder: %+v", msgs)
		}
		return msgs[1].Seen(), nil
	})
	td.healthy("200 MB header over IMAP")
	td.stop()

	st, err := store.Open(td.dbPath, store.Options{Logger: discardLog()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	where := locateRaw(t, st, map[string]string{huge: "", last: ""})
	if w := where[huge]; w.quarantined != 1 || w.messages != 0 {
		t.Errorf("the 200 MB header mail: stored %d, quarantined %d; want quarantined once", w.messages, w.quarantined)
	}
	if w := where[last]; w.messages != 1 {
		t.Errorf("the mail after it is stored %d times", w.messages)
	}
	items, err := st.ListQuarantine(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		full, err := st.QuarantineItem(t.Context(), it.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(full.Raw) > 26<<20 {
			t.Errorf("quarantine item %d keeps %d bytes of the header, more than max_size", it.ID, len(full.Raw))
		}
		t.Logf("quarantined: %s (size %d, %d bytes kept)", it.Reason, it.Size, len(full.Raw))
	}
	ok := 0
	if where[huge].quarantined == 1 && where[last].messages == 1 {
		ok = 1
	}
	record(t, "hostile mails via IMAP: 200 MB header line", 1, ok, 1-ok, 0)
}
