package ticket

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/japanese"
)

// decodeText decodes an unstructured header value (RFC 2047 §5(1)):
// encoded words become UTF-8, whitespace between adjacent encoded words is
// dropped (§6.2), and raw 8-bit bytes are read in the hint charset (or as
// UTF-8 / windows-1252, see decodeCharset).
//
// It is lenient with the malformed words seen in real mail: lower-case
// encodings, spaces inside Q words, missing padding, words glued to text,
// and multibyte characters split across adjacent words of one charset
// (their bytes are joined before charset conversion).
func decodeText(v []byte, hint string) string {
	if bytes.IndexByte(v, '\r') >= 0 || bytes.IndexByte(v, '\n') >= 0 {
		v = bytes.Map(func(r rune) rune {
			if r == '\r' || r == '\n' {
				return -1
			}
			return r
		}, v)
	}
	if !bytes.Contains(v, []byte("=?")) {
		return decode8bit(v, hint)
	}
	var sb strings.Builder
	var pend []byte // decoded bytes of a run of encoded words
	var pendCharset string
	flush := func() {
		if pend != nil {
			sb.WriteString(decodeCharset(pendCharset, pend))
			pend, pendCharset = nil, ""
		}
	}
	lastWasWord := false
	for len(v) > 0 {
		i := bytes.Index(v, []byte("=?"))
		if i < 0 {
			flush()
			sb.WriteString(decode8bit(v, hint))
			break
		}
		cs, data, n, ok := parseEncodedWord(v[i:])
		if !ok {
			flush()
			sb.WriteString(decode8bit(v[:i+2], hint))
			v = v[i+2:]
			lastWasWord = false
			continue
		}
		gap := v[:i]
		if !(lastWasWord && isBlank(gap)) {
			flush()
			sb.WriteString(decode8bit(gap, hint))
		}
		if pend != nil && !strings.EqualFold(pendCharset, cs) {
			flush()
		}
		pendCharset = cs
		pend = append(pend, data...)
		v = v[i+n:]
		lastWasWord = true
	}
	flush()
	return sb.String()
}

func isBlank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' {
			return false
		}
	}
	return true
}

// maxEncodedWord bounds the text of one encoded word.
const maxEncodedWord = 2048

// parseEncodedWord parses "=?charset?E?text?=" at the start of v and
// returns the charset, the decoded bytes and the length consumed.
func parseEncodedWord(v []byte) (charset string, data []byte, n int, ok bool) {
	rest := v[2:]
	q := bytes.IndexByte(rest, '?')
	if q <= 0 || q > 64 || len(rest) < q+3 || rest[q+2] != '?' {
		return "", nil, 0, false
	}
	charset = string(rest[:q])
	if bytes.ContainsAny(rest[:q], " \t\"=") {
		return "", nil, 0, false
	}
	enc := rest[q+1] | 0x20
	text := rest[q+3:]
	// RFC 2047 §2 allows 75 characters; broken mailers write longer
	// words, but bounding the search keeps a header full of "=?" linear.
	end := bytes.Index(text[:min(len(text), maxEncodedWord)], []byte("?="))
	if end < 0 {
		return "", nil, 0, false
	}
	// QUIRK: some mailers put spaces inside Q words (zammad mail065); accept
	// them unless another encoded word starts in between.
	if bytes.Contains(text[:end], []byte("=?")) {
		return "", nil, 0, false
	}
	body := text[:end]
	switch enc {
	case 'b':
		data = decodeBase64Lenient(body)
	case 'q':
		data = decodeQWord(body)
	default:
		return "", nil, 0, false
	}
	return charset, data, 2 + q + 3 + end + 2, true
}

// decodeQWord decodes the "Q" encoding (RFC 2047 §4.2).
func decodeQWord(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case c == '_':
			out = append(out, ' ')
		case c == '=' && i+2 < len(b) && isHex(b[i+1]) && isHex(b[i+2]):
			out = append(out, unhex(b[i+1])<<4|unhex(b[i+2]))
			i += 2
		default:
			out = append(out, c)
		}
	}
	return out
}

// decode8bit converts raw header bytes to UTF-8.
func decode8bit(b []byte, hint string) string {
	if hint == "utf-7" && bytes.IndexByte(b, '+') >= 0 {
		// QUIRK: a message in UTF-7 writes its headers in UTF-7 too
		// (hunnysoft m1011).
		return decodeUTF7(b)
	}
	if bytes.IndexByte(b, 0x1b) >= 0 {
		// QUIRK: Japanese mailers send raw ISO-2022-JP (7-bit escape
		// sequences) in headers (zammad mail091, mail098).
		if out, err := japanese.ISO2022JP.NewDecoder().Bytes(b); err == nil {
			return string(out)
		}
	}
	if isASCII(b) || utf8.Valid(b) {
		return string(b)
	}
	return decodeCharset(hint, b)
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10
	}
	return 0
}
