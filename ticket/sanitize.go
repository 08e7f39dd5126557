package ticket

import (
	"bytes"
	"encoding/base64"
	"math"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/microcosm-cc/bluemonday"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// The HTML of a mail is sanitized and, for a mail without a text part,
// rendered as text in one tokenization (renderHTML). The policy is
// bluemonday's user-generated-content policy (no scripts, no event
// handlers, no styles, no forms or frames) adjusted for mail: links get
// rel="nofollow noreferrer" (and target="_blank" rel="noopener" when they
// leave the site), a few presentational attributes are kept, and images
// may only come from cid: (inline parts) and data: URLs, never from the
// network. It used to be bluemonday itself followed by a second pass that
// dropped remote image sources and a third for the text; that was a fifth
// of the import's CPU. TestSanitizerMatchesBluemonday holds this code to
// the output of the old pipeline, and the read paths (daemon/api) still
// sanitize with bluemonday before anything reaches a browser.

// attrCheck accepts an attribute value; nil accepts any value. Most are
// regular expressions (ours and bluemonday's); the checks of the attributes
// mail uses most are byte loops (isPresentational and the rest below).
type attrCheck interface{ Match(val []byte) bool }

// anyValue is the check of an attribute whose value is not restricted
// (URL attributes are checked as URLs instead).
var anyValue attrCheck

var (
	reLang        = regexp.MustCompile(`[a-zA-Z]{2,20}`)
	reID          = regexp.MustCompile(`[a-zA-Z0-9\:\-_\.]+`)
	reDetailsOpen = regexp.MustCompile(`(?i)^(|open)$`)
	reMapName     = regexp.MustCompile(`^([\p{L}\p{N}_-]+)$`)
	reCoords      = regexp.MustCompile(`^([0-9]+,)+[0-9]+$`)
	reShape       = regexp.MustCompile(`(?i)^(default|circle|rect|poly)$`)
	reUsemap      = regexp.MustCompile(`(?i)^#[\p{L}\p{N}_-]+$`)
	reScope       = regexp.MustCompile(`(?i)(?:row|col)(?:group)?`)
	reNowrap      = regexp.MustCompile(`(?i)|nowrap`)
	reFontColor   = regexp.MustCompile(`^#?\w{1,20}$`)
	reDataImage   = regexp.MustCompile(`^image/(gif|jpeg|png|svg\+xml|webp);base64,`)
	reDataBase64  = regexp.MustCompile(`^data:[^,]*;base64,`)
)

// The checks of the attributes mail carries most (width, height, align,
// border, cellpadding, colspan, dir, ...), as byte loops that decide as
// the regular expressions beside them do (TestFastChecksMatchTheirExpressions):
// matching those was 8 % of renderHTML's time.
var (
	// `^[#\w%. -]{1,32}$`
	isPresentational = byteRun{min: 1, max: 32, set: newByteSet("#%. -_0123456789" + asciiLetters)}
	// bluemonday.Integer: `^[0-9]+$`
	isInteger = byteRun{min: 1, max: math.MaxInt, set: newByteSet("0123456789")}
	// bluemonday.NumberOrPercent: `^[0-9]+[%]?$`
	isNumberOrPercent = numberOrPercent{}
	// bluemonday.CellAlign: `(?i)^(center|justify|left|right|char)$`
	isCellAlign = newFoldedWords("center", "justify", "left", "right", "char")
	// bluemonday.CellVerticalAlign: `(?i)^(baseline|bottom|middle|top)$`
	isCellVerticalAlign = newFoldedWords("baseline", "bottom", "middle", "top")
	// bluemonday.Direction: `(?i)^(rtl|ltr)$`
	isDirection = newFoldedWords("rtl", "ltr")
)

const asciiLetters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

type byteSet [256]bool

func newByteSet(chars string) *byteSet {
	var s byteSet
	for i := range len(chars) {
		s[chars[i]] = true
	}
	return &s
}

// byteRun accepts min to max bytes, each in set.
type byteRun struct {
	min, max int
	set      *byteSet
}

func (r byteRun) Match(val []byte) bool {
	if len(val) < r.min || len(val) > r.max {
		return false
	}
	for _, c := range val {
		if !r.set[c] {
			return false
		}
	}
	return true
}

// numberOrPercent accepts digits, then at most one '%'.
type numberOrPercent struct{}

func (numberOrPercent) Match(val []byte) bool {
	if n := len(val); n > 1 && val[n-1] == '%' {
		val = val[:n-1]
	}
	return isInteger.Match(val)
}

// foldedWords accepts one of its words under Unicode case folding, as
// (?i) does (so "ſ" is an "s").
type foldedWords [][]byte

func newFoldedWords(words ...string) foldedWords {
	f := make(foldedWords, len(words))
	for i, w := range words {
		f[i] = []byte(w)
	}
	return f
}

func (f foldedWords) Match(val []byte) bool {
	for _, w := range f {
		if bytes.EqualFold(val, w) {
			return true
		}
	}
	return false
}

// htmlGlobalAttrs are allowed on every allowed element.
var htmlGlobalAttrs = map[string]attrCheck{
	"dir":   isDirection,
	"lang":  reLang,
	"id":    reID,
	"title": bluemonday.Paragraph,
	// Presentational attributes common in mail.
	"align": isPresentational, "valign": isPresentational, "width": isPresentational,
	"height": isPresentational, "colspan": isPresentational, "rowspan": isPresentational,
	"border": isPresentational, "cellpadding": isPresentational, "cellspacing": isPresentational,
	"bgcolor": isPresentational,
}

// htmlElement is what the policy allows of one element.
type htmlElement struct {
	attrs map[string]attrCheck
	// bare: the element is kept without attributes; otherwise a tag left
	// with none (an <a> without a usable href) is dropped, content kept.
	bare bool
}

var (
	tableCell = map[string]attrCheck{
		"abbr": bluemonday.Paragraph, "align": isCellAlign,
		"colspan": isInteger, "rowspan": isInteger,
		"headers": bluemonday.SpaceSeparatedTokens,
		"height":  isNumberOrPercent, "width": isNumberOrPercent,
		"scope": reScope, "valign": isCellVerticalAlign, "nowrap": reNowrap,
	}
	tableCol = map[string]attrCheck{
		"align": isCellAlign, "height": isNumberOrPercent,
		"width": isNumberOrPercent, "span": isInteger,
		"valign": isCellVerticalAlign,
	}
	tableRow  = map[string]attrCheck{"align": isCellAlign, "valign": isCellVerticalAlign}
	editAttrs = map[string]attrCheck{"cite": bluemonday.Paragraph, "datetime": bluemonday.ISO8601}
	listType  = map[string]attrCheck{"type": bluemonday.ListType}
)

// htmlElements is the element allowlist; anything else is dropped, its
// content kept (except htmlSkipContent).
var htmlElements = func() map[string]htmlElement {
	els := map[string]htmlElement{
		"details":    {attrs: map[string]attrCheck{"open": reDetailsOpen}, bare: true},
		"blockquote": {attrs: map[string]attrCheck{"cite": anyValue}, bare: true},
		"q":          {attrs: map[string]attrCheck{"cite": anyValue}, bare: true},
		"a":          {attrs: map[string]attrCheck{"href": anyValue}},
		"map":        {attrs: map[string]attrCheck{"name": reMapName}},
		"area": {attrs: map[string]attrCheck{"alt": bluemonday.Paragraph, "coords": reCoords, "href": anyValue,
			"rel": bluemonday.SpaceSeparatedTokens, "shape": reShape}},
		"img": {attrs: map[string]attrCheck{"usemap": reUsemap, "align": bluemonday.ImageAlign,
			"alt": bluemonday.Paragraph, "height": isNumberOrPercent,
			"width": isNumberOrPercent, "src": anyValue}},
		"time":     {attrs: map[string]attrCheck{"datetime": bluemonday.ISO8601}, bare: true},
		"bdi":      {attrs: map[string]attrCheck{"dir": isDirection}, bare: true},
		"bdo":      {attrs: map[string]attrCheck{"dir": isDirection}},
		"del":      {attrs: editAttrs, bare: true},
		"ins":      {attrs: editAttrs, bare: true},
		"ol":       {attrs: listType, bare: true},
		"ul":       {attrs: listType, bare: true},
		"li":       {attrs: map[string]attrCheck{"type": bluemonday.ListType, "value": isInteger}, bare: true},
		"table":    {attrs: map[string]attrCheck{"height": isNumberOrPercent, "width": isNumberOrPercent, "summary": bluemonday.Paragraph}, bare: true},
		"col":      {attrs: tableCol, bare: true},
		"colgroup": {attrs: tableCol, bare: true},
		"thead":    {attrs: tableRow, bare: true},
		"tr":       {attrs: tableRow, bare: true},
		"tbody":    {attrs: tableRow, bare: true},
		"tfoot":    {attrs: tableRow, bare: true},
		"td":       {attrs: tableCell, bare: true},
		"th":       {attrs: tableCell, bare: true},
		"meter": {attrs: map[string]attrCheck{"value": bluemonday.Number, "min": bluemonday.Number, "max": bluemonday.Number,
			"low": bluemonday.Number, "high": bluemonday.Number, "optimum": bluemonday.Number}},
		"progress": {attrs: map[string]attrCheck{"value": bluemonday.Number, "max": bluemonday.Number}},
		"font":     {attrs: map[string]attrCheck{"color": reFontColor}},
	}
	for _, name := range strings.Fields(`article aside figure section summary h1 h2 h3 h4 h5 h6
		hgroup br div hr p span wbr abbr acronym cite code dfn em figcaption mark s samp strong sub
		sup var b i pre small strike tt u rp rt ruby dl dt dd caption center`) {
		els[name] = htmlElement{bare: true}
	}
	return els
}()

// htmlSkipContent are elements whose content is dropped with them.
var htmlSkipContent = map[string]bool{
	"frame": true, "frameset": true, "iframe": true, "noembed": true, "noframes": true,
	"noscript": true, "nostyle": true, "object": true, "script": true, "style": true, "title": true,
}

// sanitizeHTML returns the mail's HTML safe to display in a browser.
func sanitizeHTML(s string) string {
	safe, _ := renderHTML(s, false)
	return safe
}

// htmlToText renders HTML as readable plain text: block elements become
// line breaks, list items get "- ", links keep their target when it
// differs from the text, script/style/head content is dropped, runs of
// blank lines are collapsed.
func htmlToText(s string) string {
	_, text := renderHTML(s, true)
	return text
}

// htmlAttr is one attribute kept by the sanitizer.
type htmlAttr struct{ key, val string }

// renderHTML sanitizes s and, when wantText, renders it as text, from one
// pass of the tokenizer.
func renderHTML(s string, wantText bool) (safe, text string) {
	if strings.TrimSpace(s) == "" {
		return s, "" // as bluemonday: nothing to sanitize
	}
	z := html.NewTokenizer(strings.NewReader(s))
	var out strings.Builder
	out.Grow(len(s))
	var (
		// Sanitizer state, as bluemonday keeps it.
		skipping  int      // depth of htmlSkipContent elements
		dropClose []string // dropped start tags whose end tags are dropped too
		recent    string   // the last start tag, for script/style text
		attrs     []htmlAttr
	)
	t := textRenderer{on: wantText}
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return out.String(), t.result()
		case html.TextToken:
			raw := z.Text()
			t.text(raw)
			if skipping == 0 && recent != "script" && recent != "style" {
				escapeHTML(&out, raw)
			}
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			nameB, hasAttr := z.TagName()
			name := internName(nameB)
			el, allowed := htmlElements[name]
			attrs = attrs[:0]
			href := ""
			for hasAttr {
				var k, v []byte
				k, v, hasAttr = z.TagAttr()
				if name == "a" && string(k) == "href" {
					href = string(v)
				}
				if allowed && tt != html.EndTagToken {
					if a, ok := allowAttr(name, el, internName(k), v); ok {
						attrs = append(attrs, a)
					}
				}
			}
			t.tag(tt, name, href)
			switch tt {
			case html.StartTagToken:
				recent = name
				if name == "script" || name == "style" {
					continue
				}
				if !allowed {
					if htmlSkipContent[name] {
						skipping++
					}
					continue
				}
				attrs = linkAttrs(name, attrs)
				if len(attrs) == 0 && !el.bare {
					dropClose = append(dropClose, name)
					continue
				}
				if skipping == 0 {
					writeTag(&out, name, attrs, false)
				}
			case html.SelfClosingTagToken:
				if !allowed || name == "script" || name == "style" {
					continue
				}
				attrs = linkAttrs(name, attrs)
				if len(attrs) == 0 && !el.bare {
					continue
				}
				if skipping == 0 {
					writeTag(&out, name, attrs, true)
				}
			case html.EndTagToken:
				if recent == name {
					recent = ""
				}
				if name == "script" || name == "style" {
					continue
				}
				if n := len(dropClose); n > 0 && dropClose[n-1] == name {
					dropClose = dropClose[:n-1]
					continue
				}
				if !allowed {
					if htmlSkipContent[name] && skipping > 0 {
						skipping--
					}
					continue
				}
				if skipping == 0 {
					out.WriteString("</")
					out.WriteString(name)
					out.WriteByte('>')
				}
			}
		}
	}
}

// internName returns a lower-case tag or attribute name as a string,
// without allocating for the names x/net/html's atom table knows (every
// one the policy allows among them): one allocation fewer per tag and per
// attribute kept.
func internName(b []byte) string {
	if a := atom.Lookup(b); a != 0 {
		return a.String()
	}
	return string(b)
}

// allowAttr checks one attribute of an allowed element, URLs included.
func allowAttr(elem string, el htmlElement, key string, val []byte) (htmlAttr, bool) {
	check, ok := el.attrs[key]
	if !ok || (check != nil && !check.Match(val)) {
		if check, ok = htmlGlobalAttrs[key]; !ok || !check.Match(val) {
			return htmlAttr{}, false
		}
	}
	v := string(val)
	switch {
	case key == "href" && (elem == "a" || elem == "area"),
		key == "cite" && (elem == "blockquote" || elem == "q" || elem == "del" || elem == "ins"):
		u, ok := validURL(v)
		return htmlAttr{key, u}, ok
	case key == "src" && elem == "img":
		u, ok := validURL(v)
		if !ok {
			return htmlAttr{}, false
		}
		// Only inline sources: a remote image tells the sender that
		// (and when, and from where) the mail was read.
		l := strings.ToLower(strings.TrimSpace(u))
		if !strings.HasPrefix(l, "cid:") && !strings.HasPrefix(l, "data:") {
			return htmlAttr{}, false
		}
		return htmlAttr{key, u}, true
	}
	return htmlAttr{key, v}, true
}

// validURL accepts relative URLs and the schemes mailto, http, https, cid
// and data (images only), and returns the URL as Go re-serializes it.
func validURL(raw string) (string, bool) {
	raw = strings.TrimSpace(raw)
	if strings.ContainsAny(raw, " \t\n") {
		if !strings.HasPrefix(raw, "data:") {
			return "", false
		}
		if m := reDataBase64.FindString(raw); m != "" {
			raw = m + strings.NewReplacer("\r", "", "\n", "").Replace(raw[len(m):])
		}
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", false
	}
	switch u.Scheme {
	case "":
		if s := u.String(); s != "" {
			return s, true
		}
		return "", false
	case "mailto", "http", "https", "cid":
		return u.String(), true
	case "data":
		if u.RawQuery != "" || u.Fragment != "" {
			return "", false
		}
		m := reDataImage.FindString(u.Opaque)
		if m == "" {
			return "", false
		}
		if _, err := base64.StdEncoding.DecodeString(u.Opaque[len(m):]); err != nil {
			return "", false
		}
		return u.String(), true
	}
	return "", false
}

// linkAttrs adds what links must carry: rel="nofollow noreferrer" on any
// link, and target="_blank" with rel="noopener" on one that leaves the site
// (has a host).
func linkAttrs(elem string, attrs []htmlAttr) []htmlAttr {
	if elem != "a" && elem != "area" {
		return attrs
	}
	href, external := false, false
	for _, a := range attrs {
		if a.key == "href" {
			href = true
			if u, err := url.Parse(a.val); err == nil && u.Host != "" {
				external = true
			}
		}
	}
	if !href {
		return attrs
	}
	rel := -1
	for i, a := range attrs {
		if a.key == "rel" {
			if !strings.Contains(a.val, "nofollow") {
				a.val += " nofollow"
			}
			if !strings.Contains(a.val, "noreferrer") {
				a.val += " noreferrer"
			}
			attrs[i], rel = a, i
		}
	}
	if rel < 0 {
		attrs = append(attrs, htmlAttr{"rel", "nofollow noreferrer"})
		rel = len(attrs) - 1
	}
	if elem == "a" && external {
		attrs = append(attrs, htmlAttr{"target", "_blank"})
		if !strings.Contains(attrs[rel].val, "noopener") {
			attrs[rel].val += " noopener"
		}
	}
	return attrs
}

func writeTag(out *strings.Builder, name string, attrs []htmlAttr, selfClosing bool) {
	out.WriteByte('<')
	out.WriteString(name)
	for _, a := range attrs {
		out.WriteByte(' ')
		out.WriteString(a.key)
		out.WriteString(`="`)
		escapeHTML(out, []byte(a.val))
		out.WriteByte('"')
	}
	if selfClosing {
		out.WriteString("/>")
	} else {
		out.WriteByte('>')
	}
}

// escapeHTML writes s escaped as html.EscapeString does (&'<>" and \r).
func escapeHTML(out *strings.Builder, s []byte) {
	last := 0
	for i, c := range s {
		var esc string
		switch c {
		case '&':
			esc = "&amp;"
		case '\'':
			esc = "&#39;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '"':
			esc = "&#34;"
		case '\r':
			esc = "&#13;"
		default:
			continue
		}
		out.Write(s[last:i])
		out.WriteString(esc)
		last = i + 1
	}
	out.Write(s[last:])
}

// textRenderer turns the token stream into readable text.
type textRenderer struct {
	on       bool
	sb       strings.Builder
	skip     int // inside script, style, head, title, noscript, template
	pre      int
	inLink   bool
	href     string
	linkText strings.Builder
}

func (t *textRenderer) text(raw []byte) {
	if !t.on || t.skip > 0 {
		return
	}
	start := t.sb.Len()
	if t.pre == 0 {
		writeCollapsed(&t.sb, raw)
	} else {
		t.sb.Write(raw)
	}
	if t.inLink {
		t.linkText.WriteString(t.sb.String()[start:])
	}
}

func (t *textRenderer) tag(tt html.TokenType, tag, href string) {
	if !t.on {
		return
	}
	start := tt != html.EndTagToken
	switch tag {
	case "script", "style", "head", "title", "noscript", "template":
		if tt == html.StartTagToken {
			t.skip++
		} else if tt == html.EndTagToken && t.skip > 0 {
			t.skip--
		}
	case "pre":
		if tt == html.StartTagToken {
			t.pre++
		} else if tt == html.EndTagToken && t.pre > 0 {
			t.pre--
		}
		t.sb.WriteByte('\n')
	case "br":
		t.sb.WriteByte('\n')
	case "p", "div", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6",
		"blockquote", "ul", "ol", "dl", "dt", "dd", "section", "article",
		"header", "footer", "address", "body":
		t.sb.WriteByte('\n')
	case "hr":
		t.sb.WriteString("\n----\n")
	case "li":
		if start {
			t.sb.WriteString("\n- ")
		}
	case "td", "th":
		if start {
			t.sb.WriteByte(' ')
		}
	case "a":
		if start {
			t.href, t.inLink = href, true
			t.linkText.Reset()
		} else if t.inLink {
			t.inLink = false
			lt := strings.TrimSpace(t.linkText.String())
			if t.href != "" && !strings.HasPrefix(t.href, "#") && !strings.HasPrefix(t.href, "mailto:") &&
				lt != t.href && lt != "" {
				t.sb.WriteString(" <" + t.href + ">")
			}
		}
	}
}

func (t *textRenderer) result() string {
	if !t.on {
		return ""
	}
	return tidyText(t.sb.String())
}

// writeCollapsed writes s to sb with each run of spaces, tabs, form feeds
// and line breaks as one space; text with such a run and bytes that are
// not UTF-8 gets U+FFFD for each of them (it used to be rebuilt rune by
// rune, a tenth of the sanitizer's time; text without is kept as it is).
// Valid text is copied a run at a time.
func writeCollapsed(sb *strings.Builder, s []byte) {
	if !utf8.Valid(s) && bytes.ContainsAny(s, "\r\n\t\f ") {
		space := false
		for _, r := range string(s) {
			if isCollapsible(r) {
				if !space {
					sb.WriteByte(' ')
				}
				space = true
				continue
			}
			space = false
			sb.WriteRune(r)
		}
		return
	}
	for len(s) > 0 {
		i := 0
		for i < len(s) && !isCollapsible(rune(s[i])) {
			i++
		}
		sb.Write(s[:i])
		if i == len(s) {
			return
		}
		sb.WriteByte(' ')
		for i < len(s) && isCollapsible(rune(s[i])) {
			i++
		}
		s = s[i:]
	}
}

func isCollapsible(r rune) bool {
	return r == ' ' || r == '\n' || r == '\r' || r == '\t' || r == '\f'
}

// tidyText trims each line and keeps at most one blank line in a row.
func tidyText(s string) string {
	lines := strings.Split(s, "\n")
	out := lines[:0]
	blank := 0
	for _, l := range lines {
		l = strings.TrimRight(strings.TrimLeft(l, " "), " \t\u00a0")
		if l == "" {
			blank++
			if blank > 1 || len(out) == 0 {
				continue
			}
		} else {
			blank = 0
		}
		out = append(out, l)
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}
