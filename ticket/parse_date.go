package ticket

import (
	"net/mail"
	"strings"
	"time"
)

// rfc5322Date is the usual form of a Date header (RFC 5322 §3.3).
const rfc5322Date = "Mon, 2 Jan 2006 15:04:05 -0700"

// dateLayouts are tried after net/mail's RFC 5322 §3.3 parser fails.
var dateLayouts = []string{
	"Mon, 2 Jan 2006 15:04:05 -0700",
	"Mon, 2 Jan 2006 15:04 -0700",
	"2 Jan 2006 15:04:05 -0700",
	"Mon, 2 Jan 06 15:04:05 -0700",
	"Mon, 2 Jan 2006 15:04:05 MST",
	"Mon, 2 Jan 2006 15:04:05",
	"2 Jan 2006 15:04:05",
	"Mon, 2 January 2006 15:04:05 -0700",
	"Mon Jan 2 15:04:05 2006",
	"Mon Jan 2 15:04:05 MST 2006",
	"Mon Jan 2 15:04:05 -0700 2006",
	"2006-01-02 15:04:05 -0700",
	"2006-01-02T15:04:05Z07:00",
	"2006-01-02 15:04:05",
	"Mon, 2 Jan 2006 15.04.05 -0700",
	"Mon, 02-Jan-2006 15:04:05 -0700",
}

// parseDate parses a Date header leniently; zero when unparseable.
// Comments ("(CET)"), a "DateTime:" prefix, doubled spaces, a missing
// or misspelt day name and "GMT+0100" style zones are tolerated.
func parseDate(s string) time.Time {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}
	}
	// Most mail writes RFC 5322's own form, an eighth of the corpora's
	// with a comment naming the zone ("-0400 (EDT)"), which net/mail
	// skips; it finds that form only after trying (and allocating an
	// error for) several other layouts.
	d := s
	if c, ok := cutZoneComment(s); ok {
		d = c
	}
	if t, err := time.Parse(rfc5322Date, d); err == nil {
		return t
	}
	if t, err := mail.ParseDate(s); err == nil {
		return t
	}
	// Drop comments and normalise spaces.
	var sb strings.Builder
	depth := 0
	for _, r := range s {
		switch {
		case r == '(':
			depth++
		case r == ')' && depth > 0:
			depth--
		case depth > 0:
		default:
			sb.WriteRune(r)
		}
	}
	s = strings.Join(strings.Fields(sb.String()), " ")
	if i := strings.Index(s, "DateTime:"); i >= 0 {
		s = strings.TrimSpace(s[i+len("DateTime:"):])
	}
	s = strings.Replace(s, "GMT+", "+", 1)
	s = strings.Replace(s, "UTC+", "+", 1)
	s = strings.Replace(s, "GMT-", "-", 1)
	// Drop an unknown day-name prefix ("Mo, 2 Jan…").
	if c := strings.IndexByte(s, ','); c > 0 && c < 12 {
		if t, ok := tryLayouts(strings.TrimSpace(s[c+1:])); ok {
			return t
		}
	}
	if t, err := mail.ParseDate(s); err == nil {
		return t
	}
	if t, ok := tryLayouts(s); ok {
		return t
	}
	return time.Time{}
}

// cutZoneComment returns s without a final comment that net/mail skips as
// it is ("(EDT)": no nested parentheses, quoted pairs or line breaks), and
// the blanks before it.
func cutZoneComment(s string) (string, bool) {
	if !strings.HasSuffix(s, ")") {
		return "", false
	}
	i := strings.LastIndexByte(s, '(')
	if i <= 0 || strings.ContainsAny(s[i+1:len(s)-1], "()\\\r\n") {
		return "", false
	}
	return strings.TrimRight(s[:i], " \t"), true
}

func tryLayouts(s string) (time.Time, bool) {
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	if t, err := mail.ParseDate(s); err == nil {
		return t, true
	}
	return time.Time{}, false
}
