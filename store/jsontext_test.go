package store

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/postdesk/postdesk/ticket"
)

// FuzzJSONLists holds the hand-written list encoders (a raw mail's holes
// too) to json.Marshal's
// bytes, and to what fromJSON reads back. jsonenc.AppendString, which
// they use, is held to encoding/json by the API's TicketInfo tests too.
func FuzzJSONLists(f *testing.F) {
	for _, s := range []string{"", "a@example.com", "Ann \"A\" <a@b>", "x\\y\x00\x1f\x7f", "Jürgen & Søn", "\xff\xfe bad",
		"line\u2028sep\u2029", "\b\f\n\r\t", "日本語 <script>", "\xed\xa0\x80"} {
		f.Add(s, s+"@x")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		for _, holes := range [][]ticket.RawHole{nil, {{At: int64(len(a)), Len: -int64(len(b)), SHA256: a, Line: len(a) * 7, CRLF: len(b)%2 == 0, CRC32C: b}},
			{{At: 1 << 40, SHA256: b}, {Len: 3, Line: -1, CRC32C: a, CRLF: true}}} {
			want, err := json.Marshal(orEmpty(holes))
			if err != nil {
				t.Fatal(err)
			}
			if got := jsonHoles(holes); !sameJSON(got, string(want)) {
				t.Fatalf("jsonHoles(%+v) = %s, json.Marshal %s", holes, got, want)
			}
		}
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
			_, _ = json.Marshal(refs[:1])
			_, _ = json.Marshal(refs)
			_, _ = json.Marshal(to)
			_, _ = json.Marshal([]ticket.Address{})
		}
	})
}
