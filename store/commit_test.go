package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/postdesk/postdesk/ticket"
)

// holdCommitter starts an Update whose fn blocks until release is called,
// so that the Updates started meanwhile queue up and share the next batch.
// waitQueued waits until n requests are queued behind it.
func holdCommitter(t *testing.T, s *Store) (waitQueued func(n int), release func()) {
	t.Helper()
	running, unblock, finished := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		finished <- s.Update(context.Background(), func(ticket.Tx) error {
			close(running)
			<-unblock
			return nil
		})
	}()
	<-running
	waitQueued = func(n int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for len(s.queue) < n {
			if time.Now().After(deadline) {
				t.Fatalf("only %d of %d updates queued", len(s.queue), n)
			}
			time.Sleep(time.Millisecond)
		}
	}
	release = func() {
		t.Helper()
		close(unblock)
		if err := <-finished; err != nil {
			t.Errorf("holding Update: %v", err)
		}
	}
	return waitQueued, release
}

func countRows(t *testing.T, db *sql.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func TestGroupCommitIsolatesFailures(t *testing.T) {
	s, reg, _ := testStore(t, Options{})
	const n = 64
	waitQueued, release := holdCommitter(t, s)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.Update(context.Background(), func(tx ticket.Tx) error {
				_, _, err := newTicket(tx, 1, "bob@example.com", fmt.Sprintf("m%d@example.com", i), t0,
					ticket.Attachment{Filename: "a.txt", Data: []byte(fmt.Sprint(i))})
				switch {
				case err != nil:
					return err
				case i%5 == 0:
					return fmt.Errorf("fn %d refuses", i)
				case i%7 == 0:
					panic(fmt.Sprintf("fn %d panics", i))
				}
				return nil
			})
		}()
	}
	waitQueued(n)
	release()
	wg.Wait()

	want := 0
	for i, err := range errs {
		title := fmt.Sprintf("Printer on fire m%d@example.com", i)
		got := countRows(t, s.rdb, `SELECT count(*) FROM tickets WHERE title = ?`, title)
		switch {
		case i%5 == 0:
			if err == nil || err.Error() != fmt.Sprintf("fn %d refuses", i) {
				t.Errorf("fn %d: err = %v, want its own error", i, err)
			}
		case i%7 == 0:
			if err == nil || !strings.Contains(err.Error(), "panicked") {
				t.Errorf("fn %d: err = %v, want a panic error", i, err)
			}
		default:
			want++
			if err != nil {
				t.Errorf("fn %d: %v", i, err)
			}
			if got != 1 {
				t.Errorf("fn %d: %d tickets stored, want 1", i, got)
			}
			continue
		}
		if got != 0 {
			t.Errorf("failed fn %d left %d tickets", i, got)
		}
	}
	if got := countRows(t, s.rdb, `SELECT count(*) FROM messages`); got != want {
		t.Errorf("messages = %d, want %d", got, want)
	}
	if got := countRows(t, s.rdb, `SELECT count(*) FROM message_attachments`); got != want {
		t.Errorf("attachments = %d, want %d", got, want)
	}
	h := metricFamily(t, reg, "postdesk_store_commit_batch_size").GetMetric()[0].GetHistogram()
	if h.GetSampleCount() != 2 || h.GetSampleSum() != n+1 {
		t.Errorf("batch sizes: %d commits summing %v, want 2 summing %d (the holder, then all %d together)",
			h.GetSampleCount(), h.GetSampleSum(), n+1, n)
	}
	if p := metricFamily(t, reg, "postdesk_panics_total").GetMetric()[0].GetCounter().GetValue(); p != 8 {
		t.Errorf("postdesk_panics_total = %v, want 8", p) // i%7 == 0 && i%5 != 0: 7 … 63 without 35
	}
}

func TestUpdateReturnsAfterDurableCommit(t *testing.T) {
	s, _, path := testStore(t, Options{})
	var id int64
	mustUpdate(t, s, func(tx ticket.Tx) error {
		tk, _, err := newTicket(tx, 1, "bob@example.com", "durable@example.com", t0)
		if tk != nil {
			id = tk.ID
		}
		return err
	})
	// Another connection, not the store's, sees the row at once.
	other, err := sql.Open("sqlite3", dsn(path, "_busy_timeout=5000"))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if got := countRows(t, other, `SELECT count(*) FROM tickets WHERE id = ?`, id); got != 1 {
		t.Fatalf("other connection sees %d tickets, want 1", got)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if d, err := s2.TicketDetail(context.Background(), id); err != nil || len(d.Messages) != 1 {
		t.Fatalf("after reopen: %+v, %v", d, err)
	}
}

func TestCommitFailureFailsWholeBatch(t *testing.T) {
	s, reg, _ := testStore(t, Options{})
	waitQueued, release := holdCommitter(t, s)
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.Update(context.Background(), func(tx ticket.Tx) error {
				_, _, err := newTicket(tx, 1, "bob@example.com", fmt.Sprintf("c%d@example.com", i), t0)
				if err != nil || i != 1 {
					return err
				}
				// A deferred foreign key violation is detected only by COMMIT.
				q := tx.(*txn).q
				if _, err := q.exec(`PRAGMA defer_foreign_keys = ON`); err != nil {
					return err
				}
				_, err = q.exec(`INSERT INTO messages(ticket_id, mailbox_id, created_at) VALUES (424242, 1, 0)`)
				return err
			})
		}()
	}
	waitQueued(len(errs))
	release()
	wg.Wait()
	for i, err := range errs {
		if err == nil || !strings.Contains(err.Error(), "commit") {
			t.Errorf("Update %d: err = %v, want the commit error", i, err)
		}
	}
	if got := countRows(t, s.rdb, `SELECT count(*) FROM tickets`); got != 0 {
		t.Errorf("a failed commit left %d tickets", got)
	}
	var failed float64
	for _, m := range metricFamily(t, reg, "postdesk_store_commits_total").GetMetric() {
		if m.GetLabel()[0].GetValue() == "error" {
			failed = m.GetCounter().GetValue()
		}
	}
	if failed != 1 {
		t.Errorf(`postdesk_store_commits_total{result="error"} = %v, want 1`, failed)
	}
	mustUpdate(t, s, func(tx ticket.Tx) error {
		_, _, err := newTicket(tx, 1, "bob@example.com", "after@example.com", t0)
		return err
	})
}

func TestCancelledContextWritesNothing(t *testing.T) {
	s, _, _ := testStore(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ran := false
	if err := s.Update(ctx, func(ticket.Tx) error { ran = true; return nil }); !errors.Is(err, context.Canceled) || ran {
		t.Fatalf("Update with a cancelled ctx: err %v, fn ran %v", err, ran)
	}

	// Cancelled while waiting in the queue.
	waitQueued, release := holdCommitter(t, s)
	ctx, cancel = context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- s.Update(ctx, func(tx ticket.Tx) error {
			ran = true
			_, _, err := newTicket(tx, 1, "bob@example.com", "cancelled@example.com", t0)
			return err
		})
	}()
	waitQueued(1)
	cancel()
	release()
	if err := <-done; !errors.Is(err, context.Canceled) || ran {
		t.Fatalf("Update cancelled in the queue: err %v, fn ran %v", err, ran)
	}
	if got := countRows(t, s.rdb, `SELECT count(*) FROM tickets`); got != 0 {
		t.Errorf("cancelled Update left %d tickets", got)
	}
}

func TestPanicInViewIsAnError(t *testing.T) {
	s, _, _ := testStore(t, Options{})
	err := s.View(context.Background(), func(ticket.Tx) error { panic("boom") })
	if err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("View with a panicking fn = %v", err)
	}
	mustView(t, s, func(tx ticket.Tx) error { _, err := tx.NewTicketsBySender("x@y", t0, 0); return err })
}

func TestConcurrentUpdatesAndReads(t *testing.T) {
	s, _, _ := testStore(t, Options{MaxBatch: 8})
	ctx := context.Background()
	const writers, perWriter = 8, 25
	var wg sync.WaitGroup
	errc := make(chan error, writers*2)
	for w := range writers {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				err := s.Update(ctx, func(tx ticket.Tx) error {
					_, _, err := newTicket(tx, int64(w%2+1), fmt.Sprintf("w%d@example.com", w),
						fmt.Sprintf("w%d-%d@example.com", w, i), t0,
						ticket.Attachment{Filename: "same.bin", Data: []byte("shared bytes")})
					return err
				})
				if err != nil {
					errc <- err
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			for range perWriter {
				if _, err := s.ListTickets(ctx, ListOptions{MailboxID: int64(w%2 + 1), Limit: 10}); err != nil {
					errc <- err
					return
				}
				err := s.View(ctx, func(tx ticket.Tx) error {
					_, err := tx.NewTicketsBySender(fmt.Sprintf("w%d@example.com", w), t0, 0)
					return err
				})
				if err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	if got := countRows(t, s.rdb, `SELECT count(*) FROM tickets`); got != writers*perWriter {
		t.Errorf("tickets = %d, want %d", got, writers*perWriter)
	}
	if got := countRows(t, s.rdb, `SELECT count(*) FROM blobs`); got != 1 {
		t.Errorf("blobs = %d, want 1 (one content, deduplicated)", got)
	}
}

func TestCloseFinishesQueuedUpdates(t *testing.T) {
	s, _, path := testStore(t, Options{})
	waitQueued, release := holdCommitter(t, s)
	errs := make(chan error, 3)
	for i := range 3 {
		go func() { errs <- s.Update(context.Background(), addTicket(fmt.Sprintf("q%d@example.com", i))) }()
	}
	waitQueued(3)
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.mu.RLock()
		c := s.closed
		s.mu.RUnlock()
		if c {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Close did not start")
		}
		time.Sleep(time.Millisecond)
	}
	if err := s.Update(context.Background(), addTicket("late@example.com")); !errors.Is(err, ErrClosed) {
		t.Errorf("Update during Close = %v, want ErrClosed", err)
	}
	release()
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
	for range 3 {
		if err := <-errs; err != nil {
			t.Errorf("queued Update: %v", err)
		}
	}
	s2, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if got := countRows(t, s2.rdb, `SELECT count(*) FROM tickets`); got != 3 {
		t.Errorf("tickets after Close and reopen = %d, want 3", got)
	}
}
