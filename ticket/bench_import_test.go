package ticket_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/postdesk/postdesk/store"
	"github.com/postdesk/postdesk/ticket"
)

// benchCorporaDir holds the shared corpora (see ../../shared/corpora/README.md).
const benchCorporaDir = "../../shared/corpora"

// benchCorpus is the import benchmarks' mail mix: every corpus mail the
// parser accepts.
type benchCorpus struct {
	mails [][]byte
	bytes int64
	seq   atomic.Int64
}

func loadBenchCorpus(b *testing.B) *benchCorpus {
	b.Helper()
	c := &benchCorpus{}
	for _, pat := range []string{"zammad/*.box", "hunnysoft-zbateson/emails/*.txt", "mime4j/*/*.msg"} {
		files, _ := filepath.Glob(filepath.Join(benchCorporaDir, pat))
		for _, f := range files {
			raw, err := os.ReadFile(f)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := ticket.ParseMail(raw); err != nil {
				continue // rejected mail measures nothing of the import
			}
			c.mails = append(c.mails, raw)
			c.bytes += int64(len(raw))
		}
	}
	if len(c.mails) == 0 {
		b.Skipf("corpora not found under %s", benchCorporaDir)
	}
	return c
}

// next returns the next mail of the mix with a Message-ID of its own, so
// that every import creates or appends instead of hitting the dedupe
// ledger.
func (c *benchCorpus) next() []byte {
	n := c.seq.Add(1) - 1
	raw := c.mails[int(n)%len(c.mails)]
	id := fmt.Sprintf("<bench-%d@import.postdesk.invalid>", n)
	eol := "\n"
	if i := bytes.IndexByte(raw, '\n'); i > 0 && raw[i-1] == '\r' {
		eol = "\r\n"
	}
	out := make([]byte, 0, len(raw)+len(id)+16)
	rest, dropping := raw, false
	for len(rest) > 0 {
		line := rest
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line = rest[:i+1]
		}
		if len(bytes.TrimRight(line, "\r\n")) == 0 {
			break
		}
		rest = rest[len(line):]
		if dropping && (line[0] == ' ' || line[0] == '\t') {
			continue
		}
		dropping = len(line) >= 11 && bytes.EqualFold(line[:11], []byte("message-id:"))
		if !dropping {
			out = append(out, line...)
		}
	}
	if len(out) > 0 && out[len(out)-1] != '\n' {
		out = append(out, eol...)
	}
	out = append(out, "Message-ID: "+id+eol...)
	return append(out, rest...)
}

// benchService is the import core on a fresh on-disk store (WAL,
// synchronous=FULL, group commit). The sender cap is raised out of reach,
// not switched off: the mix repeats its senders far more than 50 times an
// hour, and the cap's count query is part of every new ticket.
func benchService(b *testing.B) *ticket.Service {
	b.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := store.Open(filepath.Join(b.TempDir(), "bench.db"), store.Options{Logger: log})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	svc, err := ticket.NewService(ticket.Options{Repo: st, Logger: log, SenderCap: 1_000_000_000,
		Mailboxes: []ticket.Mailbox{{ID: 1, Name: "bench", Address: "support@import.postdesk.invalid", Owner: "Agent"}}})
	if err != nil {
		b.Fatal(err)
	}
	return svc
}

// benchImport imports raw and checks that it became (part of) a ticket.
func benchImport(svc *ticket.Service, raw []byte) error {
	res, err := svc.Import(context.Background(), ticket.ImportRequest{MailboxID: 1, Raw: raw, Source: ticket.SourceCLI})
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	if res.Outcome != ticket.OutcomeCreated && res.Outcome != ticket.OutcomeAppended {
		return fmt.Errorf("import: outcome %s (%s), want created or appended", res.Outcome, res.Reason)
	}
	return nil
}

// BenchmarkImportCorpus imports the corpus mix (zammad, hunnysoft, mime4j,
// each copy with a fresh Message-ID) into an on-disk store: one caller at a
// time, and 16 callers per GOMAXPROCS sharing group commits.
func BenchmarkImportCorpus(b *testing.B) {
	c := loadBenchCorpus(b)
	b.Run("sequential", func(b *testing.B) {
		svc := benchService(b)
		b.ReportAllocs()
		b.SetBytes(c.bytes / int64(len(c.mails)))
		for b.Loop() {
			if err := benchImport(svc, c.next()); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "mails/s")
	})
	b.Run("parallel", func(b *testing.B) {
		svc := benchService(b)
		b.ReportAllocs()
		b.SetBytes(c.bytes / int64(len(c.mails)))
		b.SetParallelism(16)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := benchImport(svc, c.next()); err != nil {
					b.Error(err) // not Fatal: this is not the benchmark's goroutine
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "mails/s")
	})
}
