package ticket

import (
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// decodeUTF7 decodes UTF-7 (RFC 2152) to UTF-8. It is lenient: a shift
// sequence ends at the first byte outside the base64 alphabet (a '-' there
// is absorbed), partial trailing bits are dropped, unpaired surrogates and
// non-ASCII input bytes become U+FFFD.
func decodeUTF7(b []byte) string {
	var sb strings.Builder
	sb.Grow(len(b))
	for i := 0; i < len(b); {
		c := b[i]
		if c >= 0x80 {
			sb.WriteRune(utf8.RuneError)
			i++
			continue
		}
		if c != '+' {
			sb.WriteByte(c)
			i++
			continue
		}
		i++
		if i < len(b) && b[i] == '-' { // "+-" is a literal '+'
			sb.WriteByte('+')
			i++
			continue
		}
		var (
			bits  uint32
			nbits uint
			units []uint16
		)
		for ; i < len(b); i++ {
			v := utf7Value(b[i])
			if v < 0 {
				break
			}
			bits = bits<<6 | uint32(v)
			nbits += 6
			if nbits >= 16 {
				nbits -= 16
				units = append(units, uint16(bits>>nbits))
				bits &= 1<<nbits - 1
			}
		}
		for _, r := range utf16.Decode(units) {
			sb.WriteRune(r)
		}
		if i < len(b) && b[i] == '-' {
			i++
		}
	}
	return sb.String()
}

func utf7Value(c byte) int {
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
