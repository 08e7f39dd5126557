package store

import (
	"unicode/utf8"

	"github.com/postdesk/postdesk/ticket"
)

// The id and address lists of a message are stored as JSON text, written
// by hand in the committer: encoding/json's reflection over four small
// lists cost about 7 µs a message there (1.3 % of an HTTP import's CPU,
// in the one goroutine every import waits for). The bytes are exactly
// json.Marshal's (FuzzJSONLists), so rows written before and after read
// the same.

// jsonStrings is json.Marshal of ss, with [] for nil.
func jsonStrings(ss []string) string {
	n := 2
	for _, s := range ss {
		n += len(s) + 3
	}
	b := append(make([]byte, 0, n), '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, s)
	}
	return string(append(b, ']'))
}

// jsonAddresses is json.Marshal of as, with [] for nil.
func jsonAddresses(as []ticket.Address) string {
	n := 2
	for _, a := range as {
		n += len(a.Name) + len(a.Email) + 24
	}
	b := append(make([]byte, 0, n), '[')
	for i, a := range as {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"Name":`...)
		b = appendJSONString(b, a.Name)
		b = append(b, `,"Email":`...)
		b = appendJSONString(b, a.Email)
		b = append(b, '}')
	}
	return string(append(b, ']'))
}

// appendJSONString appends s as a JSON string the way encoding/json
// writes it: HTML-safe (<, > and & as \u003c, \u003e, \u0026), each
// invalid UTF-8 byte as U+FFFD, U+2028 and U+2029 escaped.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, "\ufffd"...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
