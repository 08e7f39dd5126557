package store

import (
	"testing"
	"time"

	"github.com/postdesk/postdesk/ticket"
)

// TestSenderMinutesMigration upgrades a store with tickets to migration
// 0005: the last two hours are counted, older tickets are not.
func TestSenderMinutesMigration(t *testing.T) {
	path, db := storeBefore(t, 5)
	now := time.Now()
	for _, tk := range []struct {
		sender string
		ago    time.Duration
	}{{"a@x", 10 * time.Minute}, {"a@x", 11 * time.Minute}, {"a@x", 59 * time.Minute}, {"a@x", 3 * time.Hour}, {"b@x", time.Minute}} {
		at := now.Add(-tk.ago).UnixNano()
		if _, err := db.Exec(`INSERT INTO tickets(mailbox_id, status, sender, created_at, updated_at) VALUES (1, 'open', ?, ?, ?)`,
			tk.sender, at, at); err != nil {
			t.Fatal(err)
		}
	}
	s := upgrade(t, path, db)
	mustView(t, s, func(tx ticket.Tx) error {
		for _, c := range []struct {
			sender string
			since  time.Duration
			want   int
		}{{"a@x", time.Hour, 3}, {"A@X", 30 * time.Minute, 2}, {"a@x", 4 * time.Hour, 3}, {"b@x", time.Hour, 1}, {"c@x", time.Hour, 0}} {
			if n, err := tx.NewTicketsBySender(c.sender, now.Add(-c.since), 0); err != nil || n != c.want {
				t.Errorf("NewTicketsBySender(%s, -%v) = %d, %v; want %d", c.sender, c.since, n, err, c.want)
			}
		}
		return nil
	})
}

// TestSenderMinutesPruned checks that a sender's minutes older than two
// hours go when it opens a new ticket.
func TestSenderMinutesPruned(t *testing.T) {
	s, _, _ := testStore(t, Options{})
	for _, at := range []time.Time{t0, t0.Add(time.Minute), t0.Add(30 * time.Second), t0.Add(3 * time.Hour)} {
		mustUpdate(t, s, func(tx ticket.Tx) error {
			return tx.CreateTicket(&ticket.Ticket{MailboxID: 1, Sender: "Storm@Example.com", CreatedAt: at})
		})
	}
	var rows, n int
	if err := s.rdb.QueryRow(`SELECT count(*), coalesce(sum(n), 0) FROM sender_minutes WHERE sender = 'storm@example.com'`).Scan(&rows, &n); err != nil {
		t.Fatal(err)
	}
	if rows != 1 || n != 1 {
		t.Errorf("sender_minutes after a ticket 3 h later: %d rows, %d tickets; want 1, 1", rows, n)
	}
	mustView(t, s, func(tx ticket.Tx) error {
		if n, err := tx.NewTicketsBySender("storm@example.com", t0.Add(3*time.Hour-time.Hour), 0); err != nil || n != 1 {
			t.Errorf("NewTicketsBySender = %d, %v; want 1", n, err)
		}
		return nil
	})
}
