package store

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/postdesk/postdesk/ticket"
)

// FuzzJSONLists holds the hand-written list encoders to json.Marshal's
// bytes, and to what fromJSON reads back. jsonenc.AppendString, which
// they use, is held to encoding/json by the API's TicketInfo tests too.
func FuzzJSONLists(f *testing.F) {
	for _, s := range []string{"", "a@example.com", "Ann \"A\" <a@b>", "x\\y\x00\x1f\x7f", "Jürgen & Søn", "\xff\xfe bad",
		"line\u2028sep\u2029", "\b\f\n\r\t", "日本語 <script>", "\xed\xa0\x80"} {
		f.Add(s, s+"@x")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		for _, ss := range [][]string{nil, {}, {a}, {a, b}} {
			want, err := json.Marshal(orEmpty(ss))
			if err != nil {
				t.Fatal(err)
			}
			if got := jsonStrings(ss); !sameJSON(got, string(want)) {
				t.Fatalf("jsonStrings(%q) = %s, json.Marshal %s", ss, got, want)
			}
			var back []string
			if err := fromJSON(jsonStrings(ss), &back); err != nil {
				t.Fatalf("read back %q: %v", ss, err)
			}
		}
		for _, as := range [][]ticket.Address{nil, {{Name: a, Email: b}}, {{Name: a}, {Email: b}}} {
			want, err := json.Marshal(orEmpty(as))
			if err != nil {
				t.Fatal(err)
			}
			if got := jsonAddresses(as); !sameJSON(got, string(want)) {
				t.Fatalf("jsonAddresses(%q) = %s, json.Marshal %s", as, got, want)
			}
		}
	})
}

// sameJSON compares the encoders' bytes, reading U+FFFD as Go 1.26's
// encoding/json wrote it (escaped) and 1.27's (the character) alike.
func sameJSON(a, b string) bool {
	norm := strings.NewReplacer(`\ufffd`, "\ufffd")
	return norm.Replace(a) == norm.Replace(b)
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func BenchmarkJSONLists(b *testing.B) {
	refs := []string{"<a1@mail.example.com>", "<b2@mail.example.com>", "<c3@mail.example.com>"}
	to := []ticket.Address{{Name: "Support", Email: "support@desk.example"}, {Name: "Ann Example", Email: "ann@example.com"}}
	b.Run("hand", func(b *testing.B) {
		for b.Loop() {
			_ = jsonStrings(refs[:1])
			_ = jsonStrings(refs)
			_ = jsonAddresses(to)
			_ = jsonAddresses(nil)
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		for b.Loop() {
			_ = jsonText(refs[:1])
			_ = jsonText(refs)
			_ = jsonText(to)
			_ = jsonText([]ticket.Address{})
		}
	})
}
