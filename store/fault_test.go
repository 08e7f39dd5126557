package store

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/mattn/go-sqlite3"

	"github.com/postdesk/postdesk/ticket"
)

// addTicket is an Update fn importing one mail.
func addTicket(messageID string) func(ticket.Tx) error {
	return func(tx ticket.Tx) error {
		_, _, err := newTicket(tx, 1, "bob@example.com", messageID, t0)
		return err
	}
}

func TestBusyIsUnavailableAndRecovers(t *testing.T) {
	s, _, path := testStore(t, Options{BusyTimeout: 50 * time.Millisecond})
	ctx := context.Background()
	// Another process holds the write lock.
	other, err := sql.Open("sqlite3", dsn(path, "_busy_timeout=50"))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		t.Fatal(err)
	}
	err = s.Update(ctx, addTicket("busy@example.com"))
	if !errors.Is(err, ticket.ErrUnavailable) || sqliteCode(err) != sqlite3.ErrBusy {
		t.Fatalf("Update while another connection writes = %v, want ErrUnavailable (busy)", err)
	}
	if err := s.Ping(ctx); !errors.Is(err, ticket.ErrUnavailable) {
		t.Errorf("Ping while locked = %v, want ErrUnavailable", err)
	}
	// Reads do not wait for writers.
	if _, err := s.ListTickets(ctx, ListOptions{}); err != nil {
		t.Errorf("ListTickets while locked: %v", err)
	}
	if _, err := conn.ExecContext(ctx, `ROLLBACK`); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(ctx, addTicket("busy@example.com")); err != nil {
		t.Fatalf("Update after the lock was released: %v", err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Errorf("Ping after the lock was released: %v", err)
	}
}

// onWriter runs a statement on the writer connection, outside any
// transaction function's own work, to inject a fault.
func onWriter(t *testing.T, s *Store, stmt string) {
	t.Helper()
	mustUpdate(t, s, func(tx ticket.Tx) error {
		_, err := tx.(*txn).q.exec(stmt)
		return err
	})
}

func TestReadOnlyConnectionIsUnavailableAndRecovers(t *testing.T) {
	s, _, _ := testStore(t, Options{})
	ctx := context.Background()
	// The writer connection turns read-only, as after a remount.
	onWriter(t, s, `PRAGMA query_only = ON`)
	err := s.Update(ctx, addTicket("ro@example.com"))
	if !errors.Is(err, ticket.ErrUnavailable) || sqliteCode(err) != sqlite3.ErrReadonly {
		t.Fatalf("Update on a read-only connection = %v, want ErrUnavailable (readonly)", err)
	}
	// The fault made the store reopen its writer: the next Update works.
	if err := s.Update(ctx, addTicket("ro@example.com")); err != nil {
		t.Fatalf("Update after the fault cleared: %v", err)
	}
	if got := countRows(t, s.rdb, `SELECT count(*) FROM tickets`); got != 1 {
		t.Errorf("tickets = %d, want 1", got)
	}
}

// fillDatabase forbids the writer connection's file to grow, which is what
// a full disk looks like to SQLite, and returns an Update function that
// needs new pages (a ticket with a 1 MiB attachment). The limit lasts until
// the fault makes the store reopen its writer.
func fillDatabase(t *testing.T, s *Store) func(ticket.Tx) error {
	t.Helper()
	var pages int
	if err := s.rdb.QueryRow(`PRAGMA page_count`).Scan(&pages); err != nil {
		t.Fatal(err)
	}
	onWriter(t, s, `PRAGMA max_page_count = `+strconv.Itoa(pages))
	return func(tx ticket.Tx) error {
		_, _, err := newTicket(tx, 1, "bob@example.com", "full@example.com", t0,
			ticket.Attachment{Filename: "big.bin", Data: make([]byte, 1<<20)})
		return err
	}
}

func TestFullDiskIsUnavailableAndRecovers(t *testing.T) {
	s, _, _ := testStore(t, Options{})
	ctx := context.Background()
	big := fillDatabase(t, s)
	err := s.Update(ctx, big)
	if !errors.Is(err, ticket.ErrUnavailable) || sqliteCode(err) != sqlite3.ErrFull {
		t.Fatalf("Update on a full database = %v, want ErrUnavailable (full)", err)
	}
	if got := countRows(t, s.rdb, `SELECT count(*) FROM tickets`); got != 0 {
		t.Errorf("failed Update left %d tickets", got)
	}
	if err := s.Update(ctx, big); err != nil {
		t.Fatalf("Update after space was freed: %v", err)
	}
}

// TestReadOnlyFileIsUnavailableAndRecovers makes the database files
// read-only for real. Permission bits do not stop root, so it needs an
// unprivileged user.
func TestReadOnlyFileIsUnavailableAndRecovers(t *testing.T) {
	s, _, path := testStore(t, Options{})
	ctx := context.Background()
	mustUpdate(t, s, addTicket("before@example.com"))
	files := []string{path, path + "-wal", path + "-shm"}
	for _, f := range files {
		if err := os.Chmod(f, 0o444); err != nil {
			t.Fatal(err)
		}
	}
	restore := func() {
		for _, f := range files {
			os.Chmod(f, 0o644)
		}
	}
	defer restore()
	if fh, err := os.OpenFile(path, os.O_WRONLY, 0); err == nil {
		fh.Close()
		t.Skip("file permissions do not stop this user (root): cannot make the database read-only")
	}
	// The open writer connection keeps its descriptors: the fault shows
	// once it is reopened, as after any earlier fault.
	s.w.discard()
	if err := s.Update(ctx, addTicket("during@example.com")); !errors.Is(err, ticket.ErrUnavailable) {
		t.Fatalf("Update on a read-only file = %v, want ErrUnavailable", err)
	}
	restore()
	if err := s.Update(ctx, addTicket("after@example.com")); err != nil {
		t.Fatalf("Update after the file became writable again: %v", err)
	}
}

// A write that failed because of the store stays visible to readiness
// until a real write succeeds: Ping's own write (a few bytes) may still fit
// where imports do not.
func TestRecentFaultUntilARealWriteSucceeds(t *testing.T) {
	s, _, _ := testStore(t, Options{})
	ctx := context.Background()
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecentFault(time.Minute); err != nil {
		t.Fatalf("RecentFault on a healthy store: %v", err)
	}
	big := fillDatabase(t, s)
	if err := s.Update(ctx, big); !errors.Is(err, ticket.ErrUnavailable) {
		t.Fatalf("Update on a full database = %v, want ErrUnavailable", err)
	}
	at, err := s.RecentFault(time.Minute)
	if !errors.Is(err, ticket.ErrUnavailable) || at.IsZero() {
		t.Fatalf("RecentFault after a full disk = %v, %v; want the fault", at, err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if _, err := s.RecentFault(time.Minute); err == nil {
		t.Error("a successful Ping cleared the fault")
	}
	if _, err := s.RecentFault(0); err != nil {
		t.Errorf("RecentFault(0) = %v: a fault outside the window must not count", err)
	}
	mustUpdate(t, s, addTicket("after@example.com"))
	if _, err := s.RecentFault(time.Minute); err != nil {
		t.Errorf("RecentFault after a successful write = %v, want none", err)
	}
}
