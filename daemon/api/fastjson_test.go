package api

import (
	"bytes"
	"maps"
	"testing"
	"unicode/utf8"
)

var flatJSONCases = []struct {
	body string
	fast bool // whether the fast path takes it
}{
	{`{"MailboxId":607,"Data":"From: a@b\r\n\r\nhi"}`, true},
	{` { "mailboxId" : "607" , "data" : "x\"y\\z\/\b\f\n\r\t" , "personId" : 3 } `, true},
	{`{"MAILBOXID":-0,"Data":null,"PersonId":null}`, true},
	{`{"MailboxId":1,"Data":"\u00e9\u20ac\ud83d\ude00 caf\u00C9","Other":true,"More":false,"N":null,"S":"s","I":12}`, true},
	// CR LF pairs, taken as one escape, next to everything that is not one.
	{`{"MailboxId":1,"Data":"a\r\nb\r\n\r\nc\r\r\n\n\r\\n\r\u000a\r\n"}`, true},
	{`{"MailboxId":1,"Data":"\r"}`, true},
	{`{"MailboxId":1,"Data":"x\r\n"}`, true},
	{`{"MailboxId":1,"Data":"x\r\"}`, false},
	{`{"MailboxId":1,"Data":"x\r\n`, false},
	{`{}`, true},
	{`{"Data":"plain ünïcödé 使って"}`, true},
	{`{"MailboxId":1.5,"Data":"x"}`, false},
	{`{"MailboxId":1e3,"Data":"x"}`, false},
	{`{"MailboxId":01,"Data":"x"}`, false},
	{`{"MailboxId":true,"Data":"x"}`, false},
	{`{"MailboxId":1,"Data":5}`, false},
	{`{"MailboxId":1,"Data":"x","mailboxid":2}`, false},
	{`{"MailboxId":1,"Data":"\ud83d"}`, false},
	{`{"MailboxId":1,"Data":"\ude00\ud83d"}`, false},
	{`{"MailboxId":1,"Data":"\x"}`, false},
	{"{\"MailboxId\":1,\"Data\":\"a\x01b\"}", false},
	{`{"MailboxId":1,"Data":"x",}`, false},
	{`{"MailboxId":1,"Data":"x"} x`, false},
	{`{"MailboxId":1,"Data":"x","n":[1]}`, false},
	{`{"MailboxId":1,"Data":"x","n":{}}`, false},
	// Data read (and its escapes noted) before the path gives up: the
	// body must reach encoding/json unchanged.
	{`{"Data":"a\r\nb\u00e9\ud83d\ude00\/c\"","MailboxId":1,"n":[1]}`, false},
	{`{"Data":"a\r\nb\\","MailboxId":1.5}`, false},
	{`{"Mailbox\u0049d":1,"Data":"x"}`, false},
	{`{"MailboxId":1,"Data":"x"`, false},
	{`{"MailboxId":1,"Data":"x`, false},
	{`[]`, false},
	{``, false},
	{"\ufeff{}", false},
}

func TestFlatJSONAgreesWithEncodingJSON(t *testing.T) {
	for _, c := range flatJSONCases {
		fields := map[string]string{}
		ok := decodeFlatJSON([]byte(c.body), fields)
		if ok != c.fast {
			t.Errorf("%s: fast path took it: %v, want %v", c.body, ok, c.fast)
		}
		checkFlatJSON(t, []byte(c.body))
	}
}

// checkFlatJSON fails when the fast path accepts b with a result other
// than encoding/json's.
func checkFlatJSON(t *testing.T, b []byte) {
	t.Helper()
	if !utf8.Valid(b) {
		return // textBody refuses it before decodeJSON
	}
	// The fast path unescapes Data over the body: it gets a copy.
	body := bytes.Clone(b)
	fields := map[string]string{"mailboxid": "from the query"}
	if !decodeFlatJSON(body, fields) {
		if fields["mailboxid"] != "from the query" || len(fields) != 1 {
			t.Fatalf("%q: the fast path gave up but changed fields: %v", b, fields)
		}
		if !bytes.Equal(body, b) {
			t.Fatalf("%q: the fast path gave up but changed the body to %q", b, body)
		}
		return
	}
	want := map[string]string{"mailboxid": "from the query"}
	if e := decodeJSONSlow(b, want); e != nil {
		t.Fatalf("%q: the fast path accepted what encoding/json refuses: %v", b, e.err)
	}
	if !maps.Equal(fields, want) {
		t.Fatalf("%q: fast path %q, encoding/json %q", b, fields, want)
	}
}

func FuzzFlatJSON(f *testing.F) {
	for _, c := range flatJSONCases {
		f.Add([]byte(c.body))
	}
	f.Add([]byte(jsonBody(607, sampleMail)))
	f.Fuzz(func(t *testing.T, b []byte) {
		checkFlatJSON(t, b)
	})
}

// TestRunFindsEverySpecialByte checks the eight-at-a-time scan against the
// byte table: every special byte at every offset, after runs of ordinary
// bytes that sit next to the special ones in value (borrows in the word
// arithmetic would show there).
func TestRunFindsEverySpecialByte(t *testing.T) {
	fill := []byte{0x20, 0x21, 0x23, 0x5b, 0x5d, 0x7f, 0x80, 0xa2, 0xdc, 0xff, 'a'}
	for c := range 256 {
		for at := range 24 {
			for _, f := range fill {
				b := bytes.Repeat([]byte{f}, 40)
				b[at] = byte(c)
				want := at
				if !special[c] {
					want = len(b)
				}
				for from := 0; from <= at; from += 3 {
					if got := run(b, from); got != want {
						t.Fatalf("byte %#x at %d among %#x, from %d: run = %d, want %d", c, at, f, from, got, want)
					}
				}
			}
		}
	}
}
