package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/postdesk/postdesk/ticket"
)

func TestMigrationsIdempotentOnReopen(t *testing.T) {
	s, _, path := testStore(t, Options{})
	mustUpdate(t, s, func(tx ticket.Tx) error {
		_, _, err := newTicket(tx, 1, "a@example.com", "m1@example.com", t0)
		return err
	})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := s.Update(context.Background(), func(ticket.Tx) error { return nil }); !errors.Is(err, ErrClosed) ||
		!errors.Is(err, ticket.ErrUnavailable) {
		t.Errorf("Update after Close = %v, want ErrClosed (ErrUnavailable)", err)
	}
	ms, err := migrations()
	if err != nil || len(ms) == 0 || ms[0].version != 1 {
		t.Fatalf("migrations() = %v, %v", ms, err)
	}
	for range 2 {
		s2, err := Open(path, Options{})
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		var n, versions int
		if err := s2.rdb.QueryRow(`SELECT count(*) FROM tickets`).Scan(&n); err != nil || n != 1 {
			t.Errorf("tickets after reopen = %d, %v", n, err)
		}
		if err := s2.rdb.QueryRow(`SELECT count(*) FROM schema_migrations`).Scan(&versions); err != nil || versions != len(ms) {
			t.Errorf("schema_migrations rows = %d, %v; want %d", versions, err, len(ms))
		}
		if err := s2.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestMigrationLog: a new store logs one line, an upgrade one line per
// migration it applies, a store already current none.
func TestMigrationLog(t *testing.T) {
	ms, err := migrations()
	if err != nil || len(ms) < 2 {
		t.Fatalf("migrations() = %d, %v", len(ms), err)
	}
	open := func(path string) string {
		t.Helper()
		var logs strings.Builder
		s, err := Open(path, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		return logs.String()
	}
	path := t.TempDir() + "/new.db"
	got := open(path)
	if want := fmt.Sprintf("msg=\"created store schema\" version=%d migrations=%d", newest(ms), len(ms)); !strings.Contains(got, want) ||
		strings.Count(got, "\n") != 1 {
		t.Errorf("new store logged:\n%s\nwant one line with %q", got, want)
	}
	if got := open(path); strings.Contains(got, "migration") || strings.Contains(got, "schema") {
		t.Errorf("current store logged:\n%s", got)
	}
	last := ms[len(ms)-1]
	old, db := storeBefore(t, last.version)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	got = open(old)
	if want := fmt.Sprintf("msg=\"applied store migration\" version=%d name=%s", last.version, last.name); !strings.Contains(got, want) ||
		strings.Count(got, "\n") != 1 {
		t.Errorf("upgraded store logged:\n%s\nwant one line with %q", got, want)
	}
}

func TestNewerSchemaIsAnError(t *testing.T) {
	s, _, path := testStore(t, Options{})
	s.Close()
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO schema_migrations(version, name, applied_at) VALUES (9999, '9999_future.sql', 0)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = Open(path, Options{})
	if err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("Open of a newer database = %v, want a schema version error", err)
	}
}

func TestConnectionPragmas(t *testing.T) {
	s, _, _ := testStore(t, Options{})
	for _, db := range []*sql.DB{s.rdb, s.db} {
		var mode string
		var sync, fk int
		if err := db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
			t.Errorf("journal_mode = %q, %v", mode, err)
		}
		if err := db.QueryRow(`PRAGMA synchronous`).Scan(&sync); err != nil || sync != 2 {
			t.Errorf("synchronous = %d, %v; want 2 (FULL)", sync, err)
		}
		if err := db.QueryRow(`PRAGMA foreign_keys`).Scan(&fk); err != nil || fk != 1 {
			t.Errorf("foreign_keys = %d, %v", fk, err)
		}
	}
	if err := s.Ping(context.Background()); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

func TestQuarantine(t *testing.T) {
	s, reg, _ := testStore(t, Options{})
	ctx := context.Background()
	item := func(key, subject string) *ticket.QuarantineItem {
		return &ticket.QuarantineItem{MailboxID: 607, Source: ticket.SourceIMAP, Reason: "sender over cap",
			Retryable: true, DedupeKey: key, MessageID: "q@example.com", Sender: "storm@example.com",
			Subject: subject, Raw: []byte("Subject: " + subject + "\r\n\r\nbody"), CreatedAt: t0}
	}
	first, again, other, nokey1, nokey2 := item("k1", "one"), item("k1", "one again"), item("k2", "two"), item("", "x"), item("", "y")
	mustUpdate(t, s, func(tx ticket.Tx) error {
		for _, q := range []*ticket.QuarantineItem{first, again, other, nokey1, nokey2} {
			if err := tx.Quarantine(q); err != nil {
				return err
			}
		}
		return nil
	})
	if again.ID != first.ID || other.ID == first.ID || nokey1.ID == nokey2.ID {
		t.Fatalf("quarantine ids: first %d again %d other %d nokey %d %d", first.ID, again.ID, other.ID, nokey1.ID, nokey2.ID)
	}
	if n, err := s.QuarantineCount(ctx); err != nil || n != 4 {
		t.Fatalf("QuarantineCount = %d, %v; want 4", n, err)
	}
	if got := gaugeValue(t, reg, "postdesk_quarantine_messages"); got != 4 {
		t.Errorf("postdesk_quarantine_messages = %v, want 4", got)
	}
	list, err := s.ListQuarantine(ctx)
	if err != nil || len(list) != 4 {
		t.Fatalf("ListQuarantine = %d items, %v", len(list), err)
	}
	if list[0].ID != nokey2.ID || list[3].ID != first.ID || list[0].Raw != nil {
		t.Errorf("ListQuarantine not newest first without raw: %+v", list)
	}
	got, err := s.QuarantineItem(ctx, first.ID)
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Raw) != string(first.Raw) || got.Size != int64(len(first.Raw)) || got.Subject != "one" ||
		!got.Retryable || got.Source != ticket.SourceIMAP || !got.CreatedAt.Equal(t0) {
		t.Errorf("QuarantineItem = %+v", got)
	}
	if err := s.DropQuarantine(ctx, first.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DropQuarantine(ctx, first.ID); !errors.Is(err, ticket.ErrNotFound) {
		t.Errorf("second DropQuarantine = %v, want ErrNotFound", err)
	}
	if _, err := s.QuarantineItem(ctx, first.ID); !errors.Is(err, ticket.ErrNotFound) {
		t.Errorf("QuarantineItem(dropped) = %v", err)
	}
	// Once dropped, the same key may be quarantined again.
	mustUpdate(t, s, func(tx ticket.Tx) error { return tx.Quarantine(item("k1", "back")) })
	if got := gaugeValue(t, reg, "postdesk_quarantine_messages"); got != 4 {
		t.Errorf("postdesk_quarantine_messages after drop and re-add = %v, want 4", got)
	}
}

// TestQuarantineGaugeCountsOtherProcesses: a second Store on the same file
// (another process: "postdesk quarantine drop", "postdesk import") changes
// the quarantine; the first one's postdesk_quarantine_messages shows it
// when gathered.
func TestQuarantineGaugeCountsOtherProcesses(t *testing.T) {
	_, reg, path := testStore(t, Options{})
	other, err := Open(path, Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	item := func(key string) *ticket.QuarantineItem {
		return &ticket.QuarantineItem{MailboxID: 607, Source: ticket.SourceCLI, Reason: "sender over cap",
			Retryable: true, DedupeKey: key, Raw: []byte("Subject: x\r\n\r\nbody")}
	}
	mustUpdate(t, other, func(tx ticket.Tx) error {
		if err := tx.Quarantine(item("k1")); err != nil {
			return err
		}
		return tx.Quarantine(item("k2"))
	})
	if got := gaugeValue(t, reg, "postdesk_quarantine_messages"); got != 2 {
		t.Fatalf("postdesk_quarantine_messages = %v after another store quarantined two, want 2", got)
	}
	if err := other.DropQuarantine(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	if got := gaugeValue(t, reg, "postdesk_quarantine_messages"); got != 1 {
		t.Fatalf("postdesk_quarantine_messages = %v after another store dropped one, want 1", got)
	}
}

func TestMailboxesAndOAuthTokens(t *testing.T) {
	s, _, _ := testStore(t, Options{})
	ctx := context.Background()
	if err := s.SyncMailboxes(ctx, []ticket.Mailbox{{ID: 1, Name: "a", Address: "a@x"}, {ID: 2, Name: "b"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.SyncMailboxes(ctx, []ticket.Mailbox{{ID: 1, Name: "renamed", Address: "a2@x"}}); err != nil {
		t.Fatal(err)
	}
	var name, addr string
	if err := s.rdb.QueryRow(`SELECT name, address FROM mailboxes WHERE id = 1`).Scan(&name, &addr); err != nil || name != "renamed" || addr != "a2@x" {
		t.Errorf("mailbox 1 = %q %q, %v", name, addr, err)
	}
	var n int
	if err := s.rdb.QueryRow(`SELECT count(*) FROM mailboxes`).Scan(&n); err != nil || n != 2 {
		t.Errorf("mailboxes = %d, %v; want 2 (removed ones stay)", n, err)
	}

	if tok, err := s.OAuthToken(ctx, 1); err != nil || tok != "" {
		t.Errorf("OAuthToken before any = %q, %v", tok, err)
	}
	for _, tok := range []string{"refresh-1", "refresh-2-rotated"} {
		if err := s.SaveOAuthToken(ctx, 1, tok); err != nil {
			t.Fatal(err)
		}
		if got, err := s.OAuthToken(ctx, 1); err != nil || got != tok {
			t.Errorf("OAuthToken = %q, %v; want %q", got, err, tok)
		}
	}
	if err := s.SaveOAuthToken(ctx, 1, ""); err != nil {
		t.Fatal(err)
	}
	if got, err := s.OAuthToken(ctx, 1); err != nil || got != "" {
		t.Errorf("OAuthToken after delete = %q, %v", got, err)
	}
}
