package ticket

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// mime4jBody is one decoded body part listed in a mime4j _decoded.xml.
type mime4jBody struct {
	file    string // the _decoded_*.txt/.bin file
	ctype   string // the part's content type, lower case
	charset string
	nested  bool // inside an embedded message/rfc822 (kept as .eml)
}

// mime4jBodies walks a _decoded.xml tree and lists its body files with the
// content type of the entity each belongs to.
func mime4jBodies(r io.Reader) ([]mime4jBody, error) {
	dec := xml.NewDecoder(r)
	type frame struct {
		ctype, charset string
		message        bool
	}
	var stack []frame
	var out []mime4jBody
	var field strings.Builder
	inField := false
	messages := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "message", "body-part":
				if t.Name.Local == "message" {
					messages++
				}
				stack = append(stack, frame{ctype: "text/plain", message: t.Name.Local == "message"})
			case "field":
				inField = true
				field.Reset()
			case "text-body", "binary-body":
				var name string
				for _, a := range t.Attr {
					if a.Name.Local == "name" {
						name = a.Value
					}
				}
				if len(stack) > 0 && name != "" {
					f := stack[len(stack)-1]
					out = append(out, mime4jBody{file: name, ctype: f.ctype, charset: f.charset, nested: messages > 1})
				}
			}
		case xml.CharData:
			if inField {
				field.Write(t)
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "field":
				inField = false
				k, v, ok := strings.Cut(strings.TrimSpace(field.String()), ":")
				if ok && strings.EqualFold(strings.TrimSpace(k), "content-type") && len(stack) > 0 {
					ct, params := parseMediaValue(v, "")
					stack[len(stack)-1].ctype = ct
					stack[len(stack)-1].charset = params["charset"]
				}
			case "message", "body-part":
				if t.Name.Local == "message" {
					messages--
				}
				if len(stack) > 0 {
					stack = stack[:len(stack)-1]
				}
			}
		}
	}
}

// TestConformanceMime4j compares the decoded part bodies of the mime4j
// torture messages with what Mail exposes: attachments byte-exact, text
// parts as (charset-decoded, LF-normalised) parts of the text body. Parts
// of embedded messages (kept whole as .eml) and HTML parts (sanitized) are
// not exposed and not scored.
func TestConformanceMime4j(t *testing.T) {
	dir := corpus(t, "mime4j")
	xmls, _ := filepath.Glob(filepath.Join(dir, "*", "*_decoded.xml"))
	if len(xmls) == 0 {
		t.Skipf("no _decoded.xml files in %s", dir)
	}
	sb := newScoreboard("mime4j")
	for _, x := range xmls {
		msg := strings.TrimSuffix(x, "_decoded.xml") + ".msg"
		if _, err := os.Stat(msg); err != nil {
			continue
		}
		name := filepath.Base(msg)
		m, err := parseNoPanic(t, msg)
		if err != nil {
			sb.score("parsed", false, name, err.Error())
			continue
		}
		sb.score("parsed", true, name, "")
		f, err := os.Open(x)
		if err != nil {
			t.Fatal(err)
		}
		bodies, err := mime4jBodies(f)
		f.Close()
		if err != nil {
			t.Logf("%s: %v", x, err)
			continue
		}
		for _, b := range bodies {
			if b.nested || b.ctype == "text/html" {
				continue
			}
			want := readCorpusFile(t, filepath.Join(filepath.Dir(x), b.file))
			ok := false
			for _, a := range m.Attachments {
				if bytes.Equal(a.Data, want) {
					ok = true
					break
				}
			}
			if !ok && strings.HasPrefix(b.ctype, "text/") {
				w := strings.TrimSpace(normalizeNewlines(decodeCharset(b.charset, want)))
				ok = strings.Contains(m.TextBody, w)
			}
			sb.score("part_bodies", ok, name, fmt.Sprintf("%s (%s, %d bytes) not exposed; attachments: %s", b.file, b.ctype, len(want), attNames(m)))
		}
	}
	// Known differences, left as misses on purpose:
	//   parsed: malformedHeader-noheader and malformedHeaderStartsBody-
	//     noheader have no header field at all: ErrNotMail by our rule.
	//   part_bodies: the second text/plain of a multipart/alternative
	//     (double-semicolon*) is an alternative rendering, not body text;
	//     uuencoded blocks (sig-uu, uu-junk, uu-zeegee) become attachments
	//     and leave the text; multi-frag's GIF ends before the garbage
	//     mime4j decodes into it; in malformedHeaderStartsBody-nocrlfcrlf
	//     we keep the stray line out of the body.
	sb.report(t, map[string]int{"parsed": 78, "part_bodies": 119})
}
