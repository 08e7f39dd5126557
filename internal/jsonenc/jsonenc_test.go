package jsonenc

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestAppendStringMatchesEncodingJSON: the bytes of encoding/json for
// every kind of character it escapes (U+FFFD either way, see AppendString).
func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	norm := strings.NewReplacer(`\ufffd`, "\ufffd")
	for _, s := range []string{"", "plain ascii", `quote " backslash \ slash /`, "\x00\x01\b\f\n\r\t\x1f\x7f",
		"<script>&amp;</script>", "Jürgen Søn 日本語 🎫", "bad \xff\xfe utf-8 \xed\xa0\x80", "line\u2028para\u2029end"} {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(AppendString([]byte("x"), s)); got != "x"+norm.Replace(string(want)) && got != "x"+string(want) {
			t.Errorf("AppendString(%q) = %s, encoding/json %s", s, got[1:], want)
		}
	}
}
