package ticket

import (
	"net/textproto"
	"testing"
)

// oldCanonicalKey is canonicalKey as it was before its fast paths, for
// every name: canonicalKeyUnicode is that function unchanged. It is the
// oracle the tests hold canonicalKey to.
var oldCanonicalKey = canonicalKeyUnicode

var canonicalKeySeeds = []string{
	"", "-", "--", "a", "A", "Content-Type", "content-type", "CONTENT-TYPE", "Message-ID", "MIME-Version",
	"X-Auto-Response-Suppress", "DKIM-Signature", "x-loop", "X-Mailer", "-x-", "Received-SPF", "a-b-c", "A-B-C",
	"Subject ", " Subject", "Sub ject", "x_loop", "X-1-z", "9Z", "z9z", "ÄRGER", "äx-Ärger", "X-\xffbad", "\xc3", "Ab\x80",
}

func TestCanonicalKeyAgreesWithTheOldForm(t *testing.T) {
	for _, k := range canonicalKeySeeds {
		if got, want := canonicalKey(k), oldCanonicalKey(k); got != want {
			t.Errorf("canonicalKey(%q) = %q, want %q", k, got, want)
		}
	}
	// Names of ASCII letters, digits and hyphens are what net/textproto
	// makes of them too.
	for _, k := range []string{"content-type", "MESSAGE-ID", "x-ms-exchange-organization-scl", "Mime-Version"} {
		if got, want := canonicalKey(k), textproto.CanonicalMIMEHeaderKey(k); got != want {
			t.Errorf("canonicalKey(%q) = %q, textproto %q", k, got, want)
		}
	}
}

func TestCanonicalKeyDoesNotAllocateForCanonicalNames(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation count")
	}
	for _, k := range []string{"Content-Type", "X-Auto-Response-Suppress", "Subject"} {
		if n := testing.AllocsPerRun(100, func() { _ = canonicalKey(k) }); n != 0 {
			t.Errorf("canonicalKey(%q): %.0f allocations, want 0", k, n)
		}
	}
	if n := testing.AllocsPerRun(100, func() { _ = canonicalKey("MIME-Version") }); n > 1 {
		t.Errorf("canonicalKey(MIME-Version): %.0f allocations, want 1", n)
	}
}

func FuzzCanonicalKey(f *testing.F) {
	for _, k := range canonicalKeySeeds {
		f.Add(k)
	}
	f.Fuzz(func(t *testing.T, k string) {
		if got, want := canonicalKey(k), oldCanonicalKey(k); got != want {
			t.Errorf("canonicalKey(%q) = %q, want %q", k, got, want)
		}
	})
}

// BenchmarkCanonicalKey compares canonicalKey with the oracle (the form
// before the fast paths) on the names a typical mail has.
func BenchmarkCanonicalKey(b *testing.B) {
	keys := []string{"Content-Type", "Message-ID", "MIME-Version", "Subject", "From", "x-mailer", "DKIM-Signature", "Received"}
	for _, bc := range []struct {
		name string
		fn   func(string) string
	}{{"now", canonicalKey}, {"before", oldCanonicalKey}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				for _, k := range keys {
					_ = bc.fn(k)
				}
			}
		})
	}
}
