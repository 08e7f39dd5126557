package ticket

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/ianaindex"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
	"golang.org/x/text/encoding/unicode"
)

// charsetAliases maps labels seen in real mail that neither the WHATWG
// (htmlindex) nor the IANA (ianaindex) registry resolves, or resolves to a
// narrower table than the senders actually used.
var charsetAliases = map[string]encoding.Encoding{
	// QUIRK: Chinese mailers label GBK/GB18030 text as gb2312 (zammad mail015,
	// mail017); GB18030 is a superset of both.
	"gb2312":           simplifiedchinese.GB18030,
	"gb_2312-80":       simplifiedchinese.GB18030,
	"csgb2312":         simplifiedchinese.GB18030,
	"euc-cn":           simplifiedchinese.GB18030,
	"x-euc-cn":         simplifiedchinese.GB18030,
	"gbk":              simplifiedchinese.GB18030,
	"cp936":            simplifiedchinese.GB18030,
	"x-gbk":            simplifiedchinese.GB18030,
	"hz-gb-2312":       simplifiedchinese.HZGB2312,
	"ks_c_5601-1987":   korean.EUCKR,
	"ks_c_5601":        korean.EUCKR,
	"ksc5601":          korean.EUCKR,
	"cp949":            korean.EUCKR,
	"big5-hkscs":       traditionalchinese.Big5,
	"x-big5":           traditionalchinese.Big5,
	"cp950":            traditionalchinese.Big5,
	"x-sjis":           japanese.ShiftJIS,
	"cp932":            japanese.ShiftJIS,
	"ms932":            japanese.ShiftJIS,
	"windows-31j":      japanese.ShiftJIS,
	"iso-2022-jp-2":    japanese.ISO2022JP,
	"iso-2022-jp-3":    japanese.ISO2022JP,
	"cp1252":           charmap.Windows1252,
	"cp1250":           charmap.Windows1250,
	"cp1251":           charmap.Windows1251,
	"cp850":            charmap.CodePage850,
	"cp437":            charmap.CodePage437,
	"ansi_x3.110-1983": charmap.ISO8859_1,
	"latin-1":          charmap.Windows1252,
	"utf8":             unicode.UTF8,
	"x-utf_8j":         unicode.UTF8,
}

// isUTF7 reports whether label names UTF-7 (RFC 2152), which x/text lacks.
func isUTF7(label string) bool {
	switch label {
	case "utf-7", "utf7", "x-utf-7", "unicode-1-1-utf-7", "csunicode11utf7":
		return true
	}
	return false
}

// normalizeCharset lower-cases a charset label and strips quotes, spaces
// and an RFC 2231 language suffix ("utf-8*de").
func normalizeCharset(label string) string {
	label = strings.ToLower(strings.Trim(strings.TrimSpace(label), `"' `))
	if i := strings.IndexByte(label, '*'); i >= 0 {
		label = label[:i]
	}
	return label
}

// lookupCharset resolves a charset label to an encoding: first the aliases
// above, then the WHATWG labels (which map iso-8859-1 to its windows-1252
// superset, as mail needs), then the IANA registry, then the label without
// an "x-" or "cs" prefix. It returns nil for unknown labels, UTF-8, ASCII and
// UTF-7 (the callers handle those).
func lookupCharset(label string) encoding.Encoding {
	label = normalizeCharset(label)
	switch label {
	case "", "utf-8", "us-ascii", "ascii", "utf8", "us", "ansi_x3.4-1968", "7bit", "8bit":
		return nil
	}
	for _, l := range []string{label, strings.TrimPrefix(label, "x-"), strings.TrimPrefix(label, "cs")} {
		if e, ok := charsetAliases[l]; ok {
			return e
		}
		if e, err := htmlindex.Get(l); err == nil && e != nil {
			if e == encoding.Replacement {
				continue
			}
			return e
		}
		if e, err := ianaindex.MIME.Encoding(l); err == nil && e != nil {
			return e
		}
		if e, err := ianaindex.IANA.Encoding(l); err == nil && e != nil {
			return e
		}
	}
	return nil
}

// decodeCharset converts b from the named charset to UTF-8. It never fails:
// unknown or broken charsets fall back to UTF-8 when b is valid UTF-8, else
// to windows-1252 (a superset of latin-1 that maps every byte).
func decodeCharset(label string, b []byte) string {
	l := normalizeCharset(label)
	if isUTF7(l) {
		return decodeUTF7(b)
	}
	e := lookupCharset(l)
	if e == nil || e == unicode.UTF8 {
		return fallbackDecode(b)
	}
	ascii := isASCII(b)
	if ascii && asciiCompatible(l) {
		return string(b)
	}
	if !ascii && strings.HasPrefix(l, "iso-2022-jp") && !utf8.Valid(b) {
		// QUIRK: ISO-2022-JP is 7-bit; 8-bit bytes under that label are
		// Shift_JIS (zammad mail093).
		e = japanese.ShiftJIS
	}
	if out, err := e.NewDecoder().Bytes(b); err == nil {
		return string(out)
	}
	return fallbackDecode(b)
}

// asciiCompatible reports whether ASCII bytes mean ASCII in the charset
// (not so in ISO-2022, HZ, UTF-16/32 and UTF-7).
func asciiCompatible(label string) bool {
	for _, s := range []string{"2022", "hz", "16", "32", "ucs", "utf-7", "unicode"} {
		if strings.Contains(label, s) {
			return false
		}
	}
	return true
}

// isCJK reports whether a charset is a multibyte East Asian one.
func isCJK(label string) bool {
	for _, s := range []string{"gb", "big5", "jis", "euc-", "2022", "ks_c", "ksc", "hz", "cp9", "windows-31j"} {
		if strings.Contains(label, s) {
			return true
		}
	}
	return false
}

// fallbackDecode keeps valid UTF-8 and reads anything else as windows-1252.
func fallbackDecode(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	out, err := charmap.Windows1252.NewDecoder().Bytes(b)
	if err != nil {
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}
	return string(out)
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}
