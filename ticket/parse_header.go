package ticket

import (
	"bytes"
	"fmt"
	"strings"
)

// rawField is one header field as written: the name and the unfolded,
// undecoded value (RFC 5322 §2.2.3).
type rawField struct {
	name  string
	value []byte
}

// splitHeader splits a message or part into its header block and body at
// the first empty line (CRLF or bare LF). Without an empty line the whole
// input is header. The returned slices alias b.
func splitHeader(b []byte) (hdr, body []byte) {
	if len(b) > 0 && (b[0] == '\n' || (b[0] == '\r' && len(b) > 1 && b[1] == '\n')) {
		return nil, b[bytes.IndexByte(b, '\n')+1:]
	}
	for i := 0; i < len(b); {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return b, nil
		}
		next := i + j + 1
		switch {
		case next < len(b) && b[next] == '\n':
			return b[:next], b[next+1:]
		case next+1 < len(b) && b[next] == '\r' && b[next+1] == '\n':
			return b[:next], b[next+2:]
		}
		i = next
	}
	return b, nil
}

// parseFields splits a header block into fields, unfolding continuation
// lines (RFC 5322 §2.2.3: the line break is removed, the blanks stay).
// A line that is neither a field nor a continuation is skipped when a
// known field (see knownFields) follows it (QUIRK: zammad mail054 and
// mail068 have continuation lines that lost their indentation, mail068
// starts with "---- Original email message ----"); otherwise, after at
// least one field, the body starts there, at offset stop of hdr (QUIRK:
// mime4j malformedHeaderStartsBody-nocrlfcrlf lacks the empty line). stop
// is -1 when the whole block is header. It fails (the caller wraps
// ErrNotMail) when a limit is exceeded.
func parseFields(hdr []byte, lim *limits) (fields []rawField, stop int, err error) {
	full := len(hdr)
	// Room for a field a line (more than folded fields need), so that the
	// slice is not grown and copied field by field.
	fields = make([]rawField, 0, min(bytes.Count(hdr, []byte{'\n'})+1, lim.maxFields))
	lastKnown := -2 // offset in hdr of the last known field; -2: not computed yet
	var cur []byte
	var curName string
	owned := false
	flush := func() error {
		if curName == "" {
			return nil
		}
		if len(cur) > lim.maxFieldLen {
			return fmt.Errorf("header field %q longer than %d bytes", curName, lim.maxFieldLen)
		}
		if len(fields) >= lim.maxFields {
			return fmt.Errorf("more than %d header fields", lim.maxFields)
		}
		fields = append(fields, rawField{name: curName, value: bytes.TrimSpace(cur)})
		curName, cur = "", nil
		return nil
	}
	for len(hdr) > 0 {
		at := full - len(hdr)
		line := hdr
		if i := bytes.IndexByte(hdr, '\n'); i >= 0 {
			line, hdr = hdr[:i], hdr[i+1:]
		} else {
			hdr = nil
		}
		line = bytes.TrimSuffix(line, []byte{'\r'})
		if len(line) == 0 {
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			if curName != "" {
				if len(cur)+len(line) > lim.maxFieldLen {
					return nil, -1, fmt.Errorf("header field %q longer than %d bytes", curName, lim.maxFieldLen)
				}
				if !owned { // never append into the caller's buffer
					cur = append(make([]byte, 0, len(cur)+len(line)+64), cur...)
					owned = true
				}
				cur = append(cur, line...)
			}
			continue
		}
		if err := flush(); err != nil {
			return nil, -1, err
		}
		colon := bytes.IndexByte(line, ':')
		var name []byte
		if colon > 0 {
			name = bytes.TrimRight(line[:colon], " \t")
		}
		if !validFieldName(name) {
			if lastKnown == -2 {
				lastKnown = -1
				if rel := lastKnownField(hdr); rel >= 0 {
					lastKnown = full - len(hdr) + rel
				}
			}
			if len(fields) > 0 && lastKnown < at {
				return fields, at, nil
			}
			continue
		}
		curName = canonicalKey(string(name))
		cur, owned = line[colon+1:], false
	}
	if err := flush(); err != nil {
		return nil, -1, err
	}
	return fields, -1, nil
}

// lastKnownField returns the offset in b of the last line that is a field
// named in knownFields (or X-), or -1.
func lastKnownField(b []byte) int {
	last := -1
	for off := 0; off < len(b); {
		line := b[off:]
		next := len(b)
		if i := bytes.IndexByte(line, '\n'); i >= 0 {
			line, next = line[:i], off+i+1
		}
		if c := bytes.IndexByte(line, ':'); c > 0 {
			name := bytes.TrimRight(line[:c], " \t")
			if validFieldName(name) {
				k := canonicalKey(string(name))
				if knownFields[k] || strings.HasPrefix(k, "X-") {
					last = off
				}
			}
		}
		off = next
	}
	return last
}

// validFieldName reports whether b is an RFC 5322 §3.6.8 field name:
// printable US-ASCII except colon, no spaces.
func validFieldName(b []byte) bool {
	if len(b) == 0 || len(b) > 200 {
		return false
	}
	for _, c := range b {
		if c <= ' ' || c >= 0x7f || c == ':' {
			return false
		}
	}
	return true
}

// fieldList gives quick access to a part's fields.
type fieldList []rawField

func (fl fieldList) get(name string) []byte {
	for _, f := range fl {
		if f.name == name {
			return f.value
		}
	}
	return nil
}

// knownFields are the fields at least one of which a header block must
// contain to count as mail (see looksLikeMail).
var knownFields = map[string]bool{
	"From": true, "To": true, "Subject": true, "Date": true, "Message-Id": true,
	"Received": true, "Mime-Version": true, "Return-Path": true, "Content-Type": true,
	"Sender": true, "Reply-To": true, "Cc": true, "Bcc": true, "In-Reply-To": true,
	"References": true, "Delivered-To": true, "Content-Transfer-Encoding": true,
	"Resent-From": true, "Resent-To": true, "Resent-Date": true, "Envelope-To": true,
	"Content-Disposition": true,
}

// looksLikeMail is the rule that tells mail from other data: the header
// block (everything before the first empty line) must contain at least one
// syntactically valid RFC 5322 field (name of printable ASCII, a colon)
// whose name is in knownFields or starts with "X-", and no NUL byte.
// Stray lines among the fields are tolerated (QUIRK: zammad mail068 starts
// with "---- Original email message ----"). JSON, HTML, prose and binary
// data fail the rule.
func looksLikeMail(hdr []byte, fields []rawField) bool {
	if bytes.IndexByte(hdr, 0) >= 0 {
		return false
	}
	for _, f := range fields {
		if knownFields[f.name] || strings.HasPrefix(f.name, "X-") {
			return true
		}
	}
	return false
}
