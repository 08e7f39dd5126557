package api

import (
	"net/http"
	"strings"
	"testing"
)

func TestErrorMessageLanguage(t *testing.T) {
	e := shared(t)
	cases := []struct {
		header map[string]string
		want   string
		lang   string
	}{
		{nil, "No mailbox has this MailboxId.", "en"},
		{map[string]string{"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}, "Es gibt kein Postfach", "de"},
		{map[string]string{"Accept-Language": "fr, nl;q=0.8"}, "Er is geen mailbox", "nl"},
		{map[string]string{"Accept-Language": "nb-NO"}, "Ingen postkasse", "no"},
		{map[string]string{"Accept-Language": "sv"}, "Ingen brevlåda", "sv"},
		{map[string]string{"Accept-Language": "de", "SO-Language": "nl"}, "Er is geen mailbox", "nl"},
		{map[string]string{"Accept-Language": "xx-garbage;;"}, "No mailbox", "en"},
	}
	for _, c := range cases {
		r := e.do(t, req{path: createPath, ctype: "application/json", auth: e.admin, body: jsonBody(4242, mail("a@customer.example", "x")), header: c.header})
		if r.code != 404 {
			t.Fatalf("status %d", r.code)
		}
		if got := errorOf(t, r).ErrorMessage; !strings.HasPrefix(got, c.want) {
			t.Errorf("%v: message %q, want %q…", c.header, got, c.want)
		}
		if got := r.header.Get("Content-Language"); got != c.lang {
			t.Errorf("%v: Content-Language %q, want %q", c.header, got, c.lang)
		}
	}
}

func TestNamesTranslated(t *testing.T) {
	e := shared(t)
	for _, c := range []struct {
		header             map[string]string
		category, priority string
	}{
		{nil, "Technical Support", "Medium"},
		{map[string]string{"Accept-Language": "de"}, "Technischer Support", "Mittel"},
		{map[string]string{"Accept-Language": "de", "SO-Language": "nl-NL"}, "Technische ondersteuning", "Gemiddeld"},
		{map[string]string{"SO-Language": "no"}, "Teknisk støtte", "Medium"},
		{map[string]string{"Accept-Language": "sv-SE"}, "Teknisk support", "Medium"},
		{map[string]string{"Accept-Language": "ja"}, "Technical Support", "Medium"},
	} {
		r := e.do(t, req{path: createPath, ctype: "application/json", auth: e.admin, body: jsonBody(607, mail("lang@customer.example", "Sprache")), header: c.header})
		if r.code != http.StatusOK {
			t.Fatalf("status %d: %s", r.code, r.body)
		}
		info := decodeInfo(t, r.body)
		if info["CategoryName"] != c.category || info["PriorityName"] != c.priority {
			t.Errorf("%v: %v / %v, want %s / %s", c.header, info["CategoryName"], info["PriorityName"], c.category, c.priority)
		}
	}
}

// SO-Culture does not turn TicketId into a formatted string: a JSON
// number stays a number whatever the culture.
func TestCultureLeavesNumbersNumeric(t *testing.T) {
	e := shared(t)
	r := e.do(t, req{path: createPath, ctype: "application/json", auth: e.admin, body: jsonBody(607, mail("c@customer.example", "Kultur")),
		header: map[string]string{"SO-Culture": "de-DE", "SO-TimeZone": "Europe/Berlin"}})
	if r.code != http.StatusOK {
		t.Fatalf("status %d: %s", r.code, r.body)
	}
	if _, ok := decodeInfo(t, r.body)["TicketId"].(float64); !ok {
		t.Errorf("TicketId is not a JSON number: %s", r.body)
	}
}
