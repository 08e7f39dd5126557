package ticket

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/parse")

// goldenMail is the golden-file view of a Mail: attachment data as size
// and MD5, the date in RFC 3339.
type goldenMail struct {
	MessageID   string
	InReplyTo   []string
	References  []string
	Subject     string
	From        Address
	To          []Address
	Cc          []Address
	ReplyTo     []Address
	Date        string
	Header      Header
	TextBody    string
	HTMLBody    string
	Attachments []goldenAttachment
	Error       string `json:",omitempty"`
}

type goldenAttachment struct {
	Filename, ContentType, ContentID string
	Inline                           bool
	Size                             int
	MD5                              string
}

func goldenView(m *Mail, err error) goldenMail {
	if err != nil {
		return goldenMail{Error: err.Error()}
	}
	g := goldenMail{
		MessageID: m.MessageID, InReplyTo: m.InReplyTo, References: m.References, Subject: m.Subject,
		From: m.From, To: m.To, Cc: m.Cc, ReplyTo: m.ReplyTo, Header: m.Header,
		TextBody: m.TextBody, HTMLBody: m.HTMLBody,
	}
	if !m.Date.IsZero() {
		g.Date = m.Date.Format("2006-01-02T15:04:05Z07:00")
	}
	for _, a := range m.Attachments {
		g.Attachments = append(g.Attachments, goldenAttachment{a.Filename, a.ContentType, a.ContentID, a.Inline, len(a.Data), md5hex(a.Data)})
	}
	return g
}

// TestParseGolden parses every testdata/parse/*.eml and compares the
// result with NAME.golden.json (go test -run ParseGolden -update rewrites
// them; review the diff).
func TestParseGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "parse", "*.eml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden inputs: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			got, err := json.MarshalIndent(goldenView(ParseMail(raw)), "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			golden := strings.TrimSuffix(f, ".eml") + ".golden.json"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if string(got) != string(want) {
				t.Errorf("%s differs from %s:\n%s", f, golden, got)
			}
		})
	}
}
