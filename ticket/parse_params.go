package ticket

import (
	"sort"
	"strconv"
	"strings"
)

// parseMediaValue parses a Content-Type or Content-Disposition value: the
// lower-cased value before the first ';' and its parameters (RFC 2045 §5.1,
// RFC 2183). Parameter names are lower-cased. RFC 2231 continuations and
// charsets are applied (any charset decodeCharset knows), and RFC 2047
// encoded words inside values (not allowed, but common in filenames) are
// decoded. Lenient: unquoted values may contain spaces, unterminated quotes
// run to the end, duplicate parameters keep the first value.
func parseMediaValue(v string, hint string) (string, map[string]string) {
	head, rest, _ := strings.Cut(v, ";")
	head = strings.ToLower(strings.TrimSpace(head))
	params := map[string]string{}
	type seg struct {
		idx int
		ext bool
		val string
	}
	var conts map[string][]seg // made for the first RFC 2231 parameter
	for rest != "" {
		for rest != "" && (rest[0] == ' ' || rest[0] == '\t' || rest[0] == ';') {
			rest = rest[1:]
		}
		if rest == "" {
			break
		}
		eq := strings.IndexAny(rest, "=;")
		if eq < 0 || rest[eq] == ';' {
			if eq < 0 {
				break
			}
			rest = rest[eq+1:]
			continue
		}
		key := strings.ToLower(strings.TrimSpace(rest[:eq]))
		rest = strings.TrimLeft(rest[eq+1:], " \t")
		var val string
		if strings.HasPrefix(rest, `"`) {
			val, rest = quotedValue(rest)
			if j := strings.IndexByte(rest, ';'); j >= 0 {
				rest = rest[j:]
			} else {
				rest = ""
			}
		} else {
			j := strings.IndexByte(rest, ';')
			if j < 0 {
				val, rest = strings.TrimSpace(rest), ""
			} else {
				val, rest = strings.TrimSpace(rest[:j]), rest[j:]
			}
		}
		if key == "" {
			continue
		}
		// RFC 2231 §3, §4: name*N[*]=value, name*=charset'lang'value.
		if star := strings.IndexByte(key, '*'); star >= 0 {
			name, suffix := key[:star], key[star+1:]
			ext := strings.HasSuffix(suffix, "*") || suffix == ""
			suffix = strings.TrimSuffix(suffix, "*")
			idx := 0
			if suffix != "" {
				n, err := strconv.Atoi(suffix)
				if err != nil || n < 0 || n > 999 {
					continue
				}
				idx = n
			}
			if conts == nil {
				conts = map[string][]seg{}
			}
			conts[name] = append(conts[name], seg{idx: idx, ext: ext, val: val})
			continue
		}
		if _, dup := params[key]; !dup {
			params[key] = val
		}
	}
	for name, segs := range conts {
		sort.SliceStable(segs, func(i, j int) bool { return segs[i].idx < segs[j].idx })
		charset := ""
		var raw []byte
		for i, s := range segs {
			val := s.val
			if s.ext {
				if i == 0 {
					if p := strings.SplitN(val, "'", 3); len(p) == 3 {
						charset, val = p[0], p[2]
					}
				}
				raw = append(raw, pctDecode(val)...)
			} else {
				raw = append(raw, val...)
			}
		}
		// An extended value wins over a plain one of the same name.
		params[name] = decodeCharset(charset, raw)
	}
	for k, v := range params {
		if strings.Contains(v, "=?") || !isASCII([]byte(v)) {
			params[k] = decodeText([]byte(v), hint)
		}
	}
	return head, params
}

// quotedValue reads the quoted string s starts with and returns its value
// and the text after its closing quote; an unterminated one runs to the end.
func quotedValue(s string) (val, after string) {
	// Most have no backslash: the value is a slice of s.
	if j := strings.IndexAny(s[1:], `"\`); j >= 0 && s[1+j] == '"' {
		return s[1 : 1+j], s[2+j:]
	}
	var sb strings.Builder
	i := 1
	for ; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+1 < len(s) {
			// QUIRK: Windows paths in filenames ("C:\dir\a.doc")
			// keep their backslashes unless they escape a quote.
			if s[i+1] == '"' || s[i+1] == '\\' {
				i++
				sb.WriteByte(s[i])
				continue
			}
			sb.WriteByte(c)
			continue
		}
		if c == '"' {
			break
		}
		sb.WriteByte(c)
	}
	if i < len(s) {
		return sb.String(), s[i+1:]
	}
	return sb.String(), ""
}

func pctDecode(s string) []byte {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			out = append(out, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		out = append(out, s[i])
	}
	return out
}
