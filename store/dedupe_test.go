package store

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/postdesk/postdesk/ticket"
)

// TestDedupeIndex: a message's dedupe key is unique within its mailbox, is
// found by LookupDedupe, and is how TicketByMessageID finds a Message-ID.
func TestDedupeIndex(t *testing.T) {
	s, _, _ := testStore(t, Options{})
	var first, other *ticket.Ticket
	mustUpdate(t, s, func(tx ticket.Tx) error {
		var err error
		if first, _, err = newTicket(tx, 1, "bob@example.com", "same@example.com", t0); err != nil {
			return err
		}
		// The same Message-ID in another mailbox is another mail.
		other, _, err = newTicket(tx, 2, "bob@example.com", "same@example.com", t0)
		return err
	})
	hashKey := ticket.DedupeKey("", []byte("Subject: no id\r\n\r\nbody\r\n"))
	mustUpdate(t, s, func(tx ticket.Tx) error {
		return tx.AddMessage(&ticket.Message{TicketID: first.ID, MailboxID: 1, DedupeKey: hashKey, CreatedAt: t0})
	})

	// A replayed key fails, in its own Update, and writes nothing.
	for _, m := range []*ticket.Message{
		{TicketID: first.ID, MailboxID: 1, MessageID: "same@example.com", DedupeKey: "mid:same@example.com"},
		{TicketID: first.ID, MailboxID: 1, DedupeKey: hashKey},
	} {
		err := s.Update(context.Background(), func(tx ticket.Tx) error { return tx.AddMessage(m) })
		if !errors.Is(err, ErrDuplicate) {
			t.Errorf("AddMessage(%q) again = %v, want ErrDuplicate", m.DedupeKey, err)
		}
	}
	// A key that is not its Message-ID's would hide the message from
	// threading (or show it for an ID it does not have).
	for _, m := range []*ticket.Message{
		{TicketID: first.ID, MailboxID: 1, MessageID: "a@example.com", DedupeKey: "mid:b@example.com"},
		{TicketID: first.ID, MailboxID: 1, MessageID: "a@example.com"},
		{TicketID: first.ID, MailboxID: 1, MessageID: "a@example.com", DedupeKey: hashKey},
		{TicketID: first.ID, MailboxID: 1, DedupeKey: "mid:a@example.com"},
	} {
		err := s.Update(context.Background(), func(tx ticket.Tx) error { return tx.AddMessage(m) })
		if err == nil || !strings.Contains(err.Error(), "dedupe key") {
			t.Errorf("AddMessage(Message-ID %q, key %q) = %v, want the dedupe key refused", m.MessageID, m.DedupeKey, err)
		}
	}
	// Without a Message-ID, a message may go without a key (not deduped).
	mustUpdate(t, s, func(tx ticket.Tx) error {
		for range 2 {
			if err := tx.AddMessage(&ticket.Message{TicketID: first.ID, MailboxID: 1, CreatedAt: t0}); err != nil {
				return err
			}
		}
		return nil
	})
	if got := countRows(t, s.rdb, `SELECT count(*) FROM messages`); got != 5 {
		t.Errorf("%d messages stored, want 5", got)
	}

	mustView(t, s, func(tx ticket.Tx) error {
		wantLookups(t, tx, []lookup{{1, "mid:same@example.com", first.ID}, {2, "mid:same@example.com", other.ID}, {1, hashKey, first.ID}})
		for _, c := range []struct {
			mailbox int64
			key     string
		}{{3, "mid:same@example.com"}, {2, hashKey}, {1, ""}, {1, "mid:"}} {
			if _, err := tx.LookupDedupe(c.mailbox, c.key); !errors.Is(err, ticket.ErrNotFound) {
				t.Errorf("LookupDedupe(%d, %q) = %v, want ErrNotFound", c.mailbox, c.key, err)
			}
		}
		// The oldest message with the Message-ID, in any mailbox.
		if id, err := tx.TicketByMessageID([]string{"same@example.com"}); err != nil || id != first.ID {
			t.Errorf("TicketByMessageID(same) = %d, %v; want %d", id, err, first.ID)
		}
		// Nothing finds the messages without a Message-ID.
		if _, err := tx.TicketByMessageID([]string{" ", ""}); !errors.Is(err, ticket.ErrNotFound) {
			t.Errorf("TicketByMessageID(blank) = %v, want ErrNotFound", err)
		}
		return nil
	})
}

// TestDedupeMigration upgrades a store of migration 0005, whose dedupe
// ledger was a table of its own, to 0006: what the ledger held is found
// as before, replays are refused, the table is gone and threading works.
func TestDedupeMigration(t *testing.T) {
	path, db := storeBefore(t, 6)
	// What AddMessage wrote before: the message and its ledger row.
	for i, m := range []struct {
		mailbox   int64
		messageID string
		key       string
	}{{1, "a@example.com", "mid:a@example.com"}, {2, "a@example.com", "mid:a@example.com"}, {1, "", "sha256:00ff"}} {
		tid := int64(i + 1)
		if _, err := db.Exec(`INSERT INTO tickets(id, mailbox_id, status, created_at, updated_at) VALUES (?, ?, 'open', 0, 0)`,
			tid, m.mailbox); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`INSERT INTO messages(id, ticket_id, mailbox_id, message_id, dedupe_key, created_at) VALUES (?, ?, ?, ?, ?, 0)`,
			tid, tid, m.mailbox, m.messageID, m.key); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`INSERT INTO dedupe(mailbox_id, dedupe_key, ticket_id, message_id) VALUES (?, ?, ?, ?)`,
			m.mailbox, m.key, tid, tid); err != nil {
			t.Fatal(err)
		}
	}
	s := upgrade(t, path, db)
	if n := countRows(t, s.rdb, `SELECT count(*) FROM sqlite_schema WHERE name IN ('dedupe', 'messages_message_id')`); n != 0 {
		t.Errorf("%d of the dedupe table and messages_message_id left", n)
	}
	mustView(t, s, func(tx ticket.Tx) error {
		wantLookups(t, tx, []lookup{{1, "mid:a@example.com", 1}, {2, "mid:a@example.com", 2}, {1, "sha256:00ff", 3}})
		if id, err := tx.TicketByMessageID([]string{"a@example.com"}); err != nil || id != 1 {
			t.Errorf("TicketByMessageID(a) = %d, %v; want 1", id, err)
		}
		return nil
	})
	err := s.Update(context.Background(), func(tx ticket.Tx) error {
		return tx.AddMessage(&ticket.Message{TicketID: 2, MailboxID: 2, MessageID: "a@example.com", DedupeKey: "mid:a@example.com"})
	})
	if !errors.Is(err, ErrDuplicate) {
		t.Errorf("a replay after the migration = %v, want ErrDuplicate", err)
	}
}

// lookup is a dedupe key of a mailbox and the ticket it should find.
type lookup struct {
	mailbox int64
	key     string
	want    int64
}

func wantLookups(t *testing.T, tx ticket.Tx, cases []lookup) {
	t.Helper()
	for _, c := range cases {
		if id, err := tx.LookupDedupe(c.mailbox, c.key); err != nil || id != c.want {
			t.Errorf("LookupDedupe(%d, %q) = %d, %v; want %d", c.mailbox, c.key, id, err, c.want)
		}
	}
}
