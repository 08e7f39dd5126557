package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync/atomic"

	"github.com/postdesk/postdesk/ticket"
)

// corpus is the benchmark's mail mix: the real-world mails of the shared
// corpora that the import core accepts, in a fixed order.
type corpus struct {
	mails   [][]byte
	names   []string
	bytes   int64
	skipped int // files the parser rejects (they would be 400s over HTTP)
	seq     atomic.Int64
}

// corpusGlobs are the corpus files, relative to the corpora folder.
var corpusGlobs = []string{
	"zammad/*.box",
	"hunnysoft-zbateson/emails/*.txt",
	"mime4j/testmsgs/*.msg",
	"mime4j/mimetools-testmsgs/*.msg",
}

// loadCorpus reads the corpus mix from dir, keeping only mails that
// ticket.ParseMail accepts: the benchmark measures imports, not rejections.
func loadCorpus(dir string) (*corpus, error) {
	c := &corpus{}
	for _, g := range corpusGlobs {
		files, err := filepath.Glob(filepath.Join(dir, g))
		if err != nil {
			return nil, fmt.Errorf("corpus glob %s: %w", g, err)
		}
		sort.Strings(files)
		for _, f := range files {
			raw, err := os.ReadFile(f)
			if err != nil {
				return nil, fmt.Errorf("read corpus: %w", err)
			}
			if _, err := ticket.ParseMail(raw); err != nil {
				c.skipped++
				continue
			}
			rel, _ := filepath.Rel(dir, f)
			c.mails = append(c.mails, raw)
			c.names = append(c.names, rel)
			c.bytes += int64(len(raw))
		}
	}
	if len(c.mails) == 0 {
		return nil, fmt.Errorf("no corpus mail under %s (want %v)", dir, corpusGlobs)
	}
	return c, nil
}

// meanSize is the mean size of a corpus mail in bytes.
func (c *corpus) meanSize() int64 { return c.bytes / int64(len(c.mails)) }

// next returns the next copy of the mix, each with a Message-ID never used
// before in this process (tag keeps runs against one store apart).
func (c *corpus) next(tag string) []byte {
	n := c.seq.Add(1) - 1
	raw := c.mails[int(n)%len(c.mails)]
	return withMessageID(raw, fmt.Sprintf("<%s-%d@bench.postdesk.invalid>", tag, n))
}

// withMessageID returns a copy of raw whose Message-ID header is id: an
// existing Message-ID field (with its folded continuation lines) is
// dropped and the new one added at the end of the header, using the
// mail's own line ending. An mbox "From " first line stays first.
func withMessageID(raw []byte, id string) []byte {
	eol := []byte("\n")
	if i := bytes.IndexByte(raw, '\n'); i > 0 && raw[i-1] == '\r' {
		eol = []byte("\r\n")
	}
	out := make([]byte, 0, len(raw)+len(id)+16)
	rest := raw
	skipping := false
	for len(rest) > 0 {
		i := bytes.IndexByte(rest, '\n')
		line := rest
		if i >= 0 {
			line = rest[:i+1]
		}
		if len(bytes.TrimRight(line, "\r\n")) == 0 {
			break // end of the header
		}
		rest = rest[len(line):]
		if skipping && (line[0] == ' ' || line[0] == '\t') {
			continue
		}
		skipping = false
		if len(line) >= 11 && bytes.EqualFold(line[:11], []byte("message-id:")) {
			skipping = true
			continue
		}
		out = append(out, line...)
	}
	if len(out) > 0 && out[len(out)-1] != '\n' {
		out = append(out, eol...)
	}
	out = append(out, "Message-ID: "...)
	out = append(out, id...)
	out = append(out, eol...)
	return append(out, rest...)
}
