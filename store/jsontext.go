package store

import (
	"strconv"

	"github.com/postdesk/postdesk/internal/jsonenc"
	"github.com/postdesk/postdesk/ticket"
)

// The id and address lists of a message, and the holes of its raw mail,
// are stored as JSON text, written by hand in the committer:
// encoding/json's reflection over four small lists cost about 7 µs a
// message there (1.3 % of an HTTP import's CPU,
// in the one goroutine every import waits for). The bytes are
// json.Marshal's (FuzzJSONLists; but for U+FFFD, see jsonenc), so rows
// written before and after read the same.

// jsonList is json.Marshal of xs, with [] for nil, each element written
// by elem into a buffer of about size bytes.
func jsonList[T any](xs []T, size int, elem func(b []byte, x T) []byte) string {
	b := append(make([]byte, 0, size), '[')
	for i, x := range xs {
		if i > 0 {
			b = append(b, ',')
		}
		b = elem(b, x)
	}
	return string(append(b, ']'))
}

// jsonStrings is json.Marshal of ss, with [] for nil.
func jsonStrings(ss []string) string {
	n := 2
	for _, s := range ss {
		n += len(s) + 3
	}
	return jsonList(ss, n, jsonenc.AppendString)
}

// jsonAddresses is json.Marshal of as, with [] for nil.
func jsonAddresses(as []ticket.Address) string {
	n := 2
	for _, a := range as {
		n += len(a.Name) + len(a.Email) + 24
	}
	return jsonList(as, n, func(b []byte, a ticket.Address) []byte {
		b = jsonenc.AppendString(append(b, `{"Name":`...), a.Name)
		b = jsonenc.AppendString(append(b, `,"Email":`...), a.Email)
		return append(b, '}')
	})
}

// jsonHoles is json.Marshal of holes (ticket.RawHole's tags: crlf and
// crc32c left out when false or empty), with [] for nil.
func jsonHoles(holes []ticket.RawHole) string {
	return jsonList(holes, 2+len(holes)*128, func(b []byte, h ticket.RawHole) []byte {
		b = strconv.AppendInt(append(b, `{"at":`...), h.At, 10)
		b = strconv.AppendInt(append(b, `,"len":`...), h.Len, 10)
		b = jsonenc.AppendString(append(b, `,"sha256":`...), h.SHA256)
		b = strconv.AppendInt(append(b, `,"line":`...), int64(h.Line), 10)
		if h.CRLF {
			b = append(b, `,"crlf":true`...)
		}
		if h.CRC32C != "" {
			b = jsonenc.AppendString(append(b, `,"crc32c":`...), h.CRC32C)
		}
		return append(b, '}')
	})
}
