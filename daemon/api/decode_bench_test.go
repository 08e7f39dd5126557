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
	b.Run("request", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			req, e := decodeRequest("application/json", url.Values{}, body)
			if e != nil || req.MailboxID != 607 || len(req.Data) != len(mail) {
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
