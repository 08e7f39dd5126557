package ticket

import (
	"bytes"
	"fmt"
	"strings"
)

// limits bound the work ParseMail does on hostile input.
type limits struct {
	maxDepth    int // multipart nesting
	maxParts    int // MIME entities, uuencode blocks and TNEF attachments together
	maxFieldLen int // one unfolded header field, in bytes
	maxFields   int // header fields of one entity
}

func defaultLimits() limits {
	return limits{maxDepth: 64, maxParts: 5000, maxFieldLen: 256 << 10, maxFields: 10000}
}

// ParseMail parses one raw RFC 822 / RFC 5322 message leniently, the way real
// mail needs it: an mbox "From " first line is skipped, bare LF line ends,
// raw 8-bit header bytes (UTF-8, else the message charset, else
// windows-1252), RFC 2047 encoded words (also malformed ones), RFC 2231
// parameters, every charset golang.org/x/text knows plus UTF-7,
// quoted-printable and base64 (keeping what decodes), uuencoded blocks in
// text bodies, TNEF (winmail.dat), forwarded message/rfc822 parts (kept as
// .eml attachments) and inline cid: images.
//
// The text body is the first text/plain part (UTF-8, CRLF turned into LF),
// else text derived from the HTML body. The HTML body is sanitized (no
// scripts, event handlers or remote resources). Attachment filenames are
// sanitized and never empty.
//
// Data that is not mail (see looksLikeMail), input beyond the parser's
// limits (nesting depth 64, 5000 parts, 256 KiB per header field) and
// parser panics give an error wrapping ErrNotMail. raw is not modified and
// not retained, except that attachment data may alias it.
// ParseMail is safe for concurrent use.
func ParseMail(raw []byte) (m *Mail, err error) {
	defer func() {
		if r := recover(); r != nil {
			m, err = nil, fmt.Errorf("%w: parser failure: %v", ErrNotMail, r)
		}
	}()
	p := &parser{lim: defaultLimits()}
	m, err = p.parseMessage(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotMail, err)
	}
	return m, nil
}

// parser holds the state of one ParseMail call.
type parser struct {
	lim   limits
	parts int
	hint  string // charset for raw 8-bit header bytes
	m     *Mail

	textParts []string // inline text/plain bodies in message order
	altBase   int      // len(textParts) when the innermost multipart/alternative began
	htmlRaw   string   // first inline text/html body, unsanitized
	nameless  int      // counter for invented attachment names
}

func (p *parser) parseMessage(raw []byte) (*Mail, error) {
	raw = stripMboxLine(raw)
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, fmt.Errorf("empty message")
	}
	hdr, body := splitHeader(raw)
	fields, stop, err := parseFields(hdr, &p.lim)
	if err != nil {
		return nil, err
	}
	if stop >= 0 {
		body = raw[stop:]
	}
	if !looksLikeMail(hdr, fields) {
		return nil, fmt.Errorf("no known RFC 5322 header field before the first empty line")
	}
	fl := fieldList(fields)
	p.hint = headerCharsetHint(fields, body)
	m := &Mail{Header: make(Header, len(fields))}
	p.m = m
	p.fillHeader(fl)
	if err := p.walk(fl, body, 0, ""); err != nil {
		return nil, err
	}
	p.finish()
	return m, nil
}

// has8bitHeader reports whether any field holds raw 8-bit or ESC bytes,
// the only case where a charset hint from the body matters.
func has8bitHeader(fields []rawField) bool {
	for _, f := range fields {
		for _, c := range f.value {
			if c >= 0x80 || c == 0x1b {
				return true
			}
		}
	}
	return false
}

// headerCharsetHint picks the charset for raw header bytes that are not
// UTF-8: the message's own charset parameter (also UTF-7: QUIRK hunnysoft
// m1011 writes its headers in UTF-7), else, when a header holds 8-bit
// bytes, a charset parameter in the first 64 KiB of the body, preferring a
// multibyte East Asian one (QUIRK: zammad mail046 sends GB2312 headers
// unencoded and names the charset only on a nested text part).
// ISO-2022-JP is 7-bit, so its mailers' 8-bit header bytes are Shift_JIS
// (QUIRK: zammad mail093).
func headerCharsetHint(fields []rawField, body []byte) string {
	_, params := parseMediaValue(string(fieldList(fields).get("Content-Type")), "")
	cs := normalizeCharset(params["charset"])
	if isUTF7(cs) {
		return "utf-7"
	}
	if lookupCharset(cs) == nil {
		cs = ""
		if has8bitHeader(fields) {
			cs = scanCharset(body[:min(len(body), 64<<10)])
		}
	}
	if strings.HasPrefix(cs, "iso-2022-jp") {
		return "shift_jis"
	}
	return cs
}

// scanCharset returns the first known charset parameter in b, or the
// first East Asian one when there is one.
func scanCharset(b []byte) string {
	cs := ""
	for {
		i := bytes.Index(b, []byte("harset="))
		if i < 0 {
			return cs
		}
		if i == 0 || b[i-1]|0x20 != 'c' {
			b = b[i+1:]
			continue
		}
		v := bytes.TrimLeft(b[i+len("harset="):], `"'`)
		end := bytes.IndexAny(v, "\"'; \t\r\n")
		if end < 0 {
			end = len(v)
		}
		c := normalizeCharset(string(v[:end]))
		b = v[end:]
		if lookupCharset(c) == nil {
			continue
		}
		if cs == "" {
			cs = c
		}
		if isCJK(c) {
			return c
		}
	}
}

// stripMboxLine removes leading blank lines and an mbox "From " separator
// line (QUIRK: 27 zammad files start with one).
func stripMboxLine(raw []byte) []byte {
	for len(raw) > 0 && (raw[0] == '\n' || raw[0] == '\r') {
		raw = raw[1:]
	}
	if bytes.HasPrefix(raw, []byte("From ")) {
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			return raw[i+1:]
		}
		return nil
	}
	return raw
}

// fillHeader sets the envelope fields of the Mail from the top-level header.
func (p *parser) fillHeader(fl fieldList) {
	m := p.m
	for _, f := range fl {
		m.Header[f.name] = append(m.Header[f.name], decodeText(f.value, p.hint))
	}
	m.Subject = decodeText(fl.get("Subject"), p.hint)
	m.To = parseAddressList(joinFields(fl, "To"), p.hint)
	m.Cc = parseAddressList(joinFields(fl, "Cc"), p.hint)
	m.ReplyTo = parseAddressList(joinFields(fl, "Reply-To"), p.hint)
	m.From = p.sender(fl)
	if ids := parseMsgIDs(fl.get("Message-Id")); len(ids) > 0 {
		m.MessageID = ids[0]
	}
	m.InReplyTo = parseMsgIDs(fl.get("In-Reply-To"))
	m.References = parseMsgIDs(fl.get("References"))
	m.Date = parseDate(string(fl.get("Date")))
}

// sender picks the From address: the first address with an e-mail part in
// any From field (QUIRK: zammad mail017 has a garbage From field before the
// real one, mail059 lists an empty address first). Without one, the
// Reply-To, Sender or Return-Path address stands in (QUIRK: zammad mail016
// has no From, mail019 has "name" <>), so a ticket always has a customer
// address when the mail carries any.
func (p *parser) sender(fl fieldList) Address {
	var first Address
	for i, key := range []string{"From", "Reply-To", "Sender", "Return-Path"} {
		for _, a := range parseAddressList(joinFields(fl, key), p.hint) {
			if a.Email != "" && strings.Contains(a.Email, "@") || (i == 0 && a.Email != "") {
				return a
			}
			if i == 0 && first == (Address{}) {
				first = a
			}
		}
	}
	return first
}

// joinFields joins repeated address fields into one list.
func joinFields(fl fieldList, name string) []byte {
	var out []byte
	n := 0
	for _, f := range fl {
		if f.name != name {
			continue
		}
		if n > 0 {
			out = append(out, ',')
		}
		out = append(out, f.value...)
		n++
	}
	return out
}

// parseMsgIDs extracts message ids (RFC 5322 §3.6.4) without angle
// brackets. Lenient: ids without brackets are taken as whitespace or comma
// separated words; comments are skipped; stray brackets are removed.
func parseMsgIDs(v []byte) []string {
	s := strings.TrimSpace(string(v))
	if s == "" {
		return nil
	}
	var ids []string
	add := func(id string) {
		id = strings.Trim(strings.Join(strings.Fields(id), ""), "<>")
		if id != "" && !strings.ContainsAny(id, "<>") {
			ids = append(ids, id)
		}
	}
	if strings.Contains(s, "<") {
		for {
			i := strings.IndexByte(s, '<')
			if i < 0 {
				break
			}
			j := strings.IndexByte(s[i:], '>')
			if j < 0 {
				if id := strings.TrimSpace(s[i+1:]); !strings.ContainsAny(id, " \t") {
					add(id)
				}
				break
			}
			add(s[i+1 : i+j])
			s = s[i+j+1:]
		}
		return ids
	}
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '\t' || r == ',' }) {
		if !strings.HasPrefix(w, "(") {
			add(w)
		}
	}
	return ids
}
