package api

import (
	"bytes"
	"html/template"
	"net/http"
	"regexp"
	"strconv"

	"github.com/microcosm-cc/bluemonday"
)

// pageCSP is the Content-Security-Policy of the ticket page: no scripts at
// all, images only from postdesk itself (no tracking pixels from mail),
// inline styles for mail formatting, no embedding elsewhere. The mail's
// HTML is shown in a sandboxed srcdoc iframe, which inherits this policy.
const pageCSP = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; " +
	"frame-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

var pageTemplate = template.Must(template.New("ticket").Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}">
<head>
<meta charset="utf-8">
<meta name="referrer" content="no-referrer">
<title>#{{.ID}} {{.Title}}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;max-width:60em;color:#222}
dl{display:grid;grid-template-columns:max-content auto;gap:.2em 1em}
dt{font-weight:bold}
article{border-top:1px solid #ccc;margin-top:1.5em;padding-top:.5em}
pre{white-space:pre-wrap;background:#f7f7f7;padding:.7em}
iframe{width:100%;height:30em;border:1px solid #ddd}
.auto{color:#a60}
</style>
</head>
<body>
<h1>#{{.ID}} {{.Title}}</h1>
<dl>
<dt>Status</dt><dd>{{.Status}}</dd>
<dt>Category</dt><dd>{{.Category}}</dd>
<dt>Priority</dt><dd>{{.Priority}}</dd>
<dt>Owner</dt><dd>{{.Owner}}</dd>
<dt>Customer</dt><dd>{{.Person}}</dd>
<dt>Company</dt><dd>{{.Company}}</dd>
<dt>Mailbox</dt><dd>{{.Mailbox}}</dd>
<dt>Created</dt><dd><time datetime="{{.CreatedISO}}">{{.Created}}</time></dd>
<dt>Updated</dt><dd>{{.Updated}}</dd>
</dl>
{{range .Messages}}
<article id="message-{{.ID}}">
<h2>{{.Subject}}</h2>
<p>From {{.From}}{{if .To}} to {{.To}}{{end}} · {{.Date}}{{if .Automatic}} · <span class="auto">automatic</span>{{end}}</p>
{{if .HTML}}<iframe sandbox="allow-popups allow-popups-to-escape-sandbox" referrerpolicy="no-referrer" title="message {{.ID}}" srcdoc="{{.HTML}}"></iframe>
{{else}}<pre>{{.Text}}</pre>
{{end}}
{{if .Attachments}}<ul>
{{range .Attachments}}<li><a href="{{.URL}}" download>{{.Name}}</a> ({{.ContentType}}, {{.Size}} bytes)</li>
{{end}}</ul>{{end}}
<p><a href="{{.RawURL}}" download>Raw mail</a> ({{.RawSize}} bytes)</p>
</article>
{{end}}
</body>
</html>
`))

type pageData struct {
	Lang, Title, Status, Category, Priority, Owner, Person, Company string
	ID, Mailbox                                                     int64
	Created, CreatedISO, Updated                                    string
	Messages                                                        []pageMessage
}

type pageMessage struct {
	ID                                  int64
	Subject, From, To, Date, Text, HTML string
	RawURL, RawSize                     string
	Automatic                           bool
	Attachments                         []pageAttachment
}

type pageAttachment struct {
	URL, Name, ContentType, Size string
}

// cidRef matches cid: URLs in sanitized HTML attributes.
var cidRef = regexp.MustCompile(`(?i)cid:([^"'\s>]+)`)

// ticketPage is GET /ticket/{id}: a read-only HTML view of the ticket,
// dates and numbers in the caller's culture and time zone.
func (a *API) ticketPage(w http.ResponseWriter, r *http.Request) {
	d, ok := a.loadTicket(w, r)
	if !ok {
		return
	}
	rs := state(r)
	c := rs.culture
	p := pageData{
		Lang: a.lang.tag(rs.lang).String(), ID: d.ID, Mailbox: d.MailboxID, Title: d.Title, Status: string(d.Status),
		Category: a.lang.name(rs.prefs, d.Category), Priority: a.lang.name(rs.prefs, d.Priority), Owner: d.Owner,
		Created: c.date(d.CreatedAt), CreatedISO: d.CreatedAt.UTC().Format("2006-01-02T15:04:05Z"), Updated: c.date(d.UpdatedAt),
	}
	if d.Person != nil {
		p.Person = d.Person.Name
		if d.Person.Email != "" {
			p.Person += " <" + d.Person.Email + ">"
		}
	}
	if d.Company != nil {
		p.Company = d.Company.Name
	}
	for _, m := range d.Messages {
		pm := pageMessage{ID: m.ID, Subject: m.Subject, From: m.From.String(), Date: c.date(m.Date), Text: m.TextBody, Automatic: m.Automatic,
			RawURL: a.rawURL(d.ID, m.ID), RawSize: c.number(m.RawSize)}
		if pm.Date == "" {
			pm.Date = c.date(m.CreatedAt)
		}
		for i, t := range m.To {
			if i > 0 {
				pm.To += ", "
			}
			pm.To += t.String()
		}
		cids := map[string]string{}
		for _, at := range m.Attachments {
			url := a.attachmentURL(d.ID, at.ID)
			if at.ContentID != "" {
				cids[at.ContentID] = url
			}
			pm.Attachments = append(pm.Attachments, pageAttachment{URL: url, Name: at.Filename, ContentType: at.ContentType, Size: c.number(at.Size)})
		}
		if m.HTMLBody != "" {
			html := cidRef.ReplaceAllStringFunc(a.sanitize(m.HTMLBody), func(s string) string {
				if u, ok := cids[s[4:]]; ok {
					return u
				}
				return s
			})
			pm.HTML = `<base target="_blank">` + html
		}
		p.Messages = append(p.Messages, pm)
	}
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, p); err != nil {
		a.fail(w, r, &apiError{status: http.StatusInternalServerError, typ: typeInternal, msg: msgInternal, err: err})
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", pageCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "private, no-store")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	if r.Method == http.MethodHead {
		return
	}
	w.Write(buf.Bytes())
}

// newSanitizer is the policy for stored HTML bodies at display time: the
// parser sanitized them already; this second pass keeps a stored body from
// an older or buggy version from carrying script into the page.
func newSanitizer() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	p.AllowURLSchemes("http", "https", "mailto", "cid")
	p.AllowDataURIImages()
	p.AllowStyling()
	p.AllowAttrs("style").Globally()
	return p
}

func (a *API) sanitize(html string) string {
	if html == "" {
		return ""
	}
	return a.policy.Sanitize(html)
}
