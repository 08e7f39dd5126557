package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/postdesk/postdesk/store"
)

const scaleTarget = "rate ≥ 0.80× empty store"

// seedSenders is how many distinct senders (and persons) seeded tickets
// come from.
const seedSenders = 10000

// runScale compares the HTTP rate and p99 at concurrency 32 on an empty
// store and on one holding scaleTickets tickets.
func runScale(ctx context.Context, b *bench) []row {
	name := fmt.Sprintf("Scale: HTTP to postdesk serve at concurrency 32 with %d tickets stored vs an empty store", b.scaleTickets)
	seeded, err := seededStore(b, b.scaleTickets)
	if err != nil {
		return []row{skipped("scale", name, scaleTarget, fmt.Sprintf("seed: %v", err))}
	}
	empty, err := newScaleSide(b, filepath.Join(b.dir, "scale-empty.db"))
	if err != nil {
		return []row{skipped("scale", name, scaleTarget, fmt.Sprintf("empty store: %v", err))}
	}
	defer empty.close()
	full, err := newScaleSide(b, seeded)
	if err != nil {
		return []row{skipped("scale", name, scaleTarget, fmt.Sprintf("seeded store: %v", err))}
	}
	defer full.close()
	// Alternate short rounds, so that load from elsewhere on the shared
	// machine falls on both sides alike.
	const rounds = 4
	for range rounds {
		if ctx.Err() != nil {
			return nil
		}
		empty.round(b.dur / rounds)
		full.round(b.dur / rounds)
	}
	return []row{{Group: "scale", Name: name,
		Result: fmt.Sprintf("seeded %.0f tickets/s, p99 %s, %d errors; empty %.0f tickets/s, p99 %s, %d errors",
			full.l.perSec(), ms(full.l.lat.pct(99)), full.l.errs, empty.l.perSec(), ms(empty.l.lat.pct(99)), empty.l.errs),
		Ratio:  ratio(full.l.perSec(), empty.l.perSec()) + " empty",
		Target: scaleTarget, Met: metStr(full.l.perSec() >= 0.8*empty.l.perSec() && full.l.errs == 0)}}
}

// scaleSide is one daemon of the scale comparison and its load so far.
type scaleSide struct {
	srv    *server
	bods   *bodies
	client *loadClient
	l      load
}

func newScaleSide(b *bench, path string) (*scaleSide, error) {
	srv, err := startServer(b, path, "")
	if err != nil {
		return nil, err
	}
	bods, err := newBodies(b.corpus)
	if err != nil {
		srv.close()
		return nil, err
	}
	s := &scaleSide{srv: srv, bods: bods, client: srv.client(32)}
	// One request first: the auth cache's cold start is the HTTP rows'
	// business, not the store size's.
	if err := s.client.post(bods.next("warm")...); err != nil {
		s.close()
		return nil, fmt.Errorf("warm-up request: %w", err)
	}
	return s, nil
}

// round adds dur of load at concurrency 32.
func (s *scaleSide) round(dur time.Duration) {
	l := drive(dur, 32, func() error { return s.client.post(s.bods.next("scale")...) })
	s.l.n += l.n
	s.l.errs += l.errs
	s.l.elapsed += l.elapsed
	s.l.lat = append(s.l.lat, l.lat...)
}

func (s *scaleSide) close() {
	s.client.closeIdle()
	s.srv.close()
}

// seededStore returns a private copy of a store holding n seeded tickets,
// synced to disk.
// The seeded file is built once per schema version and kept in $TMPDIR for
// later runs (a store of an older schema would be migrated by the daemon
// under test, not built as this schema builds it).
func seededStore(b *bench, n int) (string, error) {
	cache := filepath.Join(os.TempDir(), fmt.Sprintf("postdesk-bench-scale-%d-v%d.db", n, store.SchemaVersion()))
	if _, err := os.Stat(cache); err != nil {
		b.logf("scale: seeding %d tickets into %s (kept for later runs)", n, cache)
		start := time.Now()
		tmp := cache + ".building"
		for _, f := range []string{tmp, tmp + "-wal", tmp + "-shm"} {
			os.Remove(f)
		}
		if err := seed(tmp, n); err != nil {
			return "", err
		}
		if err := os.Rename(tmp, cache); err != nil {
			return "", err
		}
		b.logf("scale: seeded in %s", time.Since(start).Round(time.Second))
	} else {
		b.logf("scale: reusing %s", cache)
	}
	dst := filepath.Join(b.dir, "scale-seeded.db")
	return dst, copyFile(cache, dst)
}

// seed creates the store's schema at path (store.Open runs the
// migrations) and fills it with direct SQL in large transactions: n
// tickets from seedSenders persons, each with one message (and its dedupe
// key), created one every 30 s up to now, two thirds of them closed.
func seed(path string, n int) error {
	st, err := store.Open(path, store.Options{Logger: quietLogger()})
	if err != nil {
		return err
	}
	if err := st.Close(); err != nil {
		return err
	}
	db, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL&_synchronous=OFF&_foreign_keys=off")
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	ctx := context.Background()
	if _, err := db.Exec(`PRAGMA cache_size = -262144`); err != nil {
		return err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	for i := range seedSenders {
		if _, err := tx.Exec(`INSERT INTO persons(id, email, email_lower, name) VALUES (?, ?, ?, ?)`,
			i+1, fmt.Sprintf("s%d@example.com", i), fmt.Sprintf("s%d@example.com", i), fmt.Sprintf("Sender %d", i)); err != nil {
			tx.Rollback()
			return fmt.Errorf("seed persons: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	const perTx = 50000
	start := time.Now().Add(-time.Duration(n) * 30 * time.Second)
	for done := 0; done < n; done += perTx {
		if err := seedChunk(ctx, db, done, min(n, done+perTx), start); err != nil {
			return err
		}
	}
	_, err = db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
	return err
}

// seedChunk inserts tickets [from, to) in one transaction.
func seedChunk(ctx context.Context, db *sql.DB, from, to int, start time.Time) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	tk, err := tx.Prepare(`INSERT INTO tickets(id, mailbox_id, title, status, category, priority, owner,
		person_id, sender, created_at, updated_at) VALUES (?, ?, ?, ?, 'Support', 'Medium', ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	msg, err := tx.Prepare(`INSERT INTO messages(id, ticket_id, mailbox_id, message_id, dedupe_key, from_name,
		from_email, from_lower, to_addrs, subject, date, source, created_at, raw_size, text_body, raw)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, '[{"Name":"","Email":"support@example.com"}]', ?, ?, 'imap', ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	for i := from; i < to; i++ {
		id := int64(i + 1)
		sender := fmt.Sprintf("s%d@example.com", i%seedSenders)
		mid := fmt.Sprintf("seed-%d@example.com", i)
		at := start.Add(time.Duration(i) * 30 * time.Second).UnixNano()
		status := "closed"
		if i%3 == 0 {
			status = "open"
		}
		mbox := int64(i%4 + 1)
		title := fmt.Sprintf("Seeded ticket %d", i)
		raw := "Message-ID: <" + mid + ">\r\nFrom: " + sender + "\r\nSubject: " + title + "\r\n\r\nseeded body\r\n"
		if _, err := tk.Exec(id, mbox, title, status, fmt.Sprintf("agent%d", i%8), i%seedSenders+1, sender, at, at); err != nil {
			return fmt.Errorf("seed ticket %d: %w", i, err)
		}
		if _, err := msg.Exec(id, id, mbox, mid, "mid:"+mid, fmt.Sprintf("Sender %d", i%seedSenders), sender, sender,
			title, at, at, len(raw), "seeded body", []byte(raw)); err != nil {
			return fmt.Errorf("seed message %d: %w", i, err)
		}
	}
	return tx.Commit()
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
	// Written back now, not while the store is measured: the copy's dirty
	// pages would otherwise compete with the measured commits' fsyncs.
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
