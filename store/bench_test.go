package store

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/postdesk/postdesk/ticket"
)

var benchSeed = flag.Int("store.seed", 10000,
	"tickets in the store the benchmarks run against (e.g. 1000000); the seeded database is cached in $TMPDIR")

// seedSenders is how many distinct senders seeded tickets come from.
const seedSenders = 10000

// seedMail returns the i-th seeded mail's sender and Message-ID.
func seedMail(i int) (sender, messageID string) {
	return fmt.Sprintf("s%d@example.com", i%seedSenders), fmt.Sprintf("seed-%d@example.com", i)
}

// Seed adds n tickets, each with one message (raw bytes, dedupe key) from
// seedSenders senders, created one every 30 s up to now, through Update in
// large batches.
func Seed(ctx context.Context, s *Store, n int) error {
	const perUpdate = 5000
	start := time.Now().Add(-time.Duration(n) * 30 * time.Second)
	for done := 0; done < n; {
		k := min(perUpdate, n-done)
		err := s.Update(ctx, func(tx ticket.Tx) error {
			for i := done; i < done+k; i++ {
				sender, mid := seedMail(i)
				at := start.Add(time.Duration(i) * 30 * time.Second)
				tk := &ticket.Ticket{MailboxID: int64(i%4 + 1), Title: "Seeded ticket " + mid,
					Owner: fmt.Sprintf("agent%d", i%8), Sender: sender, CreatedAt: at}
				if i%3 != 0 {
					tk.Status = ticket.StatusClosed
				}
				if err := tx.CreateTicket(tk); err != nil {
					return err
				}
				m := &ticket.Message{TicketID: tk.ID, MailboxID: tk.MailboxID, MessageID: mid, DedupeKey: "mid:" + mid,
					From: ticket.Address{Email: sender}, Subject: tk.Title, TextBody: "seeded body",
					Source: ticket.SourceIMAP, CreatedAt: at,
					Raw: []byte("Message-ID: <" + mid + ">\r\nFrom: " + sender + "\r\nSubject: seeded\r\n\r\nseeded body\r\n")}
				if err := tx.AddMessage(m); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("seed tickets %d…%d: %w", done, done+k, err)
		}
		done += k
	}
	return nil
}

// seededPath returns a database file holding n seeded tickets, building it
// once and keeping it in $TMPDIR for later runs.
func seededPath(b *testing.B, n int) string {
	b.Helper()
	path := filepath.Join(os.TempDir(), fmt.Sprintf("postdesk-bench-seed-%d-v%d.db", n, SchemaVersion()))
	if _, err := os.Stat(path); err == nil {
		return path
	}
	tmp := path + ".building"
	for _, f := range []string{tmp, tmp + "-wal", tmp + "-shm"} {
		os.Remove(f)
	}
	s, err := Open(tmp, Options{Logger: quietLogger()})
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	if err := Seed(context.Background(), s, n); err != nil {
		b.Fatal(err)
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded %d tickets in %v", n, time.Since(start).Round(time.Millisecond))
	if err := os.Rename(tmp, path); err != nil {
		b.Fatal(err)
	}
	return path
}

// benchStore opens a private copy of the seeded database.
func benchStore(b *testing.B, opts Options) (*Store, *prometheus.Registry) {
	b.Helper()
	dst := filepath.Join(b.TempDir(), "bench.db")
	if n := *benchSeed; n > 0 {
		if err := copyFile(seededPath(b, n), dst); err != nil {
			b.Fatal(err)
		}
	}
	reg := prometheus.NewRegistry()
	opts.Registerer, opts.Logger = reg, quietLogger()
	s, err := Open(dst, opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s, reg
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// importOne is one import's writes: a ticket, a message with 2 KiB of raw
// mail and a 4 KiB attachment of its own.
func importOne(mid string) func(ticket.Tx) error {
	raw := make([]byte, 2048)
	att := make([]byte, 4096)
	copy(raw, mid)
	copy(att, mid)
	return func(tx ticket.Tx) error {
		if _, err := tx.LookupDedupe(1, "mid:"+mid); !errors.Is(err, ticket.ErrNotFound) {
			return fmt.Errorf("dedupe lookup: %v", err)
		}
		_, _, err := newTicket(tx, 1, "bench@example.com", mid, time.Now(),
			ticket.Attachment{Filename: "a.bin", ContentType: "application/octet-stream", Data: att})
		if err != nil {
			return err
		}
		return tx.SetCursor(ticket.Cursor{MailboxID: 1, UIDValidity: 1, UID: 1})
	}
}

// reportBatches reports the mean group-commit batch size.
func reportBatches(b *testing.B, reg *prometheus.Registry) {
	h := metricFamily(b, reg, "postdesk_store_commit_batch_size").GetMetric()[0].GetHistogram()
	if h.GetSampleCount() > 0 {
		b.ReportMetric(h.GetSampleSum()/float64(h.GetSampleCount()), "fns/commit")
	}
}

func BenchmarkUpdateSequential(b *testing.B) {
	s, reg := benchStore(b, Options{})
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if err := s.Update(ctx, importOne(fmt.Sprintf("seq-%d@bench", i))); err != nil {
			b.Fatal(err)
		}
	}
	reportBatches(b, reg)
}

func BenchmarkUpdateParallel(b *testing.B) {
	s, reg := benchStore(b, Options{})
	ctx := context.Background()
	var next atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(32) // many importers in flight, as with many mailboxes and HTTP clients
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := s.Update(ctx, importOne(fmt.Sprintf("par-%d@bench", next.Add(1)))); err != nil {
				b.Error(err)
				return
			}
		}
	})
	reportBatches(b, reg)
}

// BenchmarkLookups measures the import path's queries on the writer
// connection (cached prepared statements) against -store.seed tickets.
func BenchmarkLookups(b *testing.B) {
	s, _ := benchStore(b, Options{})
	ctx := context.Background()
	n := max(*benchSeed, 1)
	// pick spreads lookups over the whole table.
	pick := func(i int) int { return (i * 7919) % n }
	run := func(name string, lookup func(tx ticket.Tx, i int) error) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			err := s.Update(ctx, func(tx ticket.Tx) error {
				for i := 0; b.Loop(); i++ {
					if err := lookup(tx, i); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		})
	}
	found := func(err error) error {
		if *benchSeed == 0 && errors.Is(err, ticket.ErrNotFound) {
			return nil
		}
		return err
	}
	since := time.Now().Add(-time.Hour)
	run("NewTicketsBySender", func(tx ticket.Tx, i int) error {
		sender, _ := seedMail(pick(i))
		_, err := tx.NewTicketsBySender(sender, since, 50) // the default cap
		return err
	})
	run("TicketByMessageID", func(tx ticket.Tx, i int) error {
		_, mid := seedMail(pick(i))
		_, err := tx.TicketByMessageID([]string{"unknown-" + mid, mid})
		return found(err)
	})
	run("LookupDedupe", func(tx ticket.Tx, i int) error {
		_, mid := seedMail(pick(i))
		_, err := tx.LookupDedupe(int64(pick(i)%4+1), "mid:"+mid)
		return found(err)
	})
	run("OpenTickets", func(tx ticket.Tx, i int) error {
		_, err := tx.OpenTickets([]string{"agent0", "agent1", "agent2"})
		return err
	})
	run("IsParticipant", func(tx ticket.Tx, i int) error {
		sender, _ := seedMail(pick(i))
		_, err := tx.IsParticipant(int64(pick(i)+1), sender)
		return err
	})
}

// BenchmarkAuthenticateTokenCached is one request's credential check when
// the token is in the cache: the HMAC of the secret and, at most every
// authGenFresh, a read of auth_generation.
func BenchmarkAuthenticateTokenCached(b *testing.B) {
	s, _ := benchStore(b, Options{HashIterations: 1000})
	ctx := context.Background()
	secret, err := s.CreateToken(ctx, "bench", TokenBearer, RoleImport, time.Time{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.AuthenticateToken(ctx, TokenBearer, secret); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
