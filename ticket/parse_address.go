package ticket

import (
	"strings"
)

// parseAddressList parses an address-list header (RFC 5322 §3.4) leniently:
// the list is split at top-level commas (outside quotes, comments and angle
// brackets), each element is "display name <addr>", "addr (comment)" or a
// bare word; display names and comments are RFC 2047-decoded. Group syntax
// ("undisclosed-recipients:;") yields its members. Elements that hold
// neither an address nor a name are dropped.
func parseAddressList(v []byte, hint string) []Address {
	s := string(v) // raw bytes: encoded words may hold 8-bit bytes of their own charset
	var out []Address
	for _, el := range splitTopLevel(s) {
		// Group: "name: a, b;" — the members follow the colon.
		if c := topLevelIndex(el, ':'); c >= 0 && !strings.Contains(el[:c], "@") {
			el = strings.TrimSuffix(strings.TrimSpace(el[c+1:]), ";")
		}
		el = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(el), ";"))
		if el == "" {
			continue
		}
		if a, ok := parseOneAddress(el, hint); ok {
			out = append(out, a)
		}
	}
	return out
}

func parseOneAddress(el, hint string) (Address, bool) {
	if lt := topLevelIndex(el, '<'); lt >= 0 {
		inner := el[lt+1:]
		after := ""
		if gt := strings.IndexByte(inner, '>'); gt >= 0 {
			inner, after = inner[:gt], inner[gt+1:]
		}
		email := cleanEmail(inner)
		name := phrase(el[:lt], hint)
		if name == "" {
			name = commentText(after, hint)
		}
		return Address{Name: name, Email: email}, email != "" || name != ""
	}
	// addr-spec with an optional comment: "a@b (Name)" or "(Name) a@b".
	var words []string
	comment := ""
	rest := el
	for rest != "" {
		if rest[0] == '(' {
			end := matchParen(rest)
			if comment == "" {
				comment = strings.TrimSpace(rest[1:max(1, end-1)])
			}
			rest = rest[end:]
			continue
		}
		i := strings.IndexAny(rest, "(")
		if i < 0 {
			words = append(words, rest)
			break
		}
		words = append(words, rest[:i])
		rest = rest[i:]
	}
	addr := strings.TrimSpace(strings.Join(words, " "))
	name := ""
	if comment != "" {
		name = decodeText([]byte(comment), hint)
	}
	if f := strings.Fields(addr); len(f) > 1 && !strings.Contains(addr, `"`) {
		// QUIRK: "Name addr@host" without brackets (zammad mail087).
		for i, w := range f {
			if strings.Contains(w, "@") {
				if name == "" {
					name = phrase(strings.Join(append(f[:i:i], f[i+1:]...), " "), hint)
				}
				addr = w
				break
			}
		}
	}
	if !strings.Contains(addr, "@") && strings.Contains(comment, "@") {
		// QUIRK: "Name (addr@host)" (zammad mail006).
		return Address{Name: phrase(addr, hint), Email: cleanEmail(comment)}, true
	}
	if strings.Contains(addr, "@") || (name != "" && isAtom(addr)) {
		return Address{Name: name, Email: cleanEmail(addr)}, addr != "" || name != ""
	}
	// A bare phrase without any address ("Recipients", "xxx") is no
	// address.
	return Address{}, false
}

// phrase decodes a display name: quotes removed, escapes undone, encoded
// words decoded (also inside quotes, as many mailers write them).
func phrase(s, hint string) string {
	s = strings.TrimSpace(s)
	var sb strings.Builder
	var comment string
	inQ := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '(' && !inQ:
			end := i + matchParen(s[i:])
			if comment == "" {
				comment = s[i+1 : max(i+1, end-1)]
			}
			i = end - 1
		case c == '"':
			inQ = !inQ
		case c == '\\' && inQ && i+1 < len(s):
			i++
			sb.WriteByte(s[i])
		default:
			sb.WriteByte(c)
		}
	}
	out := strings.TrimSpace(decodeText([]byte(sb.String()), hint))
	if out == "" && comment != "" {
		out = strings.TrimSpace(decodeText([]byte(comment), hint))
	}
	return out
}

func commentText(s, hint string) string {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "(") {
		end := matchParen(s)
		return decodeText([]byte(strings.TrimSpace(s[1:max(1, end-1)])), hint)
	}
	return ""
}

// cleanEmail trims an address of spaces, a "mailto:" prefix and stray
// brackets. Quotes stay: they belong to a quoted local part (RFC 5322
// §3.4.1).
func cleanEmail(s string) string {
	s = strings.Trim(s, "<> \t")
	if len(s) > 7 && strings.EqualFold(s[:7], "mailto:") {
		s = s[7:]
	}
	// 8-bit addresses (RFC 6532) are UTF-8; anything else is read as
	// windows-1252 rather than kept as invalid UTF-8.
	return strings.TrimSpace(decode8bit([]byte(s), ""))
}

func isAtom(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c <= ' ' || strings.ContainsRune(`()<>[]:;,"`, c) {
			return false
		}
	}
	return true
}

// matchParen returns the index after the comment starting at s[0]=='('.
func matchParen(s string) int {
	depth := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return i + 1
			}
		}
	}
	return len(s)
}

// splitTopLevel splits s at commas outside quotes, comments and angle
// brackets.
func splitTopLevel(s string) []string {
	var out []string
	start, depth, inQ, inA := 0, 0, false, false
	var bs []byte // s as bytes, made once: converting s[i:] per word would be quadratic
	for i := 0; i < len(s); i++ {
		if s[i] == '=' && i+1 < len(s) && s[i+1] == '?' && depth == 0 {
			if bs == nil {
				bs = []byte(s)
			}
			// An encoded word is one token even if it hides a comma
			// (QUIRK: zammad mail065 "=?iso-8859-1?Q?B=FCrling,=20Andreas?=").
			if _, _, n, ok := parseEncodedWord(bs[i:]); ok {
				i += n - 1
				continue
			}
		}
		switch c := s[i]; {
		case c == '\\' && (inQ || depth > 0):
			i++
		case c == '"' && depth == 0:
			inQ = !inQ
		case inQ:
		case c == '(':
			depth++
		case c == ')' && depth > 0:
			depth--
		case depth > 0:
		case c == '<':
			inA = true
		case c == '>':
			inA = false
		case c == ',' && !inA:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// topLevelIndex is strings.IndexByte outside quotes and comments.
func topLevelIndex(s string, b byte) int {
	depth, inQ := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && (inQ || depth > 0):
			i++
		case c == '"' && depth == 0:
			inQ = !inQ
		case inQ:
		case c == '(':
			depth++
		case c == ')' && depth > 0:
			depth--
		case depth > 0:
		case c == b:
			return i
		}
	}
	return -1
}
