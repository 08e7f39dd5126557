package ticket

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestParseMailNotMail(t *testing.T) {
	garbage := make([]byte, 4096)
	for i := range garbage {
		garbage[i] = byte(i*7919 + i>>3)
	}
	for name, in := range map[string][]byte{
		"empty":          nil,
		"blank":          []byte(" \r\n\r\n\t\n"),
		"word":           []byte("autem"),
		"prose":          []byte("Dear team,\nplease help.\n\nThanks"),
		"json":           []byte(`{"MailboxId": 1, "Data": "From: a@example.com"}`),
		"json pretty":    []byte("{\n  \"From\": \"a@example.com\",\n  \"Subject\": \"x\"\n}\n"),
		"html":           []byte("<html><body>From: me</body></html>"),
		"binary":         garbage,
		"nul in header":  []byte("From: a@example.com\x00\r\nSubject: x\r\n\r\nbody"),
		"unknown fields": []byte("Foo: bar\r\nBaz: qux\r\n\r\nbody"),
		"mbox line only": []byte("From a@example.com Thu Jan  1 00:00:00 2026\n"),
	} {
		m, err := ParseMail(in)
		if !errors.Is(err, ErrNotMail) || m != nil {
			t.Errorf("%s: ParseMail = %v, %v; want ErrNotMail", name, m, err)
		}
	}
	for name, in := range map[string]string{
		"subject only":  "Subject: hi\n\nbody",
		"x field":       "X-Mailer: foo\r\n\r\nbody",
		"no body":       "From: a@example.com",
		"stray line":    "---- Original message ----\r\nFrom: a@example.com\r\n\r\nbody",
		"mbox":          "From a@example.com Thu Jan  1 00:00:00 2026\nFrom: a@example.com\n\nbody\n",
		"leading blank": "\r\n\r\nFrom: a@example.com\r\n\r\nbody",
	} {
		if _, err := ParseMail([]byte(in)); err != nil {
			t.Errorf("%s: ParseMail: %v", name, err)
		}
	}
}

func TestParseMailMissingBlankLine(t *testing.T) {
	// No empty line after the header: the body starts at the first line
	// that is not a field.
	m, err := ParseMail([]byte("From: a@example.com\nSubject: help\nThe printer is broken.\nPlease help\n"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "help" || m.TextBody != "The printer is broken.\nPlease help\n" {
		t.Errorf("subject %q, body %q", m.Subject, m.TextBody)
	}
	// A line that lost its indentation among the fields is skipped.
	m, err = ParseMail([]byte("Received: from a\nby b with ESMTP\nFrom: a@example.com\nSubject: s\n\nbody\n"))
	if err != nil {
		t.Fatal(err)
	}
	if m.From.Email != "a@example.com" || m.Subject != "s" || m.TextBody != "body\n" {
		t.Errorf("from %q, subject %q, body %q", m.From, m.Subject, m.TextBody)
	}
}

func TestParseMailLimits(t *testing.T) {
	deadline := 2 * time.Second
	t.Run("deep nesting", func(t *testing.T) {
		var b bytes.Buffer
		b.WriteString("From: a@example.com\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n")
		for i := 1; i <= 1000; i++ {
			fmt.Fprintf(&b, "--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n", i-1, i)
		}
		b.WriteString("--b1000\r\nContent-Type: text/plain\r\n\r\ndeep\r\n")
		start := time.Now()
		_, err := ParseMail(b.Bytes())
		if !errors.Is(err, ErrNotMail) || !strings.Contains(err.Error(), "nesting") {
			t.Errorf("err = %v, want ErrNotMail about nesting", err)
		}
		if d := time.Since(start); d > deadline {
			t.Errorf("took %v", d)
		}
	})
	t.Run("many parts", func(t *testing.T) {
		var b bytes.Buffer
		b.WriteString("From: a@example.com\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n")
		for i := 0; i < 10000; i++ {
			fmt.Fprintf(&b, "--x\r\nContent-Type: application/octet-stream; name=f%d.bin\r\n\r\n%d\r\n", i, i)
		}
		b.WriteString("--x--\r\n")
		start := time.Now()
		_, err := ParseMail(b.Bytes())
		if !errors.Is(err, ErrNotMail) || !strings.Contains(err.Error(), "parts") {
			t.Errorf("err = %v, want ErrNotMail about parts", err)
		}
		if d := time.Since(start); d > deadline {
			t.Errorf("took %v", d)
		}
	})
	t.Run("long header field", func(t *testing.T) {
		raw := "From: a@example.com\r\nSubject: " + strings.Repeat("x", 300<<10) + "\r\n\r\nbody"
		_, err := ParseMail([]byte(raw))
		if !errors.Is(err, ErrNotMail) || !strings.Contains(err.Error(), "longer than") {
			t.Errorf("err = %v, want ErrNotMail about the field length", err)
		}
		folded := "From: a@example.com\r\nReferences:" + strings.Repeat("\r\n <id@example.com>", 20000) + "\r\n\r\nbody"
		if _, err := ParseMail([]byte(folded)); !errors.Is(err, ErrNotMail) {
			t.Errorf("folded: err = %v, want ErrNotMail", err)
		}
	})
	t.Run("pathological headers", func(t *testing.T) {
		// Many unterminated encoded words, unbalanced comments and
		// quotes: parsing stays linear.
		for _, v := range []string{
			strings.Repeat("=?a?q?", 40000),
			strings.Repeat("(", 200000),
			strings.Repeat("\"a, ", 50000),
			strings.Repeat("<a@b", 50000),
		} {
			raw := "From: " + v + "\r\nTo: " + v + "\r\nSubject: " + v + "\r\nContent-Type: text/plain; " +
				"name=\"" + v + "\r\n\r\nbody"
			start := time.Now()
			if _, err := ParseMail([]byte(raw)); err != nil {
				t.Fatal(err)
			}
			if d := time.Since(start); d > deadline {
				t.Errorf("%.10q…: took %v", v, d)
			}
		}
	})
	t.Run("within limits", func(t *testing.T) {
		var b bytes.Buffer
		b.WriteString("From: a@example.com\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n")
		for i := 0; i < 1000; i++ {
			fmt.Fprintf(&b, "--x\r\nContent-Type: application/octet-stream\r\n\r\n%d\r\n", i)
		}
		b.WriteString("--x--\r\n")
		m, err := ParseMail(b.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Attachments) != 1000 || m.Attachments[999].Filename != "attachment-1000.bin" {
			t.Errorf("%d attachments, last %q", len(m.Attachments), m.Attachments[len(m.Attachments)-1].Filename)
		}
	})
}

func TestSanitizeHTML(t *testing.T) {
	in := `<html><head><style>body{}</style><script>alert(1)</script></head><body onload="x()">
<p onclick="evil()">Hello <b>world</b></p>
<img src="https://tracker.example.com/pixel.gif" onerror="alert(2)" alt="t">
<img src="http://example.com/a.png">
<img src="//example.com/b.png">
<img src="cid:logo@example.com" alt="logo">
<img src="data:image/png;base64,iVBORw0KGgo=">
<a href="https://example.com/x">link</a>
<a href="javascript:alert(3)">js</a>
<iframe src="https://example.com"></iframe>
<SCRIPT>alert(4)</SCRIPT><form action="https://x"><input name=a></form>
</body></html>`
	out := sanitizeHTML(in)
	for _, bad := range []string{"<script", "<SCRIPT", "alert(", "onerror", "onclick", "onload", "tracker.example.com",
		"http://example.com/a.png", "//example.com/b.png", "javascript:", "<iframe", "<form", "<style"} {
		if strings.Contains(out, bad) {
			t.Errorf("sanitized HTML contains %q:\n%s", bad, out)
		}
	}
	for _, good := range []string{"<b>world</b>", `src="cid:logo@example.com"`, `src="data:image/png;base64,iVBORw0KGgo="`,
		`href="https://example.com/x"`, "noopener", "noreferrer"} {
		if !strings.Contains(out, good) {
			t.Errorf("sanitized HTML lacks %q:\n%s", good, out)
		}
	}
}

func TestHTMLToText(t *testing.T) {
	in := `<html><head><title>T</title><style>p{}</style></head><body><p>Hello&nbsp;<b>world</b></p>` +
		`<p>second   line<br>third</p><ul><li>one</li><li>two</li></ul><a href="https://example.com">site</a>` +
		`<script>var x = "hidden";</script></body></html>`
	want := "Hello\u00a0world\n\nsecond line\nthird\n\n- one\n- two\nsite <https://example.com>"
	if got := htmlToText(in); got != want {
		t.Errorf("htmlToText = %q, want %q", got, want)
	}
}

func TestParseMailStructure(t *testing.T) {
	raw := "From: \"Ann\" <ann@example.com>\r\n" +
		"To: b@example.com\r\nSubject: =?utf-8?Q?Gr=C3=BC=C3=9Fe?=\r\n" +
		"Message-ID: <m1@example.com>\r\nIn-Reply-To: <p1@example.com> (comment)\r\n" +
		"References: <r0@example.com>\r\n <p1@example.com>\r\n" +
		"Content-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n" +
		"--outer\r\nContent-Type: multipart/related; boundary=\"rel\"\r\n\r\n" +
		"--rel\r\nContent-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n" +
		"--alt\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nGr=FC=DFe\r\n" +
		"--alt\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Hi <img src=\"cid:img1@x\"></p><script>x</script>\r\n" +
		"--alt--\r\n" +
		"--rel\r\nContent-Type: image/png\r\nContent-ID: <img1@x>\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n" +
		"--rel--\r\n" +
		"--outer\r\nContent-Type: message/rfc822\r\n\r\nFrom: c@example.com\r\nSubject: Inner / thing\r\n\r\ninner body\r\n" +
		"--outer\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"../../x.pdf\"\r\n\r\n%PDF\r\n" +
		"--outer--\r\n"
	m, err := ParseMail([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "Grüße" || m.From != (Address{"Ann", "ann@example.com"}) || m.MessageID != "m1@example.com" {
		t.Errorf("envelope: %q %q %q", m.Subject, m.From, m.MessageID)
	}
	if fmt.Sprint(m.InReplyTo) != "[p1@example.com]" || fmt.Sprint(m.References) != "[r0@example.com p1@example.com]" {
		t.Errorf("threading: %q %q", m.InReplyTo, m.References)
	}
	if m.TextBody != "Grüße" {
		t.Errorf("text body = %q", m.TextBody)
	}
	if strings.Contains(m.HTMLBody, "<script") || !strings.Contains(m.HTMLBody, `src="cid:img1@x"`) {
		t.Errorf("html body = %q", m.HTMLBody)
	}
	want := []Attachment{
		{Filename: "attachment-1.png", ContentType: "image/png", ContentID: "img1@x", Inline: true},
		{Filename: "Inner _ thing.eml", ContentType: "message/rfc822"},
		{Filename: "x.pdf", ContentType: "application/pdf"},
	}
	if len(m.Attachments) != len(want) {
		t.Fatalf("attachments: %s", attNames(m))
	}
	for i, w := range want {
		a := m.Attachments[i]
		if a.Filename != w.Filename || a.ContentType != w.ContentType || a.ContentID != w.ContentID || a.Inline != w.Inline {
			t.Errorf("attachment %d = %+v, want %+v", i, a, w)
		}
	}
	if string(m.Attachments[1].Data) != "From: c@example.com\r\nSubject: Inner / thing\r\n\r\ninner body" {
		t.Errorf("forwarded data = %q", m.Attachments[1].Data)
	}
}
