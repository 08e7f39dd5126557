package ticket

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
)

type hunnyAddr struct {
	Name  string `json:"name"`
	Email string `json:"email"`
}

type hunnyExpect struct {
	Message     string     `json:"message"`
	From        *hunnyAddr `json:"From"`
	To          *hunnyAddr `json:"To"`
	Subject     *string    `json:"Subject"`
	MessageID   *string    `json:"Message-ID"`
	Text        string     `json:"text"`
	HTML        string     `json:"html"`
	Attachments int        `json:"attachments"`
	Note        string     `json:"_note"`
}

// noSpace removes every white-space character: the expected bodies are
// compared ignoring white space, as the corpus' own tests do.
func noSpace(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}

func TestConformanceHunnysoft(t *testing.T) {
	dir := corpus(t, "hunnysoft-zbateson")
	files, _ := filepath.Glob(filepath.Join(dir, "expected", "*.json"))
	if len(files) == 0 {
		t.Skipf("no expectations in %s", dir)
	}
	sb := newScoreboard("hunnysoft-zbateson")
	for _, f := range files {
		var exp hunnyExpect
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &exp); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		path := filepath.Join(dir, "emails", exp.Message)
		if _, err := os.Stat(path); err != nil {
			t.Logf("%s: message absent (%s)", exp.Message, exp.Note)
			continue
		}
		m, err := parseNoPanic(t, path)
		if err != nil {
			t.Errorf("%s: %v", exp.Message, err)
			continue
		}
		if exp.From != nil {
			sb.score("from", m.From.Name == exp.From.Name && m.From.Email == exp.From.Email, exp.Message, fmt.Sprintf("got %q want %q", m.From, *exp.From))
		}
		if exp.To != nil {
			var got Address
			if len(m.To) > 0 {
				got = m.To[0]
			}
			sb.score("to", got.Name == exp.To.Name && got.Email == exp.To.Email, exp.Message, fmt.Sprintf("got %q want %q", got, *exp.To))
		}
		if exp.Subject != nil {
			sb.score("subject", m.Subject == *exp.Subject, exp.Message, fmt.Sprintf("got %q want %q", m.Subject, *exp.Subject))
		}
		if exp.MessageID != nil {
			sb.score("message_id", m.MessageID == *exp.MessageID, exp.Message, fmt.Sprintf("got %q want %q", m.MessageID, *exp.MessageID))
		}
		if exp.Text != "" {
			want := readCorpusFile(t, filepath.Join(dir, "emails", "files", exp.Text))
			got := m.TextBody
			sb.score("text", noSpace(got) == noSpace(decodeCharset("", want)), exp.Message, fmt.Sprintf("text body differs (%d bytes)", len(got)))
		}
		if exp.HTML != "" {
			// The expected file holds the text of the HTML body.
			want := readCorpusFile(t, filepath.Join(dir, "emails", "files", exp.HTML))
			got := htmlToText(m.HTMLBody)
			sb.score("html", noSpace(got) == noSpace(decodeCharset("", want)), exp.Message, fmt.Sprintf("html text differs: %q", trunc(got, 80)))
		}
		sb.score("attachment_count", len(m.Attachments) == exp.Attachments, exp.Message, fmt.Sprintf("got %d want %d: %s", len(m.Attachments), exp.Attachments, attNames(m)))
		// Every attachment that names a file of the corpus must be
		// byte-exact.
		for _, a := range m.Attachments {
			want, err := os.ReadFile(filepath.Join(dir, "emails", "files", a.Filename))
			if err != nil {
				continue
			}
			sb.score("attachment_bytes", string(a.Data) == string(want), exp.Message, fmt.Sprintf("%q: %d bytes, want %d", a.Filename, len(a.Data), len(want)))
		}
	}
	// Known differences, left as misses on purpose:
	//   subject m0001: RFC 5322 §2.2.3 unfolding keeps the blanks after
	//     the line break ("und   die"); the expectation collapses them.
	//   text m1011: the UTF-7 body itself is corrupt ("Fr+XKM-he").
	//   attachment_bytes m0022: the expectation keeps the CRLF that RFC
	//     2046 §5.1.1 assigns to the boundary.
	//   attachment_count: the expectations do not count PGP signatures,
	//     named inline text parts and BinHex files as attachments; we keep
	//     them (a help desk must not drop a file the sender attached).
	sb.report(t, map[string]int{
		"from": 72, "to": 71, "subject": 71, "message_id": 9, "text": 51, "html": 19,
		"attachment_count": 62, "attachment_bytes": 71,
	})
}

func readCorpusFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func trunc(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

func attNames(m *Mail) string {
	var n []string
	for _, a := range m.Attachments {
		n = append(n, fmt.Sprintf("%s(%s,%d)", a.Filename, a.ContentType, len(a.Data)))
	}
	return strings.Join(n, ", ")
}
