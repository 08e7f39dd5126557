package api

import (
	"encoding/binary"
	"math/bits"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// decodeFlatJSON is the fast path of decodeJSON for the request every
// client sends: one flat object whose values are strings, whole numbers,
// true, false or null, with ASCII property names and no name given twice.
// It fills fields as decodeJSON does and reports whether it could; on
// anything else (nesting, fractions, escapes in names, a repeated name,
// a lone surrogate, any syntax error) it returns false and decodeJSON
// takes encoding/json's path, which also words the error. The body is
// already known to be UTF-8 (textBody).
//
// Data is nearly all of a request, and encoding/json validated and then
// unquoted it byte by byte: 15 % of the HTTP path's CPU. Here it is one
// loop that copies the runs between escapes. FuzzFlatJSON holds the
// result to encoding/json's for every input this path accepts.
func decodeFlatJSON(b []byte, fields map[string]string) bool {
	got := map[string]string{}
	if !decodeFlat(b, got) {
		return false
	}
	for k, v := range got {
		fields[k] = v
	}
	return true
}

func decodeFlat(b []byte, fields map[string]string) bool {
	d := flatDecoder{b: b}
	d.ws()
	if !d.eat('{') {
		return false
	}
	seen := map[string]bool{}
	d.ws()
	if d.eat('}') {
		return d.end()
	}
	for {
		d.ws()
		name, ok := d.name()
		if !ok {
			return false
		}
		d.ws()
		if !d.eat(':') {
			return false
		}
		d.ws()
		if d.i >= len(d.b) {
			return false
		}
		key := strings.ToLower(name)
		known := key == "mailboxid" || key == "personid" || key == "data"
		if known {
			if seen[key] {
				return false // encoding/json's last-one-wins, case-insensitively: leave it to it
			}
			seen[key] = true
		}
		switch c := d.b[d.i]; {
		case c == '"':
			s, ok := d.str()
			if !ok {
				return false
			}
			if known {
				fields[key] = s
			}
		case c == '-' || '0' <= c && c <= '9':
			n, ok := d.integer()
			if !ok || key == "data" {
				return false // a fraction, or Data not a string: encoding/json says why
			}
			if known {
				fields[key] = n
			}
		case c == 'n':
			if !d.literal("null") {
				return false
			}
		case c == 't' || c == 'f':
			if known || !(d.literal("true") || d.literal("false")) {
				return false
			}
		default:
			return false // an object, an array or a syntax error
		}
		d.ws()
		if d.eat(',') {
			continue
		}
		if d.eat('}') {
			return d.end()
		}
		return false
	}
}

type flatDecoder struct {
	b []byte
	i int
}

func (d *flatDecoder) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *flatDecoder) eat(c byte) bool {
	if d.i < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}

// end accepts only whitespace after the object.
func (d *flatDecoder) end() bool {
	d.ws()
	return d.i == len(d.b)
}

func (d *flatDecoder) literal(lit string) bool {
	if !strings.HasPrefix(string(d.b[d.i:min(len(d.b), d.i+len(lit))]), lit) {
		return false
	}
	d.i += len(lit)
	return true
}

// name reads a property name of printable ASCII without escapes.
func (d *flatDecoder) name() (string, bool) {
	if !d.eat('"') {
		return "", false
	}
	start := d.i
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			d.i++
			return string(d.b[start : d.i-1]), true
		case c == '\\' || c < 0x20 || c >= utf8.RuneSelf:
			return "", false
		}
		d.i++
	}
	return "", false
}

// integer reads -?(0|[1-9][0-9]*) and returns its text.
func (d *flatDecoder) integer() (string, bool) {
	start := d.i
	d.eat('-')
	digits := d.i
	for d.i < len(d.b) && '0' <= d.b[d.i] && d.b[d.i] <= '9' {
		d.i++
	}
	n := d.i - digits
	if n == 0 || (n > 1 && d.b[digits] == '0') {
		return "", false
	}
	if d.i < len(d.b) {
		switch d.b[d.i] {
		case '.', 'e', 'E':
			return "", false
		}
	}
	return string(d.b[start:d.i]), true
}

// special marks the bytes that end a run inside a string: the quote, the
// backslash and the control bytes.
var special = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

// run returns the end of the run of ordinary string bytes from i. It
// tests eight bytes at a time (a mail's runs are its lines, some 70 bytes
// between the escapes of CR LF, or a few bytes between \u003c escapes in
// HTML) and takes the exact end from the word that holds it.
func run(b []byte, i int) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for ; i+8 <= len(b); i += 8 {
		v := binary.LittleEndian.Uint64(b[i:])
		// A byte below 0x20, and a zero byte after XOR with '"' or '\\':
		// the classic exact tests for "some byte is less than n". A
		// borrow can flag a byte above a special one, never below it, so
		// the lowest flag is the first special byte.
		lt20 := (v - ones*0x20) &^ v
		q := v ^ (ones * '"')
		bs := v ^ (ones * '\\')
		if m := (lt20 | (q-ones)&^q | (bs-ones)&^bs) & highs; m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
	}
	for i < len(b) && !special[b[i]] {
		i++
	}
	return i
}

// str reads a string value, unescaping it.
func (d *flatDecoder) str() (string, bool) {
	b := d.b
	start := d.i + 1 // after the opening quote
	i := run(b, start)
	if i < len(b) && b[i] == '"' {
		// Most strings have no escapes.
		d.i = i + 1
		return string(b[start:i]), true
	}
	out := make([]byte, 0, len(b)-start)
	for {
		out = append(out, b[start:i]...)
		if i >= len(b) || b[i] < 0x20 {
			return "", false
		}
		if b[i] == '"' {
			d.i = i + 1
			// out is this function's own and never written again: the
			// string takes it over instead of copying it (Data is most
			// of the request).
			return unsafe.String(unsafe.SliceData(out), len(out)), true
		}
		// A backslash escape.
		if i+1 >= len(b) {
			return "", false
		}
		e := b[i+1]
		i += 2
		switch e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			d.i = i
			r, ok := d.hex4()
			if !ok {
				return "", false
			}
			if utf16.IsSurrogate(r) {
				// Only a high surrogate followed by an escaped low one
				// makes a character; encoding/json replaces the rest.
				if d.i+1 >= len(b) || b[d.i] != '\\' || b[d.i+1] != 'u' {
					return "", false
				}
				d.i += 2
				r2, ok := d.hex4()
				if !ok {
					return "", false
				}
				if r = utf16.DecodeRune(r, r2); r == utf8.RuneError {
					return "", false
				}
			}
			out = utf8.AppendRune(out, r)
			i = d.i
		default:
			return "", false
		}
		start = i
		i = run(b, i)
	}
}

func (d *flatDecoder) hex4() (rune, bool) {
	if d.i+4 > len(d.b) {
		return 0, false
	}
	var r rune
	for _, c := range d.b[d.i : d.i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	d.i += 4
	return r, true
}
