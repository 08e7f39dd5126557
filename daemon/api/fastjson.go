package api

import (
	"encoding/binary"
	"math"
	"math/bits"
	"strings"
	"sync"
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
// loop that copies the runs between escapes, over the body itself
// (strEscapes): on success b holds Data's value and must not change while
// Data is in use; when it returns false b is as it came. FuzzFlatJSON
// holds the result to encoding/json's for every input this path accepts.
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
	esc := escPool.Get().(*[]int32)
	d := flatDecoder{b: b, esc: *esc}
	defer func() {
		// A huge mail's list (4 bytes an escape) is not kept.
		if cap(d.esc) <= 1<<16 {
			*esc = d.esc[:0]
			escPool.Put(esc)
		}
	}()
	var data *escaped // Data's string, unescaped over b once all is read
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
		case c == '"' && key == "data":
			e, ok := d.strEscapes()
			if !ok {
				return false
			}
			data = &e
			d.esc = e.esc
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
		if !d.eat('}') || !d.end() {
			return false
		}
		if data != nil {
			fields["data"] = data.unescape(b)
		}
		return true
	}
}

type flatDecoder struct {
	b   []byte
	i   int
	esc []int32
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

// escPool holds the escape lists of strEscapes between requests.
var escPool = sync.Pool{New: func() any { return new([]int32) }}

// escaped is a string value read but not yet unescaped: its text is
// b[start:end] and its escapes begin at the offsets in esc.
type escaped struct {
	start, end int
	esc        []int32
}

// strEscapes reads a string value as str does, refusing what str refuses,
// but only notes where its escapes are. Data, nearly all of a request, is
// then unescaped over the body itself once the whole object has been read
// (escaped.unescape): no second buffer of a mail's size to allocate and
// clear (1.6 % of the HTTP path's CPU; the 25 MiB message's request held
// both), and a body this path gives up on reaches encoding/json as it came.
func (d *flatDecoder) strEscapes() (escaped, bool) {
	b := d.b
	e := escaped{start: d.i + 1, esc: d.esc[:0]}
	if len(b) > math.MaxInt32 {
		return e, false
	}
	i := run(b, e.start)
	for {
		if i >= len(b) || b[i] < 0x20 {
			return e, false
		}
		if b[i] == '"' {
			e.end = i
			d.i = i + 1
			return e, true
		}
		// A backslash escape.
		if i+1 >= len(b) {
			return e, false
		}
		e.esc = append(e.esc, int32(i))
		c := b[i+1]
		i += 2
		switch c {
		case 'r':
			// CR LF, two escapes on every line of a mail, is noted as one
			// (escaped.unescape takes the pair the same way).
			if i+1 < len(b) && b[i] == '\\' && b[i+1] == 'n' {
				i += 2
			}
		case '"', '\\', '/', 'b', 'f', 'n', 't':
		case 'u':
			d.i = i
			r, ok := d.hex4()
			if !ok {
				return e, false
			}
			if utf16.IsSurrogate(r) {
				if d.i+1 >= len(b) || b[d.i] != '\\' || b[d.i+1] != 'u' {
					return e, false
				}
				d.i += 2
				r2, ok := d.hex4()
				if !ok || utf16.DecodeRune(r, r2) == utf8.RuneError {
					return e, false
				}
			}
			i = d.i
		default:
			return e, false
		}
		i = run(b, i)
	}
}

// unescape writes the string's value over its own text in b (a value is
// never longer than its text) and returns it. b must not change after.
func (e *escaped) unescape(b []byte) string {
	w, r := e.start, e.start
	for _, at := range e.esc {
		p := int(at)
		w += copy(b[w:], b[r:p])
		c := b[p+1]
		r = p + 2
		switch c {
		case 'b':
			c = '\b'
		case 'f':
			c = '\f'
		case 'n':
			c = '\n'
		case 'r':
			c = '\r'
			if r+1 < e.end && b[r] == '\\' && b[r+1] == 'n' {
				b[w] = '\r'
				b[w+1] = '\n'
				w += 2
				r += 2
				continue
			}
		case 't':
			c = '\t'
		case 'u':
			x := hexRune(b[r : r+4])
			r += 4
			if utf16.IsSurrogate(x) {
				x = utf16.DecodeRune(x, hexRune(b[r+2:r+6]))
				r += 6
			}
			w += utf8.EncodeRune(b[w:], x)
			continue
		}
		b[w] = c
		w++
	}
	w += copy(b[w:], b[r:e.end])
	return unsafe.String(unsafe.SliceData(b[e.start:]), w-e.start)
}

// hexVal is a hex digit's value, -1 for any other byte.
var hexVal = func() (t [256]int32) {
	for i := range t {
		t[i] = -1
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = c - '0'
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] = c - 'a' + 10
		t[c-'a'+'A'] = c - 'a' + 10
	}
	return t
}()

// hexRune is the value of four hex digits, negative when one is not.
func hexRune(h []byte) rune {
	_ = h[3]
	a, b, c, d := hexVal[h[0]], hexVal[h[1]], hexVal[h[2]], hexVal[h[3]]
	// A -1 among them makes the OR negative.
	return a<<12 | b<<8 | c<<4 | d | (a|b|c|d)&^0xf<<16
}

func (d *flatDecoder) hex4() (rune, bool) {
	if d.i+4 > len(d.b) {
		return 0, false
	}
	r := hexRune(d.b[d.i : d.i+4])
	if r < 0 {
		return 0, false
	}
	d.i += 4
	return r, true
}
