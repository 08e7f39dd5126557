package api

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
)

// BenchmarkDecodeJSON decodes a CreateTicketFromMailData JSON body carrying
// a 60 KB mail, as SuperOffice clients send it.
func BenchmarkDecodeJSON(b *testing.B) {
	mail := "From: a@example.com\r\nSubject: bench\r\n\r\n" + strings.Repeat("Lorem ipsum \"dolor\" sit amet,\tconsectetur é\r\n", 1300)
	body, _ := json.Marshal(map[string]any{"mailboxId": 607, "data": mail, "personId": 0})
	// Each iteration decodes a fresh copy of the body, as the server
	// decodes each request's: the fast path unescapes Data over it.
	buf := make([]byte, len(body))
	b.Run("request", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			copy(buf, body)
			req, e := decodeRequest("application/json", url.Values{}, buf)
			if e != nil || req.MailboxID != 607 || len(req.Data) != len(mail) {
				b.Fatal(fmt.Sprint(e))
			}
		}
	})
	// A mail as the corpora's are: base64 lines and HTML, which
	// encoding/json-built requests carry with \u003c for every '<'.
	b64 := strings.Repeat("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0\r\n", 200)
	html := strings.Repeat("<p class=\"x\">Hello &amp; <b>world</b>, see <a href=\"https://example.com/\">here</a></p>\r\n", 150)
	mixed := "From: a@example.com\r\nSubject: bench\r\n\r\n" + html + b64
	mixedBody, _ := json.Marshal(map[string]any{"MailboxId": 607, "Data": mixed})
	mixedBuf := make([]byte, len(mixedBody))
	b.Run("mail", func(b *testing.B) {
		b.SetBytes(int64(len(mixedBody)))
		b.ReportAllocs()
		for b.Loop() {
			copy(mixedBuf, mixedBody)
			req, e := decodeRequest("application/json", url.Values{}, mixedBuf)
			if e != nil || len(req.Data) != len(mixed) {
				b.Fatal(fmt.Sprint(e))
			}
		}
	})
	// The encoding/json path alone, which the flat fast path replaced
	// for requests like this one.
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			fields := map[string]string{}
			if e := decodeJSONSlow(body, fields); e != nil || len(fields["data"]) != len(mail) {
				b.Fatal(fmt.Sprint(e))
			}
		}
	})
}
