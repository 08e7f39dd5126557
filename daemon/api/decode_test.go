package api

import (
	"bytes"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"unicode/utf8"
)

const sampleMail = "From: a@customer.example\r\nSubject: hi\r\n\r\nbody\r\n"

func TestXMLEntitiesNeverExpanded(t *testing.T) {
	laughs := `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">` +
		`<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><r><MailboxId>607</MailboxId><Data>&lol3;</Data></r>`
	external := `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><r><MailboxId>607</MailboxId><Data>&xxe;</Data></r>`
	// Without the DOCTYPE the reference is simply undefined.
	undefined := `<r><MailboxId>607</MailboxId><Data>&xxe;</Data></r>`
	for name, body := range map[string]string{"billion laughs": laughs, "external entity": external, "undefined entity": undefined} {
		req, e := decodeRequest("application/xml", nil, []byte(body))
		if e == nil || e.status != http.StatusBadRequest {
			t.Errorf("%s: decoded %q, err %v; want 400", name, req.Data, e)
		}
		if strings.Contains(string(req.Data), "root:") || strings.Contains(string(req.Data), "lollol") {
			t.Errorf("%s: entity expanded", name)
		}
	}
	if _, err := os.Stat("/etc/passwd"); err == nil {
		// encoding/xml has no means to fetch external entities at all:
		// even the decoder itself, not just our DOCTYPE check, refuses.
		_, e := decodeRequest("text/xml", nil, []byte(strings.Replace(external, "<!DOCTYPE", "<!doctype", 1)))
		if e == nil {
			t.Error("lower-case doctype accepted")
		}
	}
	// Over HTTP, too.
	s := shared(t)
	r := s.do(t, req{path: createPath, ctype: "application/xml", auth: s.admin, body: external})
	if r.code != 400 || strings.Contains(r.body, "root:") {
		t.Errorf("XXE over HTTP: %d %s", r.code, r.body)
	}
}

func TestDeepNestingRejected(t *testing.T) {
	deepJSON := `{"MailboxId":607,"Data":"x","extra":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}`
	deepXML := `<r><MailboxId>607</MailboxId><Data>x</Data>` + strings.Repeat("<a>", 1000) + strings.Repeat("</a>", 1000) + `</r>`
	for ct, body := range map[string]string{"application/json": deepJSON, "application/xml": deepXML} {
		if _, e := decodeRequest(ct, nil, []byte(body)); e == nil || e.status != 400 || e.msg != msgTooDeep {
			t.Errorf("%s: %v, want 400 too deep", ct, e)
		}
	}
	// Brackets inside strings do not count.
	if _, e := decodeRequest("application/json", nil, []byte(`{"MailboxId":607,"Data":"`+strings.Repeat("[{", 100)+`"}`)); e != nil {
		t.Errorf("brackets in a string: %v", e)
	}
}

func TestInvalidUTF8Rejected(t *testing.T) {
	bad := "{\"MailboxId\":607,\"Data\":\"caf\xe9\"}"
	for _, ct := range []string{"application/json", "text/xml", "application/x-www-form-urlencoded"} {
		if _, e := decodeRequest(ct, nil, []byte(bad)); e == nil || e.status != 400 || e.msg != msgBadUTF8 {
			t.Errorf("%s: %v, want 400 invalid UTF-8", ct, e)
		}
	}
	// Raw mail may be 8-bit in any charset.
	r, e := decodeRequest("message/rfc822", url.Values{"MailboxId": {"607"}}, []byte("Subject: caf\xe9\r\n\r\nx"))
	if e != nil || utf8.Valid(r.Data) {
		t.Errorf("8-bit rfc822: %v", e)
	}
	s := shared(t)
	if r := s.do(t, req{path: createPath, ctype: "application/json", auth: s.admin, body: bad}); r.code != 400 {
		t.Errorf("invalid UTF-8 over HTTP: %d", r.code)
	}
}

func TestDecodeFieldsCaseInsensitive(t *testing.T) {
	for _, c := range []struct{ ct, body string }{
		{"application/json", `{"mailboxid":607,"DATA":"` + strings.ReplaceAll(strings.ReplaceAll(sampleMail, "\r", `\r`), "\n", `\n`) + `","PersonID":"12"}`},
		{"text/xml", `<x><MAILBOXID>607</MAILBOXID><dAtA>` + sampleMail + `</dAtA><personid>12</personid></x>`},
		{"application/x-www-form-urlencoded", url.Values{"MAILBOXID": {"607"}, "data": {sampleMail}, "PersonId": {"12"}}.Encode()},
	} {
		r, e := decodeRequest(c.ct, nil, []byte(c.body))
		if e != nil || r.MailboxID != 607 || r.PersonID != 12 || !strings.Contains(string(r.Data), "Subject: hi") {
			t.Errorf("%s: %+v %v", c.ct, r, e)
		}
	}
}

func FuzzDecodeRequest(f *testing.F) {
	seeds := []struct{ ct, query, body string }{
		{"application/json", "", jsonBody(607, sampleMail)},
		{"text/json; charset=utf-8", "", `{"mailboxId":"607","data":"x","personId":3}`},
		{"application/xml", "", `<?xml version="1.0"?><CreateTicketFromMailData><MailboxId>607</MailboxId><Data>` + sampleMail + `</Data></CreateTicketFromMailData>`},
		{"text/xml", "", `<r xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><PersonId i:nil="true"/><MailboxId>1</MailboxId><Data>&lt;x&gt;</Data></r>`},
		{"application/x-www-form-urlencoded", "", url.Values{"MailboxId": {"607"}, "Data": {sampleMail}}.Encode()},
		{"message/rfc822", "MailboxId=607&PersonId=2", sampleMail},
		{"application/json", "", `{"MailboxId":607,"Data":"x","n":[[[{"a":[1]}]]]}`},
		{"application/xml", "", `<!DOCTYPE r [<!ENTITY a "b">]><r>&a;</r>`},
		{"multipart/form-data; boundary=x", "", "--x--"},
	}
	for _, s := range seeds {
		f.Add(s.ct, s.query, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, ct, query string, body []byte) {
		q, _ := url.ParseQuery(query)
		body = bytes.Clone(body) // decodeRequest may unescape Data over it
		r, e := decodeRequest(ct, q, body)
		if e != nil {
			if e.status < 400 || e.status > 499 {
				t.Fatalf("status %d for bad input", e.status)
			}
			if _, ok := catalog[e.msg]; !ok {
				t.Fatalf("message %d not in the catalog", e.msg)
			}
			return
		}
		if r.MailboxID <= 0 || r.PersonID < 0 || len(r.Data) == 0 {
			t.Fatalf("accepted an invalid request: %+v", r)
		}
	})
}

// jsonDepthByByte is the byte-at-a-time state machine jsonDepth replaced:
// the reference its answers are held to.
func jsonDepthByByte(b []byte) int {
	depth, deepest := 0, 0
	inString, escaped := false, false
	for _, c := range b {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			deepest = max(deepest, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}

func TestJSONDepthSkipsStrings(t *testing.T) {
	cases := map[string]int{
		``:                                       0,
		`{}`:                                     1,
		`[[[]]]`:                                 3,
		`{"a":"[[[["}`:                           1,
		`{"a":"\"[[["}`:                          1,
		`{"a":"\\"}[[`:                           2,
		`{"a":"\\\"[["}`:                         1,
		`{"a":"\\\\"}`:                           1,
		`{"a":"[[[`:                              1,
		`"\\\\\\\\\"{{{"`:                        0,
		`{"d":"x\\","e":[{"f":"]"}]}`:            3,
		`{"a":[1,{"b":[2,[3]]}],"c":"{{{{{{{{"}`: 5,
	}
	for in, want := range cases {
		if got := jsonDepth([]byte(in)); got != want {
			t.Errorf("jsonDepth(%s) = %d, want %d", in, got, want)
		}
		if ref := jsonDepthByByte([]byte(in)); ref != want {
			t.Errorf("reference jsonDepthByByte(%s) = %d, want %d", in, ref, want)
		}
	}
}

// FuzzJSONDepth holds jsonDepth to the byte-at-a-time reference.
func FuzzJSONDepth(f *testing.F) {
	for _, s := range []string{`{"a":"\\\"[["}`, `[[["\\"]]]`, `{"MailboxId":607,"Data":"x\"y\\\\"}`, `"`, `\`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := jsonDepth(b), jsonDepthByByte(b); got != want {
			t.Fatalf("jsonDepth(%q) = %d, reference %d", b, got, want)
		}
	})
}
