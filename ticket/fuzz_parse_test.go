package ticket

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// FuzzParseMail checks that ParseMail never panics (a recovered panic is
// reported as a failure too) and keeps its invariants on any input. Seeds:
// every corpus file (when the shared corpora are present), the golden
// inputs and a few inline oddities.
func FuzzParseMail(f *testing.F) {
	for _, s := range []string{
		"",
		"autem",
		"From: a@example.com\n\nbody",
		"From x\nSubject: =?utf-8?B?8J+YgA==?=\n\n",
		"From: a@example.com\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: application/ms-tnef\r\n\r\n\x78\x9f\x3e\x22\x01\x00\x02\x02\x90\x06\x00\x00\x00\x00\x00\r\n--x--",
		"Subject: x\nContent-Type: text/plain; charset=utf-7\n\n+ZeVnLIqe-\nbegin 644 a/../b\nM86)C\n`\nend\n",
		"Subject: x\nContent-Type: text/html\n\n<img src=x onerror=alert(1)><script>alert(2)</script>",
		"Subject: x\nContent-Disposition: attachment; filename*0*=utf-8''%2E%2E%2F; filename*1=%00x\n\ndata",
	} {
		f.Add([]byte(s))
	}
	golden, _ := filepath.Glob(filepath.Join("testdata", "parse", "*.eml"))
	for _, g := range golden {
		if b, err := os.ReadFile(g); err == nil {
			f.Add(b)
		}
	}
	if fi, err := os.Stat(corporaDir); err == nil && fi.IsDir() {
		filepath.WalkDir(corporaDir, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			if fi, err := d.Info(); err == nil && fi.Size() <= 1<<20 {
				if b, err := os.ReadFile(path); err == nil {
					f.Add(b)
				}
			}
			return nil
		})
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := ParseMail(raw)
		if err != nil {
			if !errors.Is(err, ErrNotMail) {
				t.Fatalf("error does not wrap ErrNotMail: %v", err)
			}
			if strings.Contains(err.Error(), "parser failure") {
				t.Fatalf("parser panicked: %v", err)
			}
			return
		}
		checkMailInvariants(t, m)
		roundTrip(t, raw) // the stored raw message is the mail
	})
}

// checkMailInvariants holds for every successfully parsed Mail.
func checkMailInvariants(t *testing.T, m *Mail) {
	t.Helper()
	if m.Header == nil {
		t.Fatal("nil Header")
	}
	for i, a := range m.Attachments {
		if a.Filename == "" || strings.ContainsAny(a.Filename, "/\\\x00\r\n") || strings.Contains(a.Filename, "..") ||
			len(a.Filename) > maxFilenameBytes+16 {
			t.Fatalf("attachment %d: unsafe filename %q", i, a.Filename)
		}
		if a.ContentType == "" || strings.ContainsAny(a.ContentType, " ;") {
			t.Fatalf("attachment %d: content type %q", i, a.ContentType)
		}
	}
	if strings.Contains(strings.ToLower(m.HTMLBody), "<script") {
		t.Fatalf("HTMLBody contains <script: %q", m.HTMLBody)
	}
	z := html.NewTokenizer(strings.NewReader(m.HTMLBody))
	for tt := z.Next(); tt != html.ErrorToken; tt = z.Next() {
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		tok := z.Token()
		switch tok.Data {
		case "script", "iframe", "object", "embed", "style", "form":
			t.Fatalf("HTMLBody has a <%s> element: %q", tok.Data, m.HTMLBody)
		}
		for _, a := range tok.Attr {
			v := strings.ToLower(strings.TrimSpace(a.Val))
			if strings.HasPrefix(a.Key, "on") || strings.HasPrefix(v, "javascript:") ||
				((a.Key == "src" || a.Key == "srcset") && !strings.HasPrefix(v, "cid:") && !strings.HasPrefix(v, "data:")) {
				t.Fatalf("HTMLBody has attribute %s=%q: %q", a.Key, a.Val, m.HTMLBody)
			}
		}
	}
	for _, id := range append(append([]string{m.MessageID}, m.InReplyTo...), m.References...) {
		if strings.HasPrefix(id, "<") || strings.HasSuffix(id, ">") {
			t.Fatalf("message id with brackets: %q", id)
		}
	}
}
