package ticket

import (
	"bytes"
	"fmt"
	"path"
	"strings"
)

// entity is one MIME entity's interpreted header.
type entity struct {
	ctype       string // lower case "type/subtype"
	params      map[string]string
	cte         string
	disposition string // lower case, "" when absent
	filename    string // raw (unsanitized) name from the header
	contentID   string
	description string
}

func (p *parser) readEntity(fl fieldList, parentType string) entity {
	var e entity
	ct := fl.get("Content-Type")
	e.ctype, e.params = parseMediaValue(string(ct), p.hint)
	if !validMediaType(e.ctype) {
		// Absent or invalid: RFC 2045 §5.2 default, RFC 2046 §5.1.5 in
		// a digest.
		e.ctype = "text/plain"
		if parentType == "multipart/digest" {
			e.ctype = "message/rfc822"
		}
	}
	e.cte = strings.ToLower(strings.TrimSpace(string(fl.get("Content-Transfer-Encoding"))))
	disp, dparams := parseMediaValue(string(fl.get("Content-Disposition")), p.hint)
	e.disposition = disp
	e.filename = dparams["filename"]
	if e.filename == "" {
		e.filename = e.params["name"]
	}
	if e.filename == "" {
		e.filename = dparams["name"]
	}
	if ids := parseMsgIDs(fl.get("Content-Id")); len(ids) > 0 {
		e.contentID = ids[0]
	}
	e.description = decodeText(fl.get("Content-Description"), p.hint)
	return e
}

// walk interprets one entity: fl is its header, body its raw body.
func (p *parser) walk(fl fieldList, body []byte, depth int, parentType string) error {
	p.parts++
	if p.parts > p.lim.maxParts {
		return fmt.Errorf("more than %d MIME parts", p.lim.maxParts)
	}
	if depth > p.lim.maxDepth {
		return fmt.Errorf("MIME nesting deeper than %d", p.lim.maxDepth)
	}
	e := p.readEntity(fl, parentType)
	if strings.HasPrefix(e.ctype, "multipart/") {
		boundary := e.params["boundary"]
		parts := splitMultipart(body, boundary, p.lim.maxParts-p.parts+1)
		if len(parts) == 0 {
			// QUIRK: a multipart without (matching) boundary: read the
			// body as text so nothing is lost.
			return p.leaf(entity{ctype: "text/plain", params: map[string]string{}, cte: e.cte}, body, parentType)
		}
		if e.ctype == "multipart/alternative" {
			defer func(saved int) { p.altBase = saved }(p.altBase)
			p.altBase = len(p.textParts)
		}
		for _, part := range parts {
			hdr, b := splitHeader(part)
			fields, stop, err := parseFields(hdr, &p.lim)
			if err != nil {
				return err
			}
			if stop >= 0 {
				b = part[stop:]
			}
			if err := p.walk(fields, b, depth+1, e.ctype); err != nil {
				return err
			}
		}
		return nil
	}
	return p.leaf(e, body, parentType)
}

// splitMultipart returns the body parts of a multipart body (RFC 2046
// §5.1.1), at most max of them. Lenient: bare LF, trailing garbage after a
// delimiter, a missing close delimiter (the last part runs to the end).
// The parts alias body.
func splitMultipart(body []byte, boundary string, max int) [][]byte {
	if boundary == "" || max <= 0 {
		return nil
	}
	delim := []byte("--" + boundary)
	var parts [][]byte
	start := -1 // start of the current part's content
	pos := 0
	for pos < len(body) {
		i := bytes.Index(body[pos:], delim)
		if i < 0 {
			break
		}
		i += pos
		after := i + len(delim)
		if i > 0 && body[i-1] != '\n' || !delimEnd(body, after) {
			pos = after
			continue
		}
		closing := after+1 < len(body) && body[after] == '-' && body[after+1] == '-'
		if start >= 0 {
			end := i
			if end > 0 && body[end-1] == '\n' {
				end--
				if end > start && body[end-1] == '\r' {
					end--
				}
			}
			if end < start {
				end = start
			}
			parts = append(parts, body[start:end])
			if len(parts) >= max {
				return parts
			}
		}
		if closing {
			return parts
		}
		nl := bytes.IndexByte(body[after:], '\n')
		if nl < 0 {
			return parts
		}
		start = after + nl + 1
		pos = start
	}
	if start >= 0 && start < len(body) && len(bytes.TrimSpace(body[start:])) > 0 {
		parts = append(parts, body[start:])
	}
	return parts
}

// delimEnd reports whether a delimiter may end at body[i]: end of line,
// end of data, blanks or "--".
func delimEnd(body []byte, i int) bool {
	if i >= len(body) {
		return true
	}
	switch body[i] {
	case '\r', '\n', ' ', '\t':
		return true
	case '-':
		return i+1 < len(body) && body[i+1] == '-'
	}
	return false
}

// leaf handles a non-multipart entity.
func (p *parser) leaf(e entity, body []byte, parentType string) error {
	isAttachment := e.disposition == "attachment" || e.filename != ""
	switch {
	case e.ctype == "application/ms-tnef" || e.ctype == "application/vnd.ms-tnef" ||
		strings.EqualFold(e.filename, "winmail.dat"):
		data, strict := decodeTransferStrict(e.cte, body)
		if atts, err := readTNEF(data, p.lim.maxParts-p.parts); err == nil && len(atts) > 0 {
			p.parts += len(atts)
			for _, a := range atts {
				p.addAttachment(a.name, a.mimeType, a.contentID, false, a.data)
			}
			return nil
		}
		p.addAttachment(e.filename, e.ctype, e.contentID, false, data)
		p.markEncoded(body, strict)
	case e.ctype == "application/mac-binhex40" || e.ctype == "application/mac-binhex":
		data, strict := decodeTransferStrict(e.cte, body)
		if name, file, err := decodeBinHex(data); err == nil {
			if e.filename == "" {
				e.filename = name
			}
			p.addAttachment(e.filename, contentTypeByName(e.filename), e.contentID, false, file)
			return nil
		}
		p.addAttachment(e.filename, e.ctype, e.contentID, false, data)
		p.markEncoded(body, strict)
	case e.ctype == "message/rfc822" || e.ctype == "message/global":
		data, strict := decodeTransferStrict(e.cte, body)
		name := e.filename
		if name == "" {
			// A subject is no path: its slashes must not cut it short.
			name = strings.NewReplacer("/", "_", "\\", "_").Replace(innerSubject(data, &p.lim))
		}
		if name == "" {
			name = "forwarded"
		}
		if !strings.HasSuffix(strings.ToLower(name), ".eml") {
			name += ".eml"
		}
		p.addAttachment(name, e.ctype, e.contentID, false, data)
		p.markEncoded(body, strict)
	case (e.ctype == "text/plain" || e.ctype == "text/html") && !isAttachment:
		data, strict := decodeTransferStrict(e.cte, body)
		text := decodeCharset(e.params["charset"], data)
		if e.ctype == "text/html" {
			if p.htmlRaw == "" {
				p.htmlRaw = text
				return nil
			}

			p.addAttachment("", e.ctype, e.contentID, false, data)
			p.markEncoded(body, strict)
			return nil
		}
		if parentType == "multipart/alternative" && len(p.textParts) > p.altBase {
			return nil // another rendering of text this alternative already gave
		}
		text = normalizeNewlines(text)
		if strings.Contains(text, "begin ") {
			var blocks []uuBlock
			blocks, text = extractUUBlocks([]byte(text))
			for _, b := range blocks {
				p.parts++
				if p.parts > p.lim.maxParts {
					return fmt.Errorf("more than %d MIME parts", p.lim.maxParts)
				}
				p.addAttachment(b.name, "", "", false, b.data)
			}
		}
		p.textParts = append(p.textParts, text)
	default:
		data, strict := decodeTransferStrict(e.cte, body)
		inline := e.disposition == "inline" ||
			(e.disposition == "" && e.contentID != "" && parentType == "multipart/related")
		if e.filename == "" {
			e.filename = nameFromContentID(e.contentID)
		}
		if e.filename == "" && e.description != "" && !strings.HasPrefix(e.ctype, "text/") {
			// QUIRK: DSN parts are named by their description only
			// ("Delivery report", zammad mail033).
			e.filename = e.description
			if path.Ext(e.filename) == "" {
				e.filename += extensionFor(e.ctype)
			}
		}
		p.addAttachment(e.filename, e.ctype, e.contentID, inline, data)
		p.markEncoded(body, strict)
	}
	return nil
}

// nameFromContentID returns the file name Outlook puts into Content-IDs of
// unnamed inline images ("image001.jpg@01CDB132.D8A510F0", QUIRK: zammad
// mail062), or "".
func nameFromContentID(cid string) string {
	local, _, ok := strings.Cut(cid, "@")
	if !ok {
		return ""
	}
	ext := path.Ext(local)
	if len(ext) < 2 || len(ext) > 6 || len(local) == len(ext) {
		return ""
	}
	for _, c := range ext[1:] {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return ""
		}
	}
	return local
}

// validMediaType reports whether s is "type/subtype" made of RFC 2045 §5.1
// token characters.
func validMediaType(s string) bool {
	slash := strings.IndexByte(s, '/')
	if slash <= 0 || slash == len(s)-1 || len(s) > 127 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if i == slash {
			continue
		}
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?=`, c) >= 0 {
			return false
		}
	}
	return true
}

// addAttachment appends an attachment with a sanitized, never empty name.
func (p *parser) addAttachment(name, ctype, cid string, inline bool, data []byte) {
	if !validMediaType(ctype) {
		ctype = contentTypeByName(name)
	}
	name = sanitizeFilename(name)
	if name == "" {
		p.nameless++
		name = fmt.Sprintf("attachment-%d%s", p.nameless, extensionFor(ctype))
	}
	p.m.Attachments = append(p.m.Attachments, Attachment{
		Filename:    name,
		ContentType: ctype,
		ContentID:   cid,
		Inline:      inline,
		Data:        data,
	})
}

// markEncoded notes the base64 text the last attachment was decoded from
// (see splitRaw), when the standard decoder took it whole (strict, from
// decodeTransferStrict): body, its part's body, aliases the raw mail.
func (p *parser) markEncoded(body []byte, strict bool) {
	if strict && len(body) > 0 {
		p.m.Attachments[len(p.m.Attachments)-1].encoded = body
	}
}

// innerSubject returns the decoded Subject of an embedded message.
func innerSubject(msg []byte, lim *limits) string {
	hdr, _ := splitHeader(stripMboxLine(msg))
	fields, _, err := parseFields(hdr, lim)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(decodeText(fieldList(fields).get("Subject"), ""))
}

// finish derives the bodies once every part has been seen.
func (p *parser) finish() {
	p.m.TextBody = strings.Join(p.textParts, "\n")
	if p.htmlRaw != "" {
		// One tokenization gives the sanitized HTML and, for a mail
		// without a text part, the text.
		noText := strings.TrimSpace(p.m.TextBody) == ""
		safe, text := renderHTML(p.htmlRaw, noText)
		p.m.HTMLBody = safe
		if noText {
			p.m.TextBody = text
		}
	}
}

// normalizeNewlines turns CRLF and lone CR into LF.
func normalizeNewlines(s string) string {
	if !strings.Contains(s, "\r") {
		return s
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\r", "\n")
}
