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

func TestTicketRoundTrip(t *testing.T) {
	s, _, _ := testStore(t, Options{})
	var created *ticket.Ticket
	mustUpdate(t, s, func(tx ticket.Tx) error {
		tk := &ticket.Ticket{MailboxID: 607, Title: "Printer", Category: "Support", Priority: "High",
			Owner: "Sarah", Sender: "Bob@Example.COM", Automatic: true, CreatedAt: t0}
		if err := tx.CreateTicket(tk); err != nil {
			return err
		}
		created = tk
		return nil
	})
	if created.ID == 0 || created.Status != ticket.StatusOpen || !created.UpdatedAt.Equal(t0) {
		t.Fatalf("CreateTicket did not fill ID/Status/UpdatedAt: %+v", created)
	}
	mustView(t, s, func(tx ticket.Tx) error {
		got, err := tx.Ticket(created.ID)
		if err != nil {
			return err
		}
		want := *created
		want.Sender = "bob@example.com"
		if !reflect.DeepEqual(*got, want) {
			t.Errorf("Ticket = %+v, want %+v", *got, want)
		}
		if _, err := tx.Ticket(created.ID + 1); !errors.Is(err, ticket.ErrNotFound) {
			t.Errorf("Ticket(missing) err = %v, want ErrNotFound", err)
		}
		return nil
	})

	later := t0.Add(time.Hour)
	mustUpdate(t, s, func(tx ticket.Tx) error { return tx.SetTicketStatus(created.ID, ticket.StatusClosed, later) })
	mustView(t, s, func(tx ticket.Tx) error {
		got, err := tx.Ticket(created.ID)
		if err != nil {
			return err
		}
		if got.Status != ticket.StatusClosed || !got.UpdatedAt.Equal(later) {
			t.Errorf("after SetTicketStatus: %+v", got)
		}
		return nil
	})
	err := s.Update(context.Background(), func(tx ticket.Tx) error {
		return tx.SetTicketStatus(created.ID+1, ticket.StatusClosed, later)
	})
	if !errors.Is(err, ticket.ErrNotFound) {
		t.Errorf("SetTicketStatus(missing) = %v, want ErrNotFound", err)
	}
}

func TestPersonsAndCompanies(t *testing.T) {
	s, _, _ := testStore(t, Options{})
	var co *ticket.Company
	var p *ticket.Person
	mustUpdate(t, s, func(tx ticket.Tx) error {
		var err error
		if co, err = tx.EnsureCompany("Acme", "ACME.example"); err != nil {
			return err
		}
		again, err := tx.EnsureCompany("Other name", "acme.example")
		if err != nil {
			return err
		}
		if again.ID != co.ID || again.Name != "Acme" || co.Domain != "acme.example" {
			t.Errorf("EnsureCompany twice: %+v then %+v", co, again)
		}
		p = &ticket.Person{Email: "Alice@Acme.Example", Name: "Alice", CompanyID: co.ID}
		return tx.CreatePerson(p)
	})
	err := s.Update(context.Background(), func(tx ticket.Tx) error {
		return tx.CreatePerson(&ticket.Person{Email: "alice@acme.example"})
	})
	if !errors.Is(err, ErrDuplicate) {
		t.Errorf("second person with the same address: err = %v, want ErrDuplicate", err)
	}
	mustView(t, s, func(tx ticket.Tx) error {
		for _, email := range []string{"alice@acme.example", "ALICE@ACME.EXAMPLE"} {
			got, err := tx.PersonByEmail(email)
			if err != nil {
				return err
			}
			if !reflect.DeepEqual(got, p) {
				t.Errorf("PersonByEmail(%q) = %+v, want %+v", email, got, p)
			}
		}
		got, err := tx.Person(p.ID)
		if err != nil || !reflect.DeepEqual(got, p) {
			t.Errorf("Person = %+v, %v", got, err)
		}
		c, err := tx.Company(co.ID)
		if err != nil || !reflect.DeepEqual(c, co) {
			t.Errorf("Company = %+v, %v", c, err)
		}
		if _, err := tx.PersonByEmail("nobody@acme.example"); !errors.Is(err, ticket.ErrNotFound) {
			t.Errorf("PersonByEmail(unknown) = %v", err)
		}
		if _, err := tx.Company(co.ID + 1); !errors.Is(err, ticket.ErrNotFound) {
			t.Errorf("Company(unknown) = %v", err)
		}
		if _, err := tx.EnsureCompany("New", "new.example"); !errors.Is(err, ErrReadOnly) {
			t.Errorf("EnsureCompany of a new domain in View = %v, want ErrReadOnly", err)
		}
		if err := tx.CreatePerson(&ticket.Person{Email: "x@y"}); !errors.Is(err, ErrReadOnly) {
			t.Errorf("CreatePerson in View = %v, want ErrReadOnly", err)
		}
		return nil
	})
}

func TestMessagesThreadingAndParticipants(t *testing.T) {
	s, _, _ := testStore(t, Options{})
	var tk *ticket.Ticket
	var first *ticket.Message
	mustUpdate(t, s, func(tx ticket.Tx) error {
		p := &ticket.Person{Email: "owner@example.com"}
		if err := tx.CreatePerson(p); err != nil {
			return err
		}
		var err error
		if tk, first, err = newTicket(tx, 607, "Bob@Example.com", "a1@example.com", t0); err != nil {
			return err
		}
		tk.PersonID = p.ID
		_, err = tx.(*txn).q.exec(`UPDATE tickets SET person_id = ? WHERE id = ?`, p.ID, tk.ID)
		return err
	})
	reply := &ticket.Message{TicketID: tk.ID, MailboxID: 607, MessageID: "a2@example.com", DedupeKey: "mid:a2@example.com",
		InReplyTo: []string{"a1@example.com"}, References: []string{"a1@example.com"},
		From: ticket.Address{Name: "Carol", Email: "carol@example.com"}, CreatedAt: t0.Add(time.Minute)}
	mustUpdate(t, s, func(tx ticket.Tx) error { return tx.AddMessage(reply) })
	if reply.ID == 0 || reply.ID == first.ID {
		t.Fatalf("AddMessage ID = %d", reply.ID)
	}
	mustView(t, s, func(tx ticket.Tx) error {
		for _, ids := range [][]string{{"a1@example.com"}, {"unknown@x", "a2@example.com"}, {"", "a1@example.com"}} {
			id, err := tx.TicketByMessageID(ids)
			if err != nil || id != tk.ID {
				t.Errorf("TicketByMessageID(%q) = %d, %v; want %d", ids, id, err, tk.ID)
			}
		}
		if _, err := tx.TicketByMessageID([]string{"nope@x", ""}); !errors.Is(err, ticket.ErrNotFound) {
			t.Errorf("TicketByMessageID(unknown) = %v", err)
		}
		for email, want := range map[string]bool{
			"bob@example.com": true, "CAROL@example.com": true, "owner@EXAMPLE.com": true,
			"mallory@example.com": false, "": false,
		} {
			got, err := tx.IsParticipant(tk.ID, email)
			if err != nil || got != want {
				t.Errorf("IsParticipant(%q) = %v, %v; want %v", email, got, err, want)
			}
		}
		got, err := tx.Ticket(tk.ID)
		if err != nil {
			return err
		}
		if !got.UpdatedAt.Equal(reply.CreatedAt) {
			t.Errorf("ticket UpdatedAt = %v, want the reply's %v", got.UpdatedAt, reply.CreatedAt)
		}
		return nil
	})
	err := s.Update(context.Background(), func(tx ticket.Tx) error {
		return tx.AddMessage(&ticket.Message{TicketID: tk.ID + 100, MailboxID: 607})
	})
	if !errors.Is(err, ticket.ErrNotFound) {
		t.Errorf("AddMessage to a missing ticket = %v, want ErrNotFound", err)
	}
}

func TestDedupeReplayIsHarmless(t *testing.T) {
	s, _, _ := testStore(t, Options{})
	var tk *ticket.Ticket
	mustUpdate(t, s, func(tx ticket.Tx) error {
		var err error
		tk, _, err = newTicket(tx, 607, "bob@example.com", "dup@example.com", t0)
		return err
	})
	// The replay: the same message into the same mailbox.
	err := s.Update(context.Background(), func(tx ticket.Tx) error {
		_, _, err := newTicket(tx, 607, "bob@example.com", "dup@example.com", t0)
		return err
	})
	if !errors.Is(err, ErrDuplicate) {
		t.Fatalf("replay err = %v, want ErrDuplicate", err)
	}
	list, err := s.ListTickets(context.Background(), ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].MessageCount != 1 {
		t.Fatalf("after replay: %d tickets (%+v), want 1 with 1 message", len(list), list)
	}
	mustView(t, s, func(tx ticket.Tx) error {
		id, err := tx.LookupDedupe(607, "mid:dup@example.com")
		if err != nil || id != tk.ID {
			t.Errorf("LookupDedupe = %d, %v; want %d", id, err, tk.ID)
		}
		if _, err := tx.LookupDedupe(608, "mid:dup@example.com"); !errors.Is(err, ticket.ErrNotFound) {
			t.Errorf("LookupDedupe in another mailbox = %v, want ErrNotFound", err)
		}
		return nil
	})
	// The same key in another mailbox is a different mail.
	mustUpdate(t, s, func(tx ticket.Tx) error {
		_, _, err := newTicket(tx, 608, "bob@example.com", "dup@example.com", t0)
		return err
	})
}

func TestNewTicketsBySenderAndOpenTickets(t *testing.T) {
	s, _, _ := testStore(t, Options{})
	var ids []int64
	mustUpdate(t, s, func(tx ticket.Tx) error {
		for i, owner := range []string{"Sarah", "Sarah", "Tom", "Tom", "Tom"} {
			tk := &ticket.Ticket{MailboxID: 1, Owner: owner, Sender: "storm@example.com",
				CreatedAt: t0.Add(time.Duration(i) * time.Minute)}
			if err := tx.CreateTicket(tk); err != nil {
				return err
			}
			ids = append(ids, tk.ID)
		}
		return tx.CreateTicket(&ticket.Ticket{MailboxID: 1, Owner: "Sarah", Sender: "calm@example.com", CreatedAt: t0})
	})
	mustUpdate(t, s, func(tx ticket.Tx) error { return tx.SetTicketStatus(ids[2], ticket.StatusClosed, t0) })
	mustView(t, s, func(tx ticket.Tx) error {
		for since, want := range map[time.Duration]int{0: 5, 2 * time.Minute: 3, 10 * time.Minute: 0} {
			n, err := tx.NewTicketsBySender("STORM@example.com", t0.Add(since), 0)
			if err != nil || n != want {
				t.Errorf("NewTicketsBySender(since +%v) = %d, %v; want %d", since, n, err, want)
			}
		}
		// The cap only needs to know whether it is reached.
		for limit, want := range map[int]int{1: 1, 4: 4, 5: 5, 50: 5} {
			n, err := tx.NewTicketsBySender("storm@example.com", t0, limit)
			if err != nil || n != want {
				t.Errorf("NewTicketsBySender(limit %d) = %d, %v; want %d", limit, n, err, want)
			}
		}
		got, err := tx.OpenTickets([]string{"Sarah", "Tom", "Nobody"})
		want := map[string]int{"Sarah": 3, "Tom": 2, "Nobody": 0}
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("OpenTickets = %v, %v; want %v", got, err, want)
		}
		return nil
	})
	// Reopening and reassigning keep the counters right.
	mustUpdate(t, s, func(tx ticket.Tx) error {
		if err := tx.SetTicketStatus(ids[2], ticket.StatusOpen, t0); err != nil {
			return err
		}
		_, err := tx.(*txn).q.exec(`UPDATE tickets SET owner = 'Tom' WHERE id = ?`, ids[0])
		return err
	})
	mustView(t, s, func(tx ticket.Tx) error {
		got, err := tx.OpenTickets([]string{"Sarah", "Tom"})
		want := map[string]int{"Sarah": 2, "Tom": 4}
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("OpenTickets after reopen/reassign = %v, %v; want %v", got, err, want)
		}
		return nil
	})
}

func TestRoundRobinAndCursor(t *testing.T) {
	s, _, _ := testStore(t, Options{})
	ctx := context.Background()
	for want := uint64(0); want < 3; want++ {
		mustUpdate(t, s, func(tx ticket.Tx) error {
			got, err := tx.NextRoundRobin(607)
			if err != nil || got != want {
				t.Errorf("NextRoundRobin = %d, %v; want %d", got, err, want)
			}
			return err
		})
	}
	mustUpdate(t, s, func(tx ticket.Tx) error {
		got, err := tx.NextRoundRobin(608)
		if got != 0 {
			t.Errorf("NextRoundRobin of another mailbox = %d, want 0", got)
		}
		return err
	})

	c, err := s.Cursor(ctx, 607)
	if err != nil || c != (ticket.Cursor{MailboxID: 607}) {
		t.Fatalf("Cursor before any = %+v, %v", c, err)
	}
	for _, want := range []ticket.Cursor{
		{MailboxID: 607, UIDValidity: 1234, UID: 10},
		{MailboxID: 607, UIDValidity: 4294967295, UID: 4294967294},
	} {
		mustUpdate(t, s, func(tx ticket.Tx) error { return tx.SetCursor(want) })
		if c, err := s.Cursor(ctx, 607); err != nil || c != want {
			t.Errorf("Cursor = %+v, %v; want %+v", c, err, want)
		}
	}
	if err := s.View(ctx, func(tx ticket.Tx) error { return tx.SetCursor(ticket.Cursor{MailboxID: 1}) }); !errors.Is(err, ErrReadOnly) {
		t.Errorf("SetCursor in View = %v, want ErrReadOnly", err)
	}
}

// A ticket's UpdatedAt follows its newest message, also for the messages
// added in the transaction that created it (where AddMessage skips the
// UPDATE that would change nothing) and after a status change there.
func TestUpdatedAtInTheCreatingTransaction(t *testing.T) {
	s, _, _ := testStore(t, Options{})
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	msg := func(tk *ticket.Ticket, n int, created time.Time) *ticket.Message {
		return &ticket.Message{TicketID: tk.ID, MailboxID: 607, MessageID: fmt.Sprintf("u%d@example.com", n),
			DedupeKey: fmt.Sprintf("mid:u%d@example.com", n), From: ticket.Address{Email: "bob@example.com"}, CreatedAt: created}
	}
	for _, tc := range []struct {
		name string
		fn   func(tx ticket.Tx, tk *ticket.Ticket) error
		want time.Time
	}{
		{"first message as old as the ticket", func(tx ticket.Tx, tk *ticket.Ticket) error {
			return tx.AddMessage(msg(tk, 1, at(0)))
		}, at(0)},
		{"a newer message", func(tx ticket.Tx, tk *ticket.Ticket) error {
			return errors.Join(tx.AddMessage(msg(tk, 2, at(0))), tx.AddMessage(msg(tk, 3, at(time.Minute))))
		}, at(time.Minute)},
		{"an older message after a newer one", func(tx ticket.Tx, tk *ticket.Ticket) error {
			return errors.Join(tx.AddMessage(msg(tk, 4, at(time.Minute))), tx.AddMessage(msg(tk, 5, at(time.Second))))
		}, at(time.Minute)},
		{"a status change back in time, then a message", func(tx ticket.Tx, tk *ticket.Ticket) error {
			return errors.Join(tx.SetTicketStatus(tk.ID, ticket.StatusClosed, at(-time.Hour)), tx.AddMessage(msg(tk, 6, at(0))))
		}, at(0)},
	} {
		var tk *ticket.Ticket
		mustUpdate(t, s, func(tx ticket.Tx) error {
			tk = &ticket.Ticket{MailboxID: 607, Title: tc.name, CreatedAt: at(0)}
			if err := tx.CreateTicket(tk); err != nil {
				return err
			}
			return tc.fn(tx, tk)
		})
		mustView(t, s, func(tx ticket.Tx) error {
			got, err := tx.Ticket(tk.ID)
			if err != nil {
				return err
			}
			if !got.UpdatedAt.Equal(tc.want) {
				t.Errorf("%s: UpdatedAt %v, want %v", tc.name, got.UpdatedAt, tc.want)
			}
			return nil
		})
	}
}
