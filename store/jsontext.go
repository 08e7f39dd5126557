package store

import (
	"github.com/postdesk/postdesk/internal/jsonenc"
	"github.com/postdesk/postdesk/ticket"
)

// The id and address lists of a message are stored as JSON text, written
// by hand in the committer: encoding/json's reflection over four small
// lists cost about 7 µs a message there (1.3 % of an HTTP import's CPU,
// in the one goroutine every import waits for). The bytes are
// json.Marshal's (FuzzJSONLists; but for U+FFFD, see jsonenc), so rows
// written before and after read the same.

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
		b = jsonenc.AppendString(b, s)
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
		b = jsonenc.AppendString(b, a.Name)
		b = append(b, `,"Email":`...)
		b = jsonenc.AppendString(b, a.Email)
		b = append(b, '}')
	}
	return string(append(b, ']'))
}
