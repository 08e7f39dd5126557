package ticket

import (
	"regexp"
	"strings"
	"sync"

	"github.com/microcosm-cc/bluemonday"
	"golang.org/x/net/html"
)

// htmlPolicy is built once and only read afterwards (bluemonday policies
// are safe for concurrent use once built).
var htmlPolicy = sync.OnceValue(newHTMLPolicy)

// newHTMLPolicy is bluemonday's user-generated-content policy (no scripts,
// no event handlers, no styles, no forms or frames) adjusted for mail:
// links open with rel="nofollow noreferrer noopener", images may use cid:
// (inline parts) and data: URLs. Remote image sources are removed
// afterwards by dropRemoteSources.
func newHTMLPolicy() *bluemonday.Policy {
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
}

// sanitizeHTML returns the mail's HTML safe to display in a browser.
func sanitizeHTML(s string) string {
	return dropRemoteSources(htmlPolicy().Sanitize(s))
}

// dropRemoteSources removes src/srcset/background attributes that would
// load something from the network; cid: and data: sources stay. The input
// is bluemonday output, so re-rendering its tokens is safe.
func dropRemoteSources(s string) string {
	if !strings.Contains(s, "src=") && !strings.Contains(s, "background=") {
		return s
	}
	z := html.NewTokenizer(strings.NewReader(s))
	var sb strings.Builder
	sb.Grow(len(s))
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

// htmlToText renders HTML as readable plain text: block elements become
// line breaks, list items get "- ", links keep their target when it
// differs from the text, script/style/head content is dropped, runs of
// blank lines are collapsed.
func htmlToText(s string) string {
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
				txt = collapseSpace(txt)
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

func collapseSpace(s string) string {
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
