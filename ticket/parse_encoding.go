package ticket

import (
	"bytes"
	"encoding/base64"
	"slices"
	"strings"
)

// decodeTransfer undoes a Content-Transfer-Encoding (RFC 2045 §6). Unknown
// encodings and identity encodings return b itself (no copy).
func decodeTransfer(cte string, b []byte) []byte {
	data, _ := decodeTransferStrict(cte, b)
	return data
}

// decodeTransferStrict is decodeTransfer that also reports whether b was
// base64 the standard decoder took whole: the alphabet, CR and LF, and
// padding only at the end (see canonicalBase64Lines).
func decodeTransferStrict(cte string, b []byte) (data []byte, strictBase64 bool) {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "base64":
		return decodeBase64(b)
	case "quoted-printable":
		return decodeQP(b), false
	case "x-uuencode", "x-uue", "uuencode", "x-uu":
		if blocks, _ := extractUUBlocks(b); len(blocks) > 0 {
			return blocks[0].data, false
		}
		// QUIRK: encoded lines without "begin"/"end" (zammad
		// mail078-content_transfer_encoding_x_uuencode).
		for len(b) > 0 {
			var l []byte
			l, b = cutLine(b)
			if !decodeUULine(&data, bytes.TrimRight(l, "\r")) {
				break
			}
		}
		return data, false
	}
	return b, false
}

// decodeBase64Lenient decodes base64 (RFC 2045 §6.8) keeping what decodes:
// bytes outside the alphabet are ignored, but a line where they make up a
// tenth or more of the characters is skipped whole as garbage (QUIRK:
// mime4j multi-frag.msg has "XXXXXX--boundary--" and an epilogue after
// the data). Padding inside the data (several base64 blobs glued
// together) restarts the quantum; a trailing partial quantum yields the
// bytes it completes.
func decodeBase64Lenient(b []byte) []byte {
	data, _ := decodeBase64(b)
	return data
}

// decodeBase64 is decodeBase64Lenient that also reports whether the
// standard decoder took b whole (strict is then true).
func decodeBase64(b []byte) (data []byte, strict bool) {
	// Fast path: well-formed data (the standard decoder skips CR and LF).
	out := make([]byte, base64.StdEncoding.DecodedLen(len(b)))
	n, err := base64.StdEncoding.Decode(out, b)
	if err == nil {
		return out[:n], true
	}
	// The lenient decoder goes on where the standard one stopped: at the
	// start of the line it failed in, when the lines before it decode the
	// same either way (see cleanPrefix); a damaged last line or a missing
	// padding does not send a whole attachment through the slow loop.
	var acc uint32
	k := 0
	from := 0
	if ce, ok := err.(base64.CorruptInputError); ok && int64(ce) <= int64(len(b)) {
		if at, keep, tail, ok := cleanPrefix(b, int(ce)); ok && keep <= n {
			from, out = at, out[:keep]
			for _, c := range tail {
				acc = acc<<6 | uint32(b64Value(c))
			}
			k = len(tail)
		}
	}
	if from == 0 {
		out = out[:0]
	}
	return lenientBase64(out, b[from:], acc, k), false
}

// lenientBase64 appends to out what the lines of b decode to, carrying a
// partial quantum of k letters (acc) in and over the line breaks: bytes
// outside the alphabet are ignored, a line where they make up a tenth or
// more is skipped, "=" ends the quantum.
func lenientBase64(out, b []byte, acc uint32, k int) []byte {
	for len(b) > 0 {
		var line []byte
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			line, b = b, nil
		}
		line = bytes.TrimSpace(line)
		bad := 0
		for _, c := range line {
			if b64Value(c) < 0 && c != '=' {
				bad++
			}
		}
		if bad > 0 && bad*10 >= len(line) {
			continue
		}
		for _, c := range line {
			if c == '=' {
				out = flushQuantum(out, acc, k)
				acc, k = 0, 0
				continue
			}
			v := b64Value(c)
			if v < 0 {
				continue
			}
			acc = acc<<6 | uint32(v)
			k++
			if k == 4 {
				out = append(out, byte(acc>>16), byte(acc>>8), byte(acc))
				acc, k = 0, 0
			}
		}
	}
	return flushQuantum(out, acc, k)
}

// cleanPrefix finds where the lenient decoder can take over from the
// standard one, which failed at input offset bad: at the start of that
// line, when every line before it is base64 letters alone, bar a CR before
// its LF and the padding that ends the last of them (the lenient loop
// takes such lines as the standard decoder did). It returns that offset,
// how many decoded bytes the lines before it give, and the letters of a
// partial quantum that the lenient loop carries over the line break.
func cleanPrefix(b []byte, bad int) (at, keep int, tail []byte, ok bool) {
	at = bytes.LastIndexByte(b[:bad], '\n') + 1
	if at == 0 {
		return 0, 0, nil, false
	}
	prefix := b[:at]
	// The standard decoder skips CR and LF anywhere; the lenient loop
	// counts a CR inside a line as a stray byte.
	crs := bytes.Count(prefix, []byte{'\r'})
	if crs != bytes.Count(prefix, []byte("\r\n")) {
		return 0, 0, nil, false
	}
	pads := 0
	if i := bytes.IndexByte(prefix, '='); i >= 0 {
		run := bytes.TrimRight(prefix[i:], "\r\n")
		if bytes.Count(run, []byte{'='}) != len(run) {
			return 0, 0, nil, false // padding inside the data: glued blobs
		}
		pads = len(run)
	}
	letters := at - crs - bytes.Count(prefix, []byte{'\n'}) - pads
	keep = letters / 4 * 3
	switch {
	case pads == 0:
		for i := at - 1; i >= 0 && len(tail) < letters%4; i-- {
			if c := b[i]; c != '\r' && c != '\n' {
				tail = append(tail, c)
			}
		}
		slices.Reverse(tail)
	case letters%4+pads == 4 && pads <= 2:
		keep += letters%4 - 1 // the padded quantum, decoded
	default:
		return 0, 0, nil, false
	}
	return at, keep, tail, true
}

func b64Value(c byte) int {
	switch {
	case 'A' <= c && c <= 'Z':
		return int(c - 'A')
	case 'a' <= c && c <= 'z':
		return int(c-'a') + 26
	case '0' <= c && c <= '9':
		return int(c-'0') + 52
	case c == '+':
		return 62
	case c == '/':
		return 63
	}
	return -1
}

func flushQuantum(out []byte, acc uint32, n int) []byte {
	switch n {
	case 2:
		out = append(out, byte(acc>>4))
	case 3:
		out = append(out, byte(acc>>10), byte(acc>>2))
	}
	return out
}

// decodeQP decodes quoted-printable (RFC 2045 §6.7) leniently: "=XX" with
// hex digits in either case becomes a byte, "=" at a line end is a soft
// break, any other "=" is kept literally, trailing blanks on a line are
// dropped, bare LF line ends are kept as they are.
func decodeQP(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for len(b) > 0 {
		line := b
		var eol []byte
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
			eol = []byte{'\n'}
			if len(line) > 0 && line[len(line)-1] == '\r' {
				line = line[:len(line)-1]
				eol = []byte{'\r', '\n'}
			}
		} else {
			b = nil
		}
		for len(line) > 0 && (line[len(line)-1] == ' ' || line[len(line)-1] == '\t') {
			line = line[:len(line)-1]
		}
		soft := false
		for i := 0; i < len(line); i++ {
			c := line[i]
			if c != '=' {
				out = append(out, c)
				continue
			}
			if i == len(line)-1 {
				soft = true
				break
			}
			if i+2 < len(line) && isHex(line[i+1]) && isHex(line[i+2]) {
				out = append(out, unhex(line[i+1])<<4|unhex(line[i+2]))
				i += 2
				continue
			}
			out = append(out, c)
		}
		if !soft {
			out = append(out, eol...)
		}
	}
	return out
}
