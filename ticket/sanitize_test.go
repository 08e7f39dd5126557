package ticket

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"unicode"

	"github.com/microcosm-cc/bluemonday"
	"golang.org/x/net/html"
)

// The sanitizer and text renderer replaced a pipeline of three
// tokenizations: bluemonday with the policy below, a pass dropping remote
// image sources, and a separate text renderer. The tests here hold the
// one-pass code to that pipeline's output.

var oldHTMLPolicy = sync.OnceValue(func() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	p.AllowURLSchemes("mailto", "http", "https", "cid")
	p.AllowDataURIImages()
	p.RequireNoReferrerOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(true)
	p.AllowAttrs("align", "valign", "width", "height", "colspan", "rowspan", "border", "cellpadding", "cellspacing", "bgcolor").
		Matching(regexp.MustCompile(`^[#\w%. -]{1,32}$`)).Globally()
	p.AllowElements("font", "center", "u", "s")
	p.AllowAttrs("color").Matching(regexp.MustCompile(`^#?\w{1,20}$`)).OnElements("font")
	return p
})

// emptyImg is what the old pipeline left of an image whose only
// attribute was a remote source; the new sanitizer drops the tag (and
// its end tag, which never means anything: img is a void element).
var emptyImg = regexp.MustCompile(`<img/?>|</img>`)

func oldSanitize(s string) string {
	return emptyImg.ReplaceAllString(oldDropRemoteSources(oldHTMLPolicy().Sanitize(s)), "")
}

func oldDropRemoteSources(s string) string {
	if !strings.Contains(s, "src=") && !strings.Contains(s, "background=") {
		return s
	}
	z := html.NewTokenizer(strings.NewReader(s))
	var sb strings.Builder
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return sb.String()
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			sb.Write(z.Raw())
			continue
		}
		t := z.Token()
		kept := t.Attr[:0]
		changed := false
		for _, a := range t.Attr {
			switch a.Key {
			case "src", "srcset", "background", "poster":
				v := strings.ToLower(strings.TrimSpace(a.Val))
				if !strings.HasPrefix(v, "cid:") && !strings.HasPrefix(v, "data:") {
					changed = true
					continue
				}
			}
			kept = append(kept, a)
		}
		if !changed {
			sb.Write(z.Raw())
			continue
		}
		t.Attr = kept
		sb.WriteString(t.String())
	}
}

// comparable reports whether the old pipeline's output for s can be
// compared at all. Two quirks of bluemonday are not copied:
//   - it copies the attributes of end tags (</p x="1">) into its output;
//   - its depth of elements whose content it drops (title, frame, …) goes
//     below zero at an end tag that was never opened, so that it then
//     drops everything after the next such element is closed again:
//     "</title><frame></frame>text" gives "" (FuzzSanitizeHTML found it).
//     The new code keeps the depth at zero and the text (TestStrayEndTag).
func comparable(s string) bool {
	z := html.NewTokenizer(strings.NewReader(s))
	depth := 0 // bluemonday's skippingElementsCount
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return true
		case html.StartTagToken, html.EndTagToken:
			name, hasAttr := z.TagName()
			if tt == html.EndTagToken && hasAttr {
				return false
			}
			if _, allowed := htmlElements[string(name)]; allowed || !htmlSkipContent[string(name)] {
				continue
			}
			if tt == html.StartTagToken {
				depth++
			} else if depth--; depth < 0 {
				return false
			}
		}
	}
}

// An end tag without its start tag does not make the sanitizer drop what
// follows (bluemonday does, see comparable).
func TestStrayEndTag(t *testing.T) {
	for in, want := range map[string]string{
		"</title><frAme ></frAme >0":                  "0",
		"<p>a</p></title><style>x</style><p>kept</p>": "<p>a</p><p>kept</p>",
		"</noscript>text":                             "text",
		"<title>t</title>after":                       "after",
	} {
		if got := sanitizeHTML(in); got != want {
			t.Errorf("sanitizeHTML(%q) = %q, want %q", in, got, want)
		}
	}
}

func checkSanitizer(t *testing.T, in string) {
	t.Helper()
	got := sanitizeHTML(in)
	if !comparable(in) {
		// Where bluemonday's output is not the reference, it still finds
		// nothing to take out of ours.
		if again := oldSanitize(got); again != strings.ReplaceAll(got, "</img>", "") {
			t.Errorf("sanitizeHTML(%q) = %q, which bluemonday sanitizes further to %q", in, got, again)
		}
		return
	}
	if got, want := strings.ReplaceAll(got, "</img>", ""), oldSanitize(in); got != want {
		t.Errorf("sanitizeHTML(%q)\n got %q\nwant %q", in, got, want)
	}
}

// sanitizerCases are elements × attributes × values, the policy's whole
// table and its near misses.
func sanitizerCases() []string {
	elements := strings.Fields(`a abbr acronym address area article aside audio b bdi bdo blockquote
		body br button canvas caption center cite code col colgroup dd del details dfn div dl dt em
		embed fieldset figcaption figure font footer form h1 h3 h6 head header hgroup hr html i iframe
		img input ins kbd li link map mark marquee meta meter nav noscript object ol p pre progress q
		rp rt ruby s samp script section select small span strike strong style sub summary sup svg
		table tbody td textarea tfoot th thead time title tr tt u ul var video wbr xmp frameset`)
	attrs := strings.Fields(`href src cite alt title id lang dir align valign width height colspan
		rowspan border cellpadding cellspacing bgcolor color rel target type value open name coords
		shape usemap datetime summary span abbr headers scope nowrap min max low high optimum style
		class onclick onerror srcset background poster`)
	values := []string{"", "1", "50%", "left", "center", "top", "rtl", "en", "x-1", "#ff0000", "red",
		"https://example.com/x", "http://example.com/a.png", "//example.com/b", "/rel/path", "#frag",
		"cid:logo@example.com", "data:image/png;base64,iVBORw0KGgo=", "data:text/html;base64,PHNjcmlwdD4=",
		"javascript:alert(1)", " JaVaScRiPt:alert(1)", "java\tscript:x", "mailto:a@example.com",
		"vbscript:x", "ftp://example.com/", "1,2,3", "rect", "#map", "2026-11-27", "open", "row",
		"nofollow", "a b", "x\"y<z>&'", "http://a b", "data:image/png;base64,iVBO\nRw0KGgo="}
	var cases []string
	for _, el := range elements {
		cases = append(cases, "<"+el+">t</"+el+">", "<"+el+"/>t")
		for _, a := range attrs {
			for _, v := range values {
				cases = append(cases, "<"+el+" "+a+`="`+html.EscapeString(v)+`">t</`+el+">")
			}
		}
	}
	return cases
}

var trickyHTML = []string{
	`<html><head><style>body{}</style><script>alert(1)</script></head><body onload="x()"><p onclick="evil()">Hello <b>world</b></p></body></html>`,
	`<img src="https://tracker.example.com/pixel.gif" onerror="alert(2)" alt="t"><img src="cid:a@b" alt="logo">`,
	`<a href="https://example.com/x" rel="me">link</a><a>no href</a><a href="javascript:alert(3)">js</a>`,
	`<area href="/x" rel="author" alt="a"><area rel="x"><map name="m"><area href="https://e.com" shape="rect" coords="1,2,3,4"></map>`,
	`<title>T <b>x</b></title><p>after</p><iframe src="https://e.com"><p>in</p></iframe><object><b>o</b></object>`,
	`<div><a href="x"><a href="y">nested</a></a></div><p>unclosed<b>bold<i>it`,
	`<table border=1 cellpadding="2"><tr><td colspan=2 nowrap>c</td></tr></table>`,
	`<SCRIPT>alert(4)</SCRIPT><form action="https://x"><input name=a></form><style>p{}</style>x`,
	`<script>a</script>text<style>b</style>more<noscript><p>n</p></noscript><xmp><b>raw</b></xmp>`,
	`&lt;script&gt; &amp;amp; &#39; &quot; &nbsp; &copy; &#x1F600; &bogus; \r\n text`,
	`<!-- comment --><!DOCTYPE html><![CDATA[x]]><?php echo 1 ?>text`,
	`<p title="a'b" id="x:y" lang="en-GB" dir="ltr">attrs</p><p id="bad id">x</p>`,
	`<img src="data:image/svg+xml;base64,PHN2Zz4=" width="10" height="10%"><img src="data:image/png;base64,!!!">`,
	`<a href="https://example.com/?q=a&amp;b=c#f">q</a><a href="HTTP://EXAMPLE.COM/Upper">u</a>`,
	`<blockquote cite="https://example.com/q">q</blockquote><q cite="javascript:x">q</q><del cite="x" datetime="2026-11-27">d</del>`,
	`<font color="#123456" face="Arial">f</font><center>c</center><bdo dir="rtl">b</bdo><bdo>b</bdo>`,
	`<details open><summary>s</summary>d</details><meter value="0.5" min="0">m</meter><progress>p</progress>`,
	`<ul type="disc"><li value="3" type="a">one<li>two</ul><ol type="x"><li>three</ol>`,
	"<p>\x00nul</p><p>\u2028line sep</p><p>\ufffd</p>",
	`<a href=" https://example.com/trim ">t</a><a href="mailto:x@example.com">m</a><a href="#top">t</a>`,
}

func TestSanitizerMatchesBluemonday(t *testing.T) {
	for _, in := range trickyHTML {
		checkSanitizer(t, in)
	}
	cases := sanitizerCases()
	for _, in := range cases {
		checkSanitizer(t, in)
		if t.Failed() {
			return // one table miss is enough to read
		}
	}
	t.Logf("%d generated cases, %d hand-written", len(cases), len(trickyHTML))
}

// corpusHTML returns the unsanitized HTML body of every corpus mail that
// has one.
func corpusHTML(t testing.TB) []string {
	var out []string
	for _, pat := range []string{"zammad/*.box", "hunnysoft-zbateson/emails/*.txt", "mime4j/*/*.msg"} {
		files, _ := filepath.Glob(filepath.Join(corporaDir, pat))
		for _, f := range files {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			p := &parser{lim: defaultLimits()}
			if _, err := p.parseMessage(raw); err == nil && p.htmlRaw != "" {
				out = append(out, p.htmlRaw)
			}
		}
	}
	return out
}

func TestSanitizerMatchesBluemondayOnCorpora(t *testing.T) {
	bodies := corpusHTML(t)
	if len(bodies) == 0 {
		t.Skipf("shared corpora not found under %s", corporaDir)
	}
	for _, in := range bodies {
		checkSanitizer(t, in)
		if got, want := htmlToText(in), oldHTMLToText(in); got != want {
			t.Errorf("htmlToText differs from the old renderer:\n got %q\nwant %q", got, want)
		}
	}
	t.Logf("%d HTML bodies", len(bodies))
}

func FuzzSanitizeHTML(f *testing.F) {
	for _, s := range trickyHTML {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		checkSanitizer(t, in)
		if got, want := htmlToText(in), oldHTMLToText(in); got != want {
			t.Errorf("htmlToText(%q)\n got %q\nwant %q", in, got, want)
		}
	})
}

func BenchmarkSanitizeCorpusHTML(b *testing.B) {
	bodies := corpusHTML(b)
	if len(bodies) == 0 {
		b.Skipf("shared corpora not found under %s", corporaDir)
	}
	var n int64
	for _, s := range bodies {
		n += int64(len(s))
	}
	b.Run("one-pass", func(b *testing.B) {
		b.SetBytes(n)
		for b.Loop() {
			for _, s := range bodies {
				renderHTML(s, true)
			}
		}
	})
	b.Run("bluemonday+text", func(b *testing.B) {
		b.SetBytes(n)
		for b.Loop() {
			for _, s := range bodies {
				oldDropRemoteSources(oldHTMLPolicy().Sanitize(s))
				oldHTMLToText(s)
			}
		}
	})
}

// oldHTMLToText is the text renderer before it shared the sanitizer's pass.
func oldHTMLToText(s string) string {
	z := html.NewTokenizer(strings.NewReader(s))
	var sb strings.Builder
	skip := 0
	var href string
	var linkText strings.Builder
	inLink := false
	pre := 0
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return tidyText(sb.String())
		case html.TextToken:
			if skip > 0 {
				continue
			}
			txt := string(z.Text())
			if pre == 0 {
				txt = oldCollapseSpace(txt)
			}
			sb.WriteString(txt)
			if inLink {
				linkText.WriteString(txt)
			}
		case html.StartTagToken, html.EndTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			tag := string(name)
			start := tt != html.EndTagToken
			switch tag {
			case "script", "style", "head", "title", "noscript", "template":
				if tt == html.StartTagToken {
					skip++
				} else if tt == html.EndTagToken && skip > 0 {
					skip--
				}
			case "pre":
				if tt == html.StartTagToken {
					pre++
				} else if tt == html.EndTagToken && pre > 0 {
					pre--
				}
				sb.WriteByte('\n')
			case "br":
				sb.WriteByte('\n')
			case "p", "div", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6",
				"blockquote", "ul", "ol", "dl", "dt", "dd", "section", "article",
				"header", "footer", "address", "body":
				sb.WriteByte('\n')
			case "hr":
				sb.WriteString("\n----\n")
			case "li":
				if start {
					sb.WriteString("\n- ")
				}
			case "td", "th":
				if start {
					sb.WriteByte(' ')
				}
			case "a":
				if start {
					href, inLink = "", true
					linkText.Reset()
					for hasAttr {
						var k, v []byte
						k, v, hasAttr = z.TagAttr()
						if string(k) == "href" {
							href = string(v)
						}
					}
				} else if inLink {
					inLink = false
					t := strings.TrimSpace(linkText.String())
					if href != "" && !strings.HasPrefix(href, "#") && !strings.HasPrefix(href, "mailto:") &&
						t != href && t != "" {
						sb.WriteString(" <" + href + ">")
					}
				}
			}
		}
	}
}

// oldCollapseSpace is the text renderer's space collapsing before
// writeCollapsed, for oldHTMLToText.
func oldCollapseSpace(s string) string {
	if !strings.ContainsAny(s, "\r\n\t\f ") {
		return s
	}
	var sb strings.Builder
	space := false
	for _, r := range s {
		if r == ' ' || r == '\n' || r == '\r' || r == '\t' || r == '\f' {
			if !space {
				sb.WriteByte(' ')
			}
			space = true
			continue
		}
		space = false
		sb.WriteRune(r)
	}
	return sb.String()
}

// TestWriteCollapsedAsBefore holds writeCollapsed to the rune-by-rune
// collapsing it replaced, invalid UTF-8 included.
func TestWriteCollapsedAsBefore(t *testing.T) {
	cases := []string{"", " ", "a", "a b", "  a \r\n\t\f b  ", "\xff", "\xffa", "a \xff b", "\xe2\x82", "\xe2\x82 x",
		"Grüße,\n  Jürgen", "tab\there", "\u00a0nbsp\u00a0 kept", "\x00 nul"}
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte(" \r\n\t\fab\xc3\xa9\xff\x80\xe2")
	for range 20000 {
		b := make([]byte, rng.IntN(12))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		cases = append(cases, string(b))
	}
	for _, c := range cases {
		var sb strings.Builder
		writeCollapsed(&sb, []byte(c))
		if got, want := sb.String(), oldCollapseSpace(c); got != want {
			t.Fatalf("writeCollapsed(%q) = %q, want %q", c, got, want)
		}
	}
}

// TestFastChecksMatchTheirExpressions holds each byte-loop attribute check
// to the regular expression it replaced, on random values made of the
// characters that matter to them (case-folding ones included: "ſ" is an
// "s" and "K" a "k" under (?i)).
func TestFastChecksMatchTheirExpressions(t *testing.T) {
	checks := []struct {
		fast attrCheck
		re   *regexp.Regexp
	}{
		{isPresentational, regexp.MustCompile(`^[#\w%. -]{1,32}$`)},
		{isInteger, bluemonday.Integer},
		{isNumberOrPercent, bluemonday.NumberOrPercent},
		{isCellAlign, bluemonday.CellAlign},
		{isCellVerticalAlign, bluemonday.CellVerticalAlign},
		{isDirection, bluemonday.Direction},
	}
	words := []string{"center", "justify", "left", "right", "char", "baseline", "bottom", "middle", "top", "rtl", "ltr"}
	pieces := []string{"0", "7", "%", "#", ".", " ", "-", "_", "a", "Z", "x", "\n", "\t", "é", "ſ", "K", "\xff", "\x00", ",", "+", "px"}
	rng := rand.New(rand.NewPCG(3, 4))
	var values []string
	for _, w := range words {
		values = append(values, w, strings.ToUpper(w), w+" ", " "+w, w+"\n", strings.ReplaceAll(w, "s", "ſ"), w+w)
	}
	for range 50000 {
		var sb strings.Builder
		if rng.IntN(4) == 0 {
			w := []byte(words[rng.IntN(len(words))])
			for i := range w {
				if rng.IntN(2) == 0 {
					w[i] = byte(unicode.ToUpper(rune(w[i])))
				}
			}
			sb.Write(w)
		}
		for range rng.IntN(40) {
			sb.WriteString(pieces[rng.IntN(len(pieces))])
		}
		values = append(values, sb.String())
	}
	values = append(values, "", strings.Repeat("1", 32), strings.Repeat("1", 33), "100%", "%", "1%%", "justiſy")
	for _, c := range checks {
		for _, v := range values {
			if got, want := c.fast.Match([]byte(v)), c.re.Match([]byte(v)); got != want {
				t.Errorf("check for %s on %q = %v, want %v", c.re, v, got, want)
			}
		}
	}
}
