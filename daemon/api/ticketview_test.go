package api

import (
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// richMail has an HTML body with script, an inline cid: image and a PDF
// attachment.
func richMail(subject string) string {
	return mail("Jane Doe <jane@customer.example>", subject)[:0] +
		"From: Jane Doe <jane@customer.example>\r\nTo: support@example.com\r\nSubject: " + subject + "\r\n" +
		"Date: Thu, 26 Nov 2026 10:00:00 +0000\r\nMessage-ID: <rich-" + subject + "@example.com>\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n" +
		"--b1\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" +
		"<p onclick=\"steal()\">Hello <b>world</b><script>alert(1)</script><img src=\"cid:logo@x\"></p>\r\n" +
		"--b1\r\nContent-Type: image/png\r\nContent-ID: <logo@x>\r\nContent-Disposition: inline; filename=\"logo.png\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		"iVBORw0KGgo=\r\n" +
		"--b1\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"report <1>.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		"JVBERi0xLjQKJcfsj6IK\r\n--b1--\r\n"
}

func TestTicketUrlLeadsToTicketPage(t *testing.T) {
	e := shared(t)
	r := e.do(t, req{path: createPath, ctype: "application/json", auth: e.admin, body: jsonBody(607, richMail("Page test"))})
	if r.code != http.StatusOK {
		t.Fatalf("create: %d %s", r.code, r.body)
	}
	info := decodeInfo(t, r.body)
	url := info["TicketUrl"].(string)
	if !strings.HasPrefix(url, e.srv.URL+"/ticket/") {
		t.Fatalf("TicketUrl %q does not point at this server", url)
	}
	page := e.do(t, req{method: http.MethodGet, path: strings.TrimPrefix(url, e.srv.URL), auth: e.admin,
		header: map[string]string{"SO-Culture": "de-DE", "SO-TimeZone": "Europe/Berlin"}})
	if page.code != http.StatusOK {
		t.Fatalf("ticket page: %d %s", page.code, page.body)
	}
	h := page.header
	if !strings.HasPrefix(h.Get("Content-Type"), "text/html") || h.Get("X-Content-Type-Options") != "nosniff" ||
		!strings.Contains(h.Get("Content-Security-Policy"), "default-src 'none'") || strings.Contains(h.Get("Content-Security-Policy"), "script-src") {
		t.Errorf("page headers: %v", h)
	}
	body := page.body
	for _, want := range []string{"Page test", "Technical Support", "Sarah Johnson", "Jane Doe", `sandbox="allow-popups`, "srcdoc=", ".pdf</a>"} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(body, "<script") || strings.Contains(body, "alert(1)") || strings.Contains(body, "steal()") {
		t.Errorf("script survived into the page:\n%s", body)
	}
	// 12:00 UTC of the import clock is not used: dates are the mail's
	// (10:00 UTC = 11:00 in Berlin), in German order.
	if !regexp.MustCompile(`26\.11\.2026 11:00 CET`).MatchString(body) {
		t.Errorf("date not in de-DE/Europe/Berlin form:\n%s", body)
	}

	links := regexp.MustCompile(`href="(/ticket/\d+/attachments/\d+|http://[^"]+/attachments/\d+)"`).FindAllStringSubmatch(body, -1)
	if len(links) != 2 {
		t.Fatalf("attachment links: %v", links)
	}
	if !strings.Contains(body, strings.TrimPrefix(links[0][1], "")) || !strings.Contains(body, "src=&#34;"+links[0][1]) && !strings.Contains(body, "src=&quot;"+links[0][1]) {
		t.Errorf("cid: image not rewritten to %s", links[0][1])
	}
	att := e.do(t, req{method: http.MethodGet, path: strings.TrimPrefix(links[1][1], e.srv.URL), auth: e.admin})
	if att.code != http.StatusOK || att.body != "%PDF-1.4\n%\xc7\xec\x8f\xa2\n" {
		t.Fatalf("attachment: %d %q", att.code, att.body)
	}
	if cd := att.header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") || !strings.Contains(cd, "report") {
		t.Errorf("Content-Disposition %q", cd)
	}
	if att.header.Get("X-Content-Type-Options") != "nosniff" || att.header.Get("Content-Type") != "application/pdf" {
		t.Errorf("attachment headers %v", att.header)
	}

	// An attachment id of another ticket is not reachable through this one.
	other := decodeInfo(t, e.do(t, req{path: createPath, ctype: "application/json", auth: e.admin, body: jsonBody(607, mail("o@customer.example", "Other"))}).body)
	aid := links[1][1][strings.LastIndex(links[1][1], "/")+1:]
	if r := e.do(t, req{method: http.MethodGet, path: fmt.Sprintf("/ticket/%d/attachments/%s", int64(other["TicketId"].(float64)), aid), auth: e.admin}); r.code != 404 {
		t.Errorf("foreign attachment: %d", r.code)
	}
	if r := e.do(t, req{method: http.MethodGet, path: "/ticket/99999999", auth: e.admin}); r.code != 404 {
		t.Errorf("unknown ticket page: %d", r.code)
	}
	if r := e.do(t, req{method: http.MethodGet, path: "/ticket/abc", auth: e.admin}); r.code != 404 {
		t.Errorf("non-numeric ticket page: %d", r.code)
	}
}

func TestGetTicketJSONAndXML(t *testing.T) {
	e := shared(t)
	info := decodeInfo(t, e.do(t, req{path: createPath, ctype: "application/json", auth: e.admin, body: jsonBody(607, richMail("API read"))}).body)
	id := int64(info["TicketId"].(float64))
	r := e.do(t, req{method: http.MethodGet, path: fmt.Sprintf("/api/v1/Ticket/%d", id), auth: e.bearer,
		header: map[string]string{"SO-TimeZone": "Europe/Oslo"}})
	if r.code != http.StatusOK {
		t.Fatalf("%d %s", r.code, r.body)
	}
	var doc ticketDoc
	if err := json.Unmarshal([]byte(r.body), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.TicketId != id || doc.Title != "API read" || doc.CategoryName != "Technical Support" || len(doc.Messages) != 1 ||
		len(doc.Messages[0].Attachments) != 2 || doc.PersonEmail != "jane@customer.example" {
		t.Fatalf("ticket doc: %+v", doc)
	}
	if m := doc.Messages[0]; m.Date != "2026-11-26T11:00:00+01:00" || strings.Contains(m.HTMLBody, "script") || !strings.Contains(m.HTMLBody, "<b>world</b>") {
		t.Errorf("message: date %q html %q", m.Date, m.HTMLBody)
	}
	r = e.do(t, req{method: http.MethodGet, path: fmt.Sprintf("/api/v1/Ticket/%d", id), auth: e.soticket, header: map[string]string{"Accept": "text/xml"}})
	var x ticketDoc
	if r.code != http.StatusOK || xml.Unmarshal([]byte(r.body), &x) != nil || x.TicketId != id || len(x.Messages) != 1 || len(x.Messages[0].Attachments) != 2 {
		t.Errorf("XML ticket: %d %+v\n%s", r.code, x, r.body)
	}
	if r := e.do(t, req{method: http.MethodGet, path: "/api/v1/Ticket/99999999", auth: e.admin}); r.code != 404 || errorOf(t, r).ErrorType != typeNotFound {
		t.Errorf("unknown ticket: %d %s", r.code, r.body)
	}
}

// TestRawMessageDownload gives the imported mail back byte for byte, its
// attachment's base64 rebuilt from the stored blob, to readers of the
// ticket only.
func TestRawMessageDownload(t *testing.T) {
	e := shared(t)
	pdf := make([]byte, 3000)
	for i := range pdf {
		pdf[i] = byte(i * 7)
	}
	enc := base64.StdEncoding.EncodeToString(pdf)
	var lines []string
	for len(enc) > 76 {
		lines, enc = append(lines, enc[:76]), enc[76:]
	}
	raw := "From: Jane Doe <jane@customer.example>\r\nTo: support@example.com\r\nSubject: Raw download\r\n" +
		"Message-ID: <raw-download@example.com>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n" +
		"--b1\r\nContent-Type: text/plain\r\n\r\nThe report.\r\n" +
		"--b1\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"report.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		strings.Join(append(lines, enc), "\r\n") + "\r\n--b1--\r\n"
	r := e.do(t, req{path: createPath + "?MailboxId=607", ctype: "message/rfc822", auth: e.admin, body: raw})
	if r.code != http.StatusOK {
		t.Fatalf("create: %d %s", r.code, r.body)
	}
	id := int64(decodeInfo(t, r.body)["TicketId"].(float64))
	var doc ticketDoc
	if err := json.Unmarshal([]byte(e.do(t, req{method: http.MethodGet, path: fmt.Sprintf("/api/v1/Ticket/%d", id), auth: e.admin}).body), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Messages) != 1 || !strings.HasPrefix(doc.Messages[0].RawUrl, e.srv.URL+"/ticket/") {
		t.Fatalf("messages %+v", doc.Messages)
	}
	path := strings.TrimPrefix(doc.Messages[0].RawUrl, e.srv.URL)
	got := e.do(t, req{method: http.MethodGet, path: path, auth: e.admin})
	if got.code != http.StatusOK || got.body != raw {
		t.Fatalf("raw: %d, %d bytes, want the %d posted", got.code, len(got.body), len(raw))
	}
	if got.header.Get("Content-Type") != "message/rfc822" || !strings.HasPrefix(got.header.Get("Content-Disposition"), "attachment;") ||
		got.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("raw headers %v", got.header)
	}
	page := e.do(t, req{method: http.MethodGet, path: fmt.Sprintf("/ticket/%d", id), auth: e.admin})
	if !strings.Contains(page.body, `href="`+doc.Messages[0].RawUrl+`" download>Raw mail</a>`) && !strings.Contains(page.body, `href="`+path+`" download>Raw mail</a>`) {
		t.Errorf("ticket page has no raw mail link to %s", path)
	}
	if r := e.do(t, req{method: http.MethodGet, path: path}); r.code != http.StatusUnauthorized {
		t.Errorf("raw without credentials: %d", r.code)
	}
	other := decodeInfo(t, e.do(t, req{path: createPath, ctype: "application/json", auth: e.admin, body: jsonBody(607, mail("o@customer.example", "Other raw"))}).body)
	foreign := fmt.Sprintf("/ticket/%d/messages/%d/raw", int64(other["TicketId"].(float64)), doc.Messages[0].Id)
	if r := e.do(t, req{method: http.MethodGet, path: foreign, auth: e.admin}); r.code != http.StatusNotFound {
		t.Errorf("a message of another ticket: %d", r.code)
	}
}
