package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/postdesk/postdesk/ticket"
)

// twoTickets stores two tickets, the first with an attachment, and returns
// the first's message and attachment ids and the second ticket's id.
func twoTickets(t testing.TB, s *Store) (tk *ticket.Ticket, msgID, attID, otherTicket int64) {
	t.Helper()
	var m *ticket.Message
	mustUpdate(t, s, func(tx ticket.Tx) error {
		var err error
		tk, m, err = newTicket(tx, 1, "bob@example.com", "part1@example.com", t0,
			ticket.Attachment{Filename: "report.pdf", ContentType: "application/pdf", Data: []byte("%PDF-1.7 report")})
		return err
	})
	mustUpdate(t, s, func(tx ticket.Tx) error {
		other, _, err := newTicket(tx, 1, "carol@example.com", "part2@example.com", t0)
		otherTicket = other.ID
		return err
	})
	d, err := s.TicketDetail(context.Background(), tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	return tk, m.ID, d.Messages[0].Attachments[0].ID, otherTicket
}

func TestTicketPartsAreScopedToTheirTicket(t *testing.T) {
	s, _, _ := testStore(t, Options{})
	ctx := context.Background()
	tk, msgID, attID, other := twoTickets(t, s)

	for _, tid := range []int64{tk.ID, 0} {
		raw, err := s.TicketRawMessage(ctx, tid, msgID)
		if err != nil || !bytes.Contains(raw, []byte("Message-ID: <part1@example.com>")) {
			t.Errorf("TicketRawMessage(%d, %d) = %q, %v", tid, msgID, raw, err)
		}
		a, data, err := s.TicketAttachment(ctx, tid, attID)
		if err != nil || string(data) != "%PDF-1.7 report" || a.Filename != "report.pdf" || a.MessageID != msgID {
			t.Errorf("TicketAttachment(%d, %d) = %+v, %q, %v", tid, attID, a, data, err)
		}
	}
	// Through another ticket, or one that does not exist: not found.
	for _, tid := range []int64{other, other + 100} {
		if raw, err := s.TicketRawMessage(ctx, tid, msgID); !errors.Is(err, ticket.ErrNotFound) {
			t.Errorf("TicketRawMessage(%d, %d) = %q, %v; want ErrNotFound", tid, msgID, raw, err)
		}
		if _, data, err := s.TicketAttachment(ctx, tid, attID); !errors.Is(err, ticket.ErrNotFound) {
			t.Errorf("TicketAttachment(%d, %d) = %q, %v; want ErrNotFound", tid, attID, data, err)
		}
	}
}

// BenchmarkDownloadFromLargeTicket is a download of one attachment of a
// ticket of 300 messages, as the API answered it before (the whole ticket
// read to check that the attachment is the ticket's, then the attachment)
// and now (the attachment alone, checked in its query).
func BenchmarkDownloadFromLargeTicket(b *testing.B) {
	s, _ := benchStore(b, Options{})
	ctx := context.Background()
	var tk *ticket.Ticket
	var attID int64
	body := string(bytes.Repeat([]byte("The printer is on fire again, see the log below.\n"), 100))
	err := s.Update(ctx, func(tx ticket.Tx) error {
		var err error
		if tk, _, err = newTicket(tx, 1, "bob@example.com", "big0@example.com", t0,
			ticket.Attachment{Filename: "log.txt", ContentType: "text/plain", Data: []byte("the log")}); err != nil {
			return err
		}
		for i := 1; i < 300; i++ {
			if err := tx.AddMessage(&ticket.Message{TicketID: tk.ID, MailboxID: 1, MessageID: fmt.Sprintf("big%d@example.com", i),
				DedupeKey: fmt.Sprintf("mid:big%d@example.com", i), From: ticket.Address{Email: "bob@example.com"},
				Subject: "Re: fire", Date: t0, TextBody: body, HTMLBody: "<p>" + body + "</p>", Source: ticket.SourceIMAP, CreatedAt: t0,
				Raw: []byte("From: bob@example.com\r\n\r\n" + body)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	d, err := s.TicketDetail(ctx, tk.ID)
	if err != nil {
		b.Fatal(err)
	}
	attID = d.Messages[0].Attachments[0].ID
	b.Run("detail-then-attachment", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.TicketDetail(ctx, tk.ID); err != nil {
				b.Fatal(err)
			}
			if _, _, err := s.Attachment(ctx, attID); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("scoped-attachment", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := s.TicketAttachment(ctx, tk.ID, attID); err != nil {
				b.Fatal(err)
			}
		}
	})
}
