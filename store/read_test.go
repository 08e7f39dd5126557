package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/postdesk/postdesk/ticket"
)

func TestAttachmentsAreContentAddressed(t *testing.T) {
	s, _, _ := testStore(t, Options{})
	ctx := context.Background()
	logo := []byte("\x89PNG\r\n\x1a\n same logo in every signature")
	var m1, m2 *ticket.Message
	mustUpdate(t, s, func(tx ticket.Tx) error {
		var err error
		_, m1, err = newTicket(tx, 1, "bob@example.com", "att1@example.com", t0,
			ticket.Attachment{Filename: "logo.png", ContentType: "image/png", ContentID: "logo@x", Inline: true, Data: logo},
			ticket.Attachment{Filename: "report.pdf", ContentType: "application/pdf", Data: []byte("%PDF-1.7")},
			ticket.Attachment{Filename: "empty.txt", ContentType: "text/plain"})
		return err
	})
	mustUpdate(t, s, func(tx ticket.Tx) error {
		var err error
		_, m2, err = newTicket(tx, 1, "carol@example.com", "att2@example.com", t0,
			ticket.Attachment{Filename: "signature.png", ContentType: "image/png", Data: logo})
		return err
	})
	if got := countRows(t, s.rdb, `SELECT count(*) FROM blobs`); got != 3 {
		t.Errorf("blobs = %d, want 3 (the logo stored once)", got)
	}
	if got := countRows(t, s.rdb, `SELECT count(*) FROM message_attachments`); got != 4 {
		t.Errorf("attachment rows = %d, want 4", got)
	}
	d, err := s.TicketDetail(ctx, m1.TicketID)
	if err != nil {
		t.Fatal(err)
	}
	atts := d.Messages[0].Attachments
	if len(atts) != 3 || atts[0].Filename != "logo.png" || !atts[0].Inline || atts[0].ContentID != "logo@x" ||
		atts[0].Size != int64(len(logo)) || atts[1].Filename != "report.pdf" || atts[2].Size != 0 {
		t.Fatalf("attachments = %+v", atts)
	}
	d2, err := s.TicketDetail(ctx, m2.TicketID)
	if err != nil {
		t.Fatal(err)
	}
	if d2.Messages[0].Attachments[0].SHA256 != atts[0].SHA256 {
		t.Errorf("equal bytes, different hashes: %s and %s", d2.Messages[0].Attachments[0].SHA256, atts[0].SHA256)
	}
	a, data, err := s.Attachment(ctx, d2.Messages[0].Attachments[0].ID)
	if err != nil || string(data) != string(logo) || a.Filename != "signature.png" || a.MessageID != m2.ID {
		t.Errorf("Attachment = %+v, %q, %v", a, data, err)
	}
	if _, data, err := s.Attachment(ctx, atts[2].ID); err != nil || data == nil || len(data) != 0 {
		t.Errorf("empty Attachment = %q, %v", data, err)
	}
	if _, _, err := s.Attachment(ctx, 9999); !errors.Is(err, ticket.ErrNotFound) {
		t.Errorf("Attachment(missing) = %v", err)
	}
}

func TestTicketDetailAndRawMessage(t *testing.T) {
	s, _, _ := testStore(t, Options{})
	ctx := context.Background()
	var tk *ticket.Ticket
	var m *ticket.Message
	var p *ticket.Person
	var co *ticket.Company
	mustUpdate(t, s, func(tx ticket.Tx) error {
		var err error
		if co, err = tx.EnsureCompany("Acme", "acme.example"); err != nil {
			return err
		}
		p = &ticket.Person{Email: "bob@acme.example", Name: "Bob", CompanyID: co.ID}
		if err := tx.CreatePerson(p); err != nil {
			return err
		}
		tk = &ticket.Ticket{MailboxID: 607, Title: "Printer", PersonID: p.ID, CompanyID: co.ID,
			Sender: "bob@acme.example", CreatedAt: t0}
		if err := tx.CreateTicket(tk); err != nil {
			return err
		}
		m = &ticket.Message{TicketID: tk.ID, MailboxID: 607, MessageID: "d1@acme.example", DedupeKey: "mid:d1@acme.example",
			InReplyTo: []string{"x@y"}, References: []string{"w@y", "x@y"},
			From: ticket.Address{Name: "Bob", Email: "bob@acme.example"},
			To:   []ticket.Address{{Name: "Support", Email: "support@example.com"}},
			Cc:   []ticket.Address{{Email: "boss@acme.example"}}, Subject: "Printer",
			Date: t0.Add(-time.Minute), TextBody: "text", HTMLBody: "<p>html</p>", Automatic: true,
			Source: ticket.SourceHTTP, Raw: []byte("Subject: Printer\r\n\r\ntext\r\n"), CreatedAt: t0}
		return tx.AddMessage(m)
	})
	d, err := s.TicketDetail(ctx, tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(d.Ticket, *tk) || !reflect.DeepEqual(d.Person, p) || !reflect.DeepEqual(d.Company, co) {
		t.Errorf("TicketDetail = %+v / %+v / %+v", d.Ticket, d.Person, d.Company)
	}
	if len(d.Messages) != 1 {
		t.Fatalf("messages = %d", len(d.Messages))
	}
	want := *m
	want.Raw, want.Attachments = nil, nil
	if !reflect.DeepEqual(d.Messages[0].Message, want) || d.Messages[0].RawSize != int64(len(m.Raw)) {
		t.Errorf("message = %+v (raw size %d)\nwant      %+v", d.Messages[0].Message, d.Messages[0].RawSize, want)
	}
	raw, err := s.RawMessage(ctx, m.ID)
	if err != nil || string(raw) != string(m.Raw) {
		t.Errorf("RawMessage = %q, %v", raw, err)
	}
	if _, err := s.RawMessage(ctx, m.ID+1); !errors.Is(err, ticket.ErrNotFound) {
		t.Errorf("RawMessage(missing) = %v", err)
	}
	if _, err := s.TicketDetail(ctx, tk.ID+1); !errors.Is(err, ticket.ErrNotFound) {
		t.Errorf("TicketDetail(missing) = %v", err)
	}
}

func TestListTicketsMessageIDs(t *testing.T) {
	s, _, _ := testStore(t, Options{})
	ctx := context.Background()
	// 1203 tickets over two mailboxes (more than two listing chunks); every
	// third has a reply, every seventh a reply without Message-ID.
	const n = 1203
	mustUpdate(t, s, func(tx ticket.Tx) error {
		for i := range n {
			tk, _, err := newTicket(tx, int64(i%2+1), "bob@example.com", fmt.Sprintf("t%d@example.com", i), t0)
			if err != nil {
				return err
			}
			if i%3 == 0 {
				if err := tx.AddMessage(&ticket.Message{TicketID: tk.ID, MailboxID: tk.MailboxID,
					MessageID: fmt.Sprintf("r%d@example.com", i), DedupeKey: fmt.Sprintf("mid:r%d@example.com", i)}); err != nil {
					return err
				}
			}
			if i%7 == 0 {
				if err := tx.AddMessage(&ticket.Message{TicketID: tk.ID, MailboxID: tk.MailboxID}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	wantIDs := func(i int) []string {
		ids := []string{fmt.Sprintf("t%d@example.com", i)}
		if i%3 == 0 {
			ids = append(ids, fmt.Sprintf("r%d@example.com", i))
		}
		if i%7 == 0 {
			ids = append(ids, "")
		}
		return ids
	}
	all, err := s.ListTickets(ctx, ListOptions{})
	if err != nil || len(all) != n {
		t.Fatalf("ListTickets = %d, %v; want %d", len(all), err, n)
	}
	for i, ts := range all {
		if !reflect.DeepEqual(ts.MessageIDs, wantIDs(i)) || ts.MessageCount != len(wantIDs(i)) {
			t.Fatalf("ticket %d: MessageIDs %q (count %d), want %q", i, ts.MessageIDs, ts.MessageCount, wantIDs(i))
		}
	}
	// Mailbox 2 holds the odd ones; page through it 250 at a time.
	var got []TicketSummary
	after := int64(0)
	for {
		page, err := s.ListTickets(ctx, ListOptions{MailboxID: 2, AfterID: after, Limit: 250})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) > 250 {
			t.Fatalf("page of %d, limit 250", len(page))
		}
		if len(page) == 0 {
			break
		}
		got = append(got, page...)
		after = page[len(page)-1].ID
	}
	if len(got) != n/2 {
		t.Fatalf("mailbox 2: %d tickets, want %d", len(got), n/2)
	}
	for k, ts := range got {
		i := 2*k + 1
		if ts.MailboxID != 2 || !reflect.DeepEqual(ts.MessageIDs, wantIDs(i)) {
			t.Fatalf("mailbox 2 ticket %d: %+v, want MessageIDs %q", k, ts, wantIDs(i))
		}
	}
	stop := errors.New("stop")
	seen := 0
	if err := s.EachTicket(ctx, ListOptions{}, func(TicketSummary) error { seen++; return stop }); !errors.Is(err, stop) || seen != 1 {
		t.Errorf("EachTicket stopping: %v after %d", err, seen)
	}
}
