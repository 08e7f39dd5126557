package ticket_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/postdesk/postdesk/store"
	"github.com/postdesk/postdesk/ticket"
)

// env is a Service on a real SQLite store in a temporary directory.
type env struct {
	t   *testing.T
	svc *ticket.Service
	st  *store.Store
	now time.Time
}

var support = ticket.Mailbox{
	ID: 607, Name: "support", Address: "support@example.com",
	Category: "Technical Support", Priority: "Medium", Owner: "Sarah Johnson",
}

func newEnv(t *testing.T, mutate func(*ticket.Options), mbs ...ticket.Mailbox) *env {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "postdesk.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if len(mbs) == 0 {
		mbs = []ticket.Mailbox{support}
	}
	e := &env{t: t, st: st, now: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)}
	opts := ticket.Options{
		Repo:           st,
		Mailboxes:      mbs,
		TicketURL:      "http://desk.example/ticket/{id}",
		CompanyDomains: map[string]string{"acme.example": "Acme Corp", "gmail.com": "Not A Company"},
		Now:            func() time.Time { return e.now },
	}
	if mutate != nil {
		mutate(&opts)
	}
	e.svc, err = ticket.NewService(opts)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// msg builds a small RFC 822 message; extra are additional header lines.
func msg(from, subject, id string, extra ...string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: support@example.com\r\nSubject: %s\r\nDate: Thu, 26 Nov 2026 10:00:00 +0000\r\n", from, subject)
	if id != "" {
		fmt.Fprintf(&b, "Message-ID: <%s>\r\n", id)
	}
	for _, h := range extra {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("Content-Type: text/plain; charset=utf-8\r\n\r\nHello, my printer is on fire.\r\n")
	return []byte(b.String())
}

func (e *env) imp(mailbox int64, raw []byte) (*ticket.Result, error) {
	e.t.Helper()
	return e.svc.Import(context.Background(), ticket.ImportRequest{MailboxID: mailbox, Raw: raw, Source: ticket.SourceIMAP})
}

func (e *env) mustImport(mailbox int64, raw []byte) *ticket.Result {
	e.t.Helper()
	res, err := e.imp(mailbox, raw)
	if err != nil {
		e.t.Fatalf("import: %v", err)
	}
	return res
}

func (e *env) ticket(id int64) *ticket.Ticket {
	e.t.Helper()
	var tk *ticket.Ticket
	err := e.st.View(context.Background(), func(tx ticket.Tx) error {
		var err error
		tk, err = tx.Ticket(id)
		return err
	})
	if err != nil {
		e.t.Fatalf("ticket %d: %v", id, err)
	}
	return tk
}

func (e *env) setStatus(id int64, s ticket.Status) {
	e.t.Helper()
	err := e.st.Update(context.Background(), func(tx ticket.Tx) error { return tx.SetTicketStatus(id, s, e.now) })
	if err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) countTickets() int {
	e.t.Helper()
	l, err := e.st.ListTickets(context.Background(), store.ListOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	return len(l)
}

func TestCreateReturnsTicketInfo(t *testing.T) {
	e := newEnv(t, nil)
	res := e.mustImport(607, msg(`"Ann Customer" <ann@acme.example>`, "Printer on fire", "a1@acme.example"))
	want := ticket.TicketInfo{
		TicketID: res.Info.TicketID, Title: "Printer on fire", OwnerName: "Sarah Johnson",
		CategoryName: "Technical Support", PriorityName: "Medium",
		TicketURL:  fmt.Sprintf("http://desk.example/ticket/%d", res.Info.TicketID),
		PersonName: "Ann Customer", ContactName: "Acme Corp",
	}
	if res.Outcome != ticket.OutcomeCreated || res.Info != want || res.Info.TicketID <= 0 {
		t.Fatalf("got %+v, %+v; want created %+v", res.Outcome, res.Info, want)
	}
	tk := e.ticket(res.Info.TicketID)
	if tk.MailboxID != 607 || tk.Status != ticket.StatusOpen || tk.Sender != "ann@acme.example" || tk.Automatic {
		t.Errorf("stored ticket %+v", tk)
	}
}

func TestEmptySubjectGetsPlaceholderTitle(t *testing.T) {
	e := newEnv(t, nil)
	res := e.mustImport(607, msg("ann@acme.example", "   ", "nosubj@x"))
	if res.Info.Title != ticket.NoSubjectTitle {
		t.Fatalf("title %q", res.Info.Title)
	}
}

func TestDedupe(t *testing.T) {
	other := support
	other.ID = 608
	tests := []struct {
		name         string
		first, again []byte
		againMailbox int64
		want         ticket.Outcome
		sameTicket   bool
	}{
		{"same message id", msg("a@acme.example", "Hi", "d1@x"), msg("a@acme.example", "Hi (resent)", "d1@x"), 607, ticket.OutcomeDuplicate, true},
		{"no message id, same bytes", msg("a@acme.example", "Hi", ""), msg("a@acme.example", "Hi", ""), 607, ticket.OutcomeDuplicate, true},
		{"no message id, other bytes", msg("a@acme.example", "Hi", ""), msg("a@acme.example", "Hi!", ""), 607, ticket.OutcomeCreated, false},
		{"same message id, other mailbox", msg("a@acme.example", "Hi", "d2@x"), msg("a@acme.example", "Hi", "d2@x"), 608, ticket.OutcomeCreated, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil, support, other)
			first := e.mustImport(607, tt.first)
			again := e.mustImport(tt.againMailbox, tt.again)
			if again.Outcome != tt.want {
				t.Fatalf("second import: %s, want %s", again.Outcome, tt.want)
			}
			if (again.Info.TicketID == first.Info.TicketID) != tt.sameTicket {
				t.Fatalf("tickets %d and %d, same wanted: %v", first.Info.TicketID, again.Info.TicketID, tt.sameTicket)
			}
			wantTickets := 2
			if tt.sameTicket {
				wantTickets = 1
				d, err := e.st.TicketDetail(context.Background(), first.Info.TicketID)
				if err != nil {
					t.Fatal(err)
				}
				if len(d.Messages) != 1 {
					t.Fatalf("duplicate stored a message: %d messages", len(d.Messages))
				}
			}
			if n := e.countTickets(); n != wantTickets {
				t.Fatalf("%d tickets, want %d", n, wantTickets)
			}
		})
	}
}

func TestFollowUp(t *testing.T) {
	tests := []struct {
		name   string
		reply  func(tid int64) []byte
		want   ticket.Outcome
		sameID bool
	}{
		{"in-reply-to", func(int64) []byte {
			return msg("ann@acme.example", "Re: Printer", "r1@x", "In-Reply-To: <orig@acme.example>")
		}, ticket.OutcomeAppended, true},
		{"references only, newest known", func(int64) []byte {
			return msg("bob@other.example", "Re: Printer", "r2@x", "References: <unknown@x> <orig@acme.example> <unknown2@x>")
		}, ticket.OutcomeAppended, true},
		{"unknown in-reply-to", func(int64) []byte {
			return msg("ann@acme.example", "Re: Printer", "r3@x", "In-Reply-To: <nope@x>")
		}, ticket.OutcomeCreated, false},
		{"subject tag from participant", func(tid int64) []byte {
			return msg("ANN@acme.example", fmt.Sprintf("Re: Printer ejTag: %d", tid), "r4@x")
		}, ticket.OutcomeAppended, true},
		{"subject tag from stranger", func(tid int64) []byte {
			return msg("mallory@evil.example", fmt.Sprintf("Re: Printer ejTag: %d", tid), "r5@x")
		}, ticket.OutcomeCreated, false},
		{"subject tag of unknown ticket", func(tid int64) []byte {
			return msg("ann@acme.example", fmt.Sprintf("Re: Printer ejTag: %d", tid+1000), "r6@x")
		}, ticket.OutcomeCreated, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			first := e.mustImport(607, msg("Ann <ann@acme.example>", "Printer", "orig@acme.example"))
			res := e.mustImport(607, tt.reply(first.Info.TicketID))
			if res.Outcome != tt.want || (res.Info.TicketID == first.Info.TicketID) != tt.sameID {
				t.Fatalf("got %s on ticket %d (first %d); want %s, same ticket %v",
					res.Outcome, res.Info.TicketID, first.Info.TicketID, tt.want, tt.sameID)
			}
			if tt.sameID {
				d, err := e.st.TicketDetail(context.Background(), first.Info.TicketID)
				if err != nil {
					t.Fatal(err)
				}
				if len(d.Messages) != 2 {
					t.Fatalf("ticket has %d messages, want 2", len(d.Messages))
				}
			}
		})
	}
}

func TestReopen(t *testing.T) {
	for _, newOnClosed := range []bool{false, true} {
		t.Run(fmt.Sprintf("new_ticket_on_closed=%v", newOnClosed), func(t *testing.T) {
			mb := support
			mb.NewTicketOnClosed = newOnClosed
			e := newEnv(t, nil, mb)
			first := e.mustImport(607, msg("ann@acme.example", "Printer", "o@x"))
			e.setStatus(first.Info.TicketID, ticket.StatusClosed)
			res := e.mustImport(607, msg("ann@acme.example", "Re: Printer", "o2@x", "In-Reply-To: <o@x>"))
			if newOnClosed {
				if res.Outcome != ticket.OutcomeCreated || res.Info.TicketID == first.Info.TicketID {
					t.Fatalf("got %s on %d, want a new ticket", res.Outcome, res.Info.TicketID)
				}
				if s := e.ticket(first.Info.TicketID).Status; s != ticket.StatusClosed {
					t.Fatalf("old ticket %s, want it left closed", s)
				}
				return
			}
			if res.Outcome != ticket.OutcomeAppended || res.Info.TicketID != first.Info.TicketID {
				t.Fatalf("got %s on %d, want appended to %d", res.Outcome, res.Info.TicketID, first.Info.TicketID)
			}
			if s := e.ticket(first.Info.TicketID).Status; s != ticket.StatusOpen {
				t.Fatalf("status %s, want reopened", s)
			}
		})
	}
}

func TestRouting(t *testing.T) {
	mb := support
	mb.Rules = []ticket.Rule{
		{Name: "invoices", Header: "Subject", Pattern: regexp.MustCompile(`(?i)invoice`), Category: "Billing", Owner: "Bert Billing"},
		{Name: "vip", Header: "From", Pattern: regexp.MustCompile(`@vip\.example`), Priority: "High"},
		{Name: "spam", Header: "X-Spam-Flag", Pattern: regexp.MustCompile(`(?i)^yes`), Action: ticket.ActionIgnore},
		{Name: "suspicious", Header: "Subject", Pattern: regexp.MustCompile(`(?i)password reset`), Action: ticket.ActionQuarantine},
	}
	tests := []struct {
		name                      string
		raw                       []byte
		outcome                   ticket.Outcome
		category, priority, owner string
	}{
		{"defaults", msg("a@acme.example", "Printer", "1@x"), ticket.OutcomeCreated, "Technical Support", "Medium", "Sarah Johnson"},
		{"rule sets category and owner", msg("a@acme.example", "Your Invoice 42", "2@x"), ticket.OutcomeCreated, "Billing", "Medium", "Bert Billing"},
		{"first matching rule wins", msg("boss@vip.example", "Invoice", "3@x"), ticket.OutcomeCreated, "Billing", "Medium", "Bert Billing"},
		{"second rule", msg("boss@vip.example", "Help", "4@x"), ticket.OutcomeCreated, "Technical Support", "High", "Sarah Johnson"},
		{"ignore", msg("a@acme.example", "Cheap pills", "5@x", "X-Spam-Flag: YES"), ticket.OutcomeIgnored, "", "", ""},
		{"quarantine", msg("a@acme.example", "Password reset", "6@x"), ticket.OutcomeQuarantined, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil, mb)
			res := e.mustImport(607, tt.raw)
			if res.Outcome != tt.outcome {
				t.Fatalf("outcome %s, want %s (%s)", res.Outcome, tt.outcome, res.Reason)
			}
			if tt.outcome != ticket.OutcomeCreated {
				if n := e.countTickets(); n != 0 {
					t.Fatalf("%d tickets created", n)
				}
				q, err := e.st.ListQuarantine(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if want := map[bool]int{true: 1, false: 0}[tt.outcome == ticket.OutcomeQuarantined]; len(q) != want {
					t.Fatalf("%d quarantined, want %d", len(q), want)
				}
				return
			}
			tk := e.ticket(res.Info.TicketID)
			if tk.Category != tt.category || tk.Priority != tt.priority || tk.Owner != tt.owner {
				t.Fatalf("ticket %q/%q/%q, want %q/%q/%q", tk.Category, tk.Priority, tk.Owner, tt.category, tt.priority, tt.owner)
			}
		})
	}
}

func TestRuleQuarantineOverHTTPIsAnError(t *testing.T) {
	mb := support
	mb.Rules = []ticket.Rule{{Header: "Subject", Pattern: regexp.MustCompile(`bad`), Action: ticket.ActionQuarantine}}
	e := newEnv(t, nil, mb)
	res, err := e.svc.Import(context.Background(), ticket.ImportRequest{MailboxID: 607, Raw: msg("a@b.example", "bad", "q@x")})
	if !errors.Is(err, ticket.ErrQuarantined) || res == nil || res.QuarantineID == 0 {
		t.Fatalf("got %+v, %v; want ErrQuarantined with the item", res, err)
	}
}

func TestAssignment(t *testing.T) {
	owners := []string{"Ann", "Bob", "Cid"}
	t.Run("round robin", func(t *testing.T) {
		mb := support
		mb.Assignment, mb.Owners = ticket.AssignRoundRobin, owners
		e := newEnv(t, nil, mb)
		var got []string
		for i := range 5 {
			res := e.mustImport(607, msg("a@acme.example", "x", fmt.Sprintf("rr%d@x", i)))
			got = append(got, res.Info.OwnerName)
		}
		if want := "Ann Bob Cid Ann Bob"; strings.Join(got, " ") != want {
			t.Fatalf("owners %v, want %s", got, want)
		}
	})
	t.Run("fewest open", func(t *testing.T) {
		mb := support
		mb.Assignment, mb.Owners = ticket.AssignFewestOpen, owners
		e := newEnv(t, nil, mb)
		var got []string
		var ids []int64
		for i := range 4 {
			res := e.mustImport(607, msg("a@acme.example", "x", fmt.Sprintf("fo%d@x", i)))
			got = append(got, res.Info.OwnerName)
			ids = append(ids, res.Info.TicketID)
		}
		// Closing Bob's ticket makes him the least busy.
		e.setStatus(ids[1], ticket.StatusClosed)
		res := e.mustImport(607, msg("a@acme.example", "x", "fo9@x"))
		got = append(got, res.Info.OwnerName)
		if want := "Ann Bob Cid Ann Bob"; strings.Join(got, " ") != want {
			t.Fatalf("owners %v, want %s", got, want)
		}
	})
}

func TestLoopsAndRobots(t *testing.T) {
	tests := []struct {
		name      string
		from      string
		headers   []string
		automatic bool
	}{
		{"person", "ann@acme.example", nil, false},
		{"auto-submitted no", "ann@acme.example", []string{"Auto-Submitted: no"}, false},
		{"auto-replied", "ann@acme.example", []string{"Auto-Submitted: auto-replied"}, true},
		{"precedence bulk", "news@acme.example", []string{"Precedence: bulk"}, true},
		{"precedence list", "list@acme.example", []string{"Precedence: list"}, true},
		{"precedence first-class", "ann@acme.example", []string{"Precedence: first-class"}, false},
		{"our x-loop", "ann@acme.example", []string{"X-Loop: postdesk"}, true},
		{"x-auto-response-suppress", "ann@acme.example", []string{"X-Auto-Response-Suppress: All"}, true},
		{"mailer-daemon", "MAILER-DAEMON@mx.acme.example", nil, true},
		{"postmaster", "postmaster@acme.example", nil, true},
		{"empty return-path", "ann@acme.example", []string{"Return-Path: <>"}, true},
		{"return-path set", "ann@acme.example", []string{"Return-Path: <ann@acme.example>"}, false},
		{"our own address", "support@example.com", nil, true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			res := e.mustImport(607, msg(tt.from, "Hello", fmt.Sprintf("loop%d@x", i), tt.headers...))
			if res.Outcome != ticket.OutcomeCreated {
				t.Fatalf("outcome %s: automatic mail must still be imported", res.Outcome)
			}
			if res.Automatic != tt.automatic || e.ticket(res.Info.TicketID).Automatic != tt.automatic {
				t.Fatalf("automatic %v (ticket %v), want %v", res.Automatic, e.ticket(res.Info.TicketID).Automatic, tt.automatic)
			}
		})
	}
	t.Run("delivery status notification", func(t *testing.T) {
		e := newEnv(t, nil)
		raw := "From: Mail Delivery System <mailer@mx.example>\r\nTo: support@example.com\r\nSubject: Undelivered\r\nMessage-ID: <dsn@x>\r\n" +
			"MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n" +
			"--b\r\nContent-Type: text/plain\r\n\r\nIt bounced.\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example\r\n\r\nFinal-Recipient: rfc822; x@y\r\nAction: failed\r\nStatus: 5.1.1\r\n--b--\r\n"
		res := e.mustImport(607, []byte(raw))
		if !res.Automatic {
			t.Fatal("a DSN must be marked automatic")
		}
	})
}

func TestSenderCap(t *testing.T) {
	e := newEnv(t, func(o *ticket.Options) { o.SenderCap = 3 })
	var first int64
	for i := range 3 {
		res := e.mustImport(607, msg("storm@acme.example", "x", fmt.Sprintf("s%d@x", i)))
		if res.Outcome != ticket.OutcomeCreated {
			t.Fatalf("mail %d: %s", i, res.Outcome)
		}
		first = res.Info.TicketID
	}
	// IMAP: quarantined, not an error (the cursor moves on).
	res := e.mustImport(607, msg("storm@acme.example", "x", "s3@x"))
	if res.Outcome != ticket.OutcomeQuarantined || res.QuarantineID == 0 {
		t.Fatalf("4th mail: %+v, want quarantined", res)
	}
	// HTTP: quarantined and ErrSenderOverCap (429).
	res, err := e.svc.Import(context.Background(), ticket.ImportRequest{MailboxID: 607, Raw: msg("storm@acme.example", "x", "s4@x"), Source: ticket.SourceHTTP})
	if !errors.Is(err, ticket.ErrSenderOverCap) || res == nil || res.Outcome != ticket.OutcomeQuarantined {
		t.Fatalf("HTTP over cap: %+v, %v", res, err)
	}
	// Replies on existing tickets are not new tickets: not capped.
	res = e.mustImport(607, msg("storm@acme.example", "Re: x", "s5@x", fmt.Sprintf("In-Reply-To: <s%d@x>", 2)))
	if res.Outcome != ticket.OutcomeAppended || res.Info.TicketID != first {
		t.Fatalf("reply: %+v", res)
	}
	// Another sender is unaffected.
	if res := e.mustImport(607, msg("calm@acme.example", "x", "c@x")); res.Outcome != ticket.OutcomeCreated {
		t.Fatalf("other sender: %s", res.Outcome)
	}
	// An hour later the sender may open tickets again.
	e.now = e.now.Add(61 * time.Minute)
	if res := e.mustImport(607, msg("storm@acme.example", "x", "s6@x")); res.Outcome != ticket.OutcomeCreated {
		t.Fatalf("after an hour: %s", res.Outcome)
	}
	// The operator retries a quarantined item: imported once, item gone.
	q, err := e.st.ListQuarantine(context.Background())
	if err != nil || len(q) != 2 {
		t.Fatalf("quarantine %d items, %v", len(q), err)
	}
	for _, item := range q {
		if !item.Retryable || !strings.Contains(item.Reason, "cap") {
			t.Fatalf("item %+v", item)
		}
		res, err := e.svc.RetryQuarantine(context.Background(), item.ID)
		if err != nil || res.Outcome != ticket.OutcomeCreated {
			t.Fatalf("retry %d: %+v, %v", item.ID, res, err)
		}
		if _, err := e.svc.RetryQuarantine(context.Background(), item.ID); !errors.Is(err, ticket.ErrNotFound) {
			t.Fatalf("second retry: %v, want ErrNotFound", err)
		}
	}
}

// TestQuarantinedMailLeavesWhenImported: a mail that waited in the
// quarantine over the sender cap leaves it when an import of its own
// (Import or ImportBatch) stores it later, as a retry would have answered
// "duplicate"; while still over the cap it stays, under the same ID. An
// item kept for its content (over the size limit) stays although a mail
// with its Message-ID is stored.
func TestQuarantinedMailLeavesWhenImported(t *testing.T) {
	e := newEnv(t, func(o *ticket.Options) { o.SenderCap = 1; o.MaxSize = 1000 })
	ctx := context.Background()
	e.mustImport(607, msg("storm@acme.example", "x", "s0@x"))
	first := e.mustImport(607, msg("storm@acme.example", "x", "s1@x"))
	batch, err := e.svc.ImportBatch(ctx, []ticket.ImportRequest{{MailboxID: 607, Raw: msg("storm@acme.example", "x", "s2@x"), Source: ticket.SourceCLI}})
	if err != nil || len(batch) != 1 || first.Outcome != ticket.OutcomeQuarantined || batch[0].Outcome != ticket.OutcomeQuarantined {
		t.Fatalf("over the cap: %+v, %+v, %v", first, batch, err)
	}
	// IMAP hands over only the header of a mail over the size limit.
	head := msg("other@acme.example", "big", "big@x")
	if res, err := e.svc.Import(ctx, ticket.ImportRequest{MailboxID: 607, Raw: head, Size: 5000, Source: ticket.SourceIMAP}); err != nil || res.Outcome != ticket.OutcomeQuarantined {
		t.Fatalf("oversize: %+v, %v", res, err)
	}
	if res := e.mustImport(607, msg("other@acme.example", "small", "big@x")); res.Outcome != ticket.OutcomeCreated {
		t.Fatalf("the small mail with the oversize one's Message-ID: %+v", res)
	}
	// Still over the cap: the same item, not resolved.
	if again := e.mustImport(607, msg("storm@acme.example", "x", "s1@x")); again.Outcome != ticket.OutcomeQuarantined || again.QuarantineID != first.QuarantineID {
		t.Fatalf("again over the cap: %+v, want quarantined as #%d", again, first.QuarantineID)
	}
	if n, err := e.st.QuarantineCount(ctx); err != nil || n != 3 {
		t.Fatalf("quarantine holds %d, %v; want 3", n, err)
	}

	e.now = e.now.Add(61 * time.Minute)
	if res := e.mustImport(607, msg("storm@acme.example", "x", "s1@x")); res.Outcome != ticket.OutcomeCreated {
		t.Fatalf("an hour later: %+v", res)
	}
	e.now = e.now.Add(61 * time.Minute)
	if batch, err := e.svc.ImportBatch(ctx, []ticket.ImportRequest{{MailboxID: 607, Raw: msg("storm@acme.example", "x", "s2@x"), Source: ticket.SourceCLI}}); err != nil || batch[0].Outcome != ticket.OutcomeCreated {
		t.Fatalf("another hour later, in a batch: %+v, %v", *batch[0], err)
	}
	q, err := e.st.ListQuarantine(ctx)
	if err != nil || len(q) != 1 || q[0].MessageID != "big@x" || q[0].Retryable {
		t.Fatalf("quarantine after the imports: %+v, %v; want only the oversize mail", q, err)
	}
	if _, err := e.svc.RetryQuarantine(ctx, first.QuarantineID); !errors.Is(err, ticket.ErrNotFound) {
		t.Fatalf("retry of the resolved item: %v, want ErrNotFound", err)
	}
}

// TestQuarantineLoggedOnceForTheCLI: the core logs a quarantined mail of
// the daemon's sources (IMAP, HTTP) but not one of the CLI, which prints
// every mail's outcome itself (postdesk import would report each twice).
func TestQuarantineLoggedOnceForTheCLI(t *testing.T) {
	var logs bytes.Buffer
	e := newEnv(t, func(o *ticket.Options) {
		o.SenderCap = 1
		o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	ctx := context.Background()
	e.mustImport(607, msg("storm@acme.example", "x", "l0@x"))
	imp := func(src ticket.Source, id string) {
		t.Helper()
		res, err := e.svc.Import(ctx, ticket.ImportRequest{MailboxID: 607, Raw: msg("storm@acme.example", "x", id), Source: src})
		if (err != nil && src != ticket.SourceHTTP) || res == nil || res.Outcome != ticket.OutcomeQuarantined {
			t.Fatalf("%s over the cap: %+v, %v", src, res, err)
		}
	}
	imp(ticket.SourceCLI, "l1@x")
	if batch, err := e.svc.ImportBatch(ctx, []ticket.ImportRequest{{MailboxID: 607, Raw: msg("storm@acme.example", "x", "l2@x"), Source: ticket.SourceCLI}}); err != nil || batch[0].Outcome != ticket.OutcomeQuarantined {
		t.Fatalf("CLI batch over the cap: %+v, %v", batch, err)
	}
	if got := strings.Count(logs.String(), "mail quarantined"); got != 0 {
		t.Fatalf("%d lines for the CLI's quarantined mails, want 0:\n%s", got, logs.String())
	}
	imp(ticket.SourceIMAP, "l3@x")
	imp(ticket.SourceHTTP, "l4@x")
	if got := strings.Count(logs.String(), "mail quarantined"); got != 2 {
		t.Fatalf("%d lines for the IMAP and HTTP quarantined mails, want 2:\n%s", got, logs.String())
	}
}

// TestRetryQuarantinedAgainNotLogged: an IMAP mail that a rule quarantined
// and that postdesk quarantine retry finds quarantined again is reported by
// the CLI alone; the core logged it once, when the poller quarantined it.
func TestRetryQuarantinedAgainNotLogged(t *testing.T) {
	var logs bytes.Buffer
	mb := support
	mb.Rules = []ticket.Rule{{Header: "Subject", Pattern: regexp.MustCompile(`bad`), Action: ticket.ActionQuarantine}}
	e := newEnv(t, func(o *ticket.Options) { o.Logger = slog.New(slog.NewTextHandler(&logs, nil)) }, mb)
	ctx := context.Background()
	res, err := e.svc.Import(ctx, ticket.ImportRequest{MailboxID: 607, Raw: msg("a@b.example", "bad", "q@x"), Source: ticket.SourceIMAP})
	if err != nil || res.Outcome != ticket.OutcomeQuarantined {
		t.Fatalf("IMAP mail the rule quarantines: %+v, %v", res, err)
	}
	if got := strings.Count(logs.String(), "mail quarantined"); got != 1 {
		t.Fatalf("%d lines for the poller's quarantined mail, want 1:\n%s", got, logs.String())
	}
	again, err := e.svc.RetryQuarantine(ctx, res.QuarantineID)
	if err != nil || again.Outcome != ticket.OutcomeQuarantined || again.QuarantineID != res.QuarantineID {
		t.Fatalf("retry: %+v, %v; want the same item quarantined again", again, err)
	}
	if got := strings.Count(logs.String(), "mail quarantined"); got != 1 {
		t.Fatalf("%d lines after the retry, want still 1:\n%s", got, logs.String())
	}
}

func TestSizeLimitAndNotMail(t *testing.T) {
	e := newEnv(t, func(o *ticket.Options) { o.MaxSize = 1000 })
	big := msg("a@acme.example", "big", "big@x", "X-Padding: "+strings.Repeat("x", 2000))
	ctx := context.Background()
	if _, err := e.svc.Import(ctx, ticket.ImportRequest{MailboxID: 607, Raw: big, Source: ticket.SourceHTTP}); !errors.Is(err, ticket.ErrTooLarge) {
		t.Fatalf("HTTP oversize: %v", err)
	}
	if _, err := e.svc.Import(ctx, ticket.ImportRequest{MailboxID: 607, Raw: []byte("autem"), Source: ticket.SourceHTTP}); !errors.Is(err, ticket.ErrNotMail) {
		t.Fatalf("HTTP autem: %v", err)
	}
	cur := ticket.Cursor{MailboxID: 607, UIDValidity: 7, UID: 41}
	res, err := e.svc.Import(ctx, ticket.ImportRequest{MailboxID: 607, Raw: big, Source: ticket.SourceIMAP, Cursor: &cur})
	if err != nil || res.Outcome != ticket.OutcomeQuarantined {
		t.Fatalf("IMAP oversize: %+v, %v", res, err)
	}
	cur.UID = 42
	res, err = e.svc.Import(ctx, ticket.ImportRequest{MailboxID: 607, Raw: []byte("autem"), Source: ticket.SourceIMAP, Cursor: &cur})
	if err != nil || res.Outcome != ticket.OutcomeQuarantined {
		t.Fatalf("IMAP autem: %+v, %v", res, err)
	}
	got, err := e.st.Cursor(ctx, 607)
	if err != nil || got != cur {
		t.Fatalf("cursor %+v, %v; want %+v", got, err, cur)
	}
	q, err := e.st.QuarantineItem(ctx, res.QuarantineID)
	if err != nil || string(q.Raw) != "autem" {
		t.Fatalf("quarantined raw bytes lost: %+v, %v", q, err)
	}
	if e.countTickets() != 0 {
		t.Fatal("a ticket was created")
	}
	// Oversize IMAP message whose body stayed on the server: header only.
	hdr := []byte("From: x@acme.example\r\nSubject: huge\r\nMessage-ID: <huge@x>\r\n\r\n")
	res, err = e.svc.Import(ctx, ticket.ImportRequest{MailboxID: 607, Raw: hdr, Size: 50 << 20, Source: ticket.SourceIMAP})
	if err != nil || res.Outcome != ticket.OutcomeQuarantined {
		t.Fatalf("IMAP header-only oversize: %+v, %v", res, err)
	}
	if _, err := e.svc.RetryQuarantine(ctx, res.QuarantineID); !errors.Is(err, ticket.ErrTooLarge) {
		t.Fatalf("retry of a header-only item: %v", err)
	}
}

func TestCustomer(t *testing.T) {
	t.Run("person created once, case-insensitive, company from domain", func(t *testing.T) {
		e := newEnv(t, nil)
		a := e.mustImport(607, msg("Ann <Ann@ACME.example>", "x", "c1@x"))
		b := e.mustImport(607, msg("ann@acme.example", "y", "c2@x"))
		ta, tb := e.ticket(a.Info.TicketID), e.ticket(b.Info.TicketID)
		if ta.PersonID == 0 || ta.PersonID != tb.PersonID || ta.CompanyID == 0 || b.Info.ContactName != "Acme Corp" || b.Info.PersonName != "Ann" {
			t.Fatalf("tickets %+v %+v, info %+v", ta, tb, b.Info)
		}
	})
	t.Run("free mail never a company", func(t *testing.T) {
		e := newEnv(t, nil)
		res := e.mustImport(607, msg("joe@gmail.com", "x", "c3@x"))
		if res.Info.ContactName != "" || res.Info.PersonName != "joe@gmail.com" {
			t.Fatalf("info %+v", res.Info)
		}
	})
	t.Run("mailbox forbids new persons", func(t *testing.T) {
		mb := support
		mb.NoNewPersons = true
		e := newEnv(t, nil, mb)
		res := e.mustImport(607, msg("new@acme.example", "x", "c4@x"))
		if tk := e.ticket(res.Info.TicketID); tk.PersonID != 0 || res.Info.PersonName != "" {
			t.Fatalf("ticket %+v", tk)
		}
	})
	t.Run("PersonId wins over From; unknown PersonId writes nothing", func(t *testing.T) {
		e := newEnv(t, nil)
		a := e.mustImport(607, msg("Ann <ann@acme.example>", "x", "c5@x"))
		pid := e.ticket(a.Info.TicketID).PersonID
		res, err := e.svc.Import(context.Background(), ticket.ImportRequest{MailboxID: 607, Raw: msg("other@else.example", "y", "c6@x"), PersonID: pid})
		if err != nil || e.ticket(res.Info.TicketID).PersonID != pid || res.Info.PersonName != "Ann" {
			t.Fatalf("PersonId import: %+v, %v", res, err)
		}
		_, err = e.svc.Import(context.Background(), ticket.ImportRequest{MailboxID: 607, Raw: msg("x@else.example", "z", "c7@x"), PersonID: 9999})
		if !errors.Is(err, ticket.ErrUnknownPerson) {
			t.Fatalf("unknown PersonId: %v", err)
		}
		if n := e.countTickets(); n != 2 {
			t.Fatalf("%d tickets, want 2 (nothing half-written)", n)
		}
	})
}

func TestUnknownMailbox(t *testing.T) {
	e := newEnv(t, nil)
	if _, err := e.imp(999, msg("a@b.example", "x", "u@x")); !errors.Is(err, ticket.ErrUnknownMailbox) {
		t.Fatalf("got %v", err)
	}
}

func TestCursorCommittedWithImport(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	for uid := uint32(1); uid <= 3; uid++ {
		cur := ticket.Cursor{MailboxID: 607, UIDValidity: 99, UID: uid}
		// uid 3 repeats uid 2's message: a duplicate still moves the cursor.
		id := fmt.Sprintf("cur%d@x", min(uid, 2))
		if _, err := e.svc.Import(ctx, ticket.ImportRequest{MailboxID: 607, Raw: msg("a@acme.example", "x", id), Source: ticket.SourceIMAP, Cursor: &cur}); err != nil {
			t.Fatal(err)
		}
		if got, _ := e.st.Cursor(ctx, 607); got != cur {
			t.Fatalf("cursor %+v, want %+v", got, cur)
		}
	}
}

func TestConcurrentImportsOfOneMessageMakeOneTicket(t *testing.T) {
	e := newEnv(t, nil)
	raw := msg("a@acme.example", "race", "race@x")
	errs := make(chan error, 16)
	ids := make(chan int64, 16)
	for range 16 {
		go func() {
			res, err := e.svc.Import(context.Background(), ticket.ImportRequest{MailboxID: 607, Raw: raw})
			if err == nil {
				ids <- res.Info.TicketID
			}
			errs <- err
		}()
	}
	for range 16 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	close(ids)
	first := <-ids
	for id := range ids {
		if id != first {
			t.Fatalf("tickets %d and %d for one message", first, id)
		}
	}
	if n := e.countTickets(); n != 1 {
		t.Fatalf("%d tickets", n)
	}
}

func TestImportBatch(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	raws := [][]byte{
		msg("a@acme.example", "first", "b1@x"),
		msg("b@acme.example", "second", "b2@x"),
		msg("a@acme.example", "Re: first", "b3@x", "In-Reply-To: <b1@x>"),
		msg("b@acme.example", "second again", "b2@x"),
	}
	batch := func(raws [][]byte, firstUID uint32) []ticket.ImportRequest {
		var reqs []ticket.ImportRequest
		for i, raw := range raws {
			reqs = append(reqs, ticket.ImportRequest{MailboxID: 607, Raw: raw, Source: ticket.SourceIMAP,
				Cursor: &ticket.Cursor{MailboxID: 607, UIDValidity: 5, UID: firstUID + uint32(i)}})
		}
		return reqs
	}
	res, err := e.svc.ImportBatch(ctx, batch(raws, 1))
	if err != nil || len(res) != 4 {
		t.Fatalf("batch: %d results, %v", len(res), err)
	}
	want := []ticket.Outcome{ticket.OutcomeCreated, ticket.OutcomeCreated, ticket.OutcomeAppended, ticket.OutcomeDuplicate}
	for i, r := range res {
		if r.Outcome != want[i] {
			t.Errorf("mail %d: %s, want %s", i, r.Outcome, want[i])
		}
	}
	if res[2].Info.TicketID != res[0].Info.TicketID || res[3].Info.TicketID != res[1].Info.TicketID {
		t.Errorf("threading inside one batch: %+v", res)
	}
	if cur, _ := e.st.Cursor(ctx, 607); cur.UID != 4 || cur.UIDValidity != 5 {
		t.Fatalf("cursor %+v, want the last mail's", cur)
	}
	// A batch with mail that needs its own path falls back, loses nothing.
	res, err = e.svc.ImportBatch(ctx, batch([][]byte{msg("c@acme.example", "x", "b5@x"), []byte("autem"), msg("d@acme.example", "y", "b6@x")}, 5))
	if err != nil || len(res) != 3 || res[1].Outcome != ticket.OutcomeQuarantined || res[2].Outcome != ticket.OutcomeCreated {
		t.Fatalf("fallback batch: %v %v", res, err)
	}
	if cur, _ := e.st.Cursor(ctx, 607); cur.UID != 7 {
		t.Fatalf("cursor %+v after the fallback", cur)
	}
	if n := e.countTickets(); n != 4 {
		t.Fatalf("%d tickets, want 4", n)
	}
}

// The gate of ImportBatchWhenReady runs after parsing and before any
// commit; when it fails, nothing of the batch is written.
func TestImportBatchWhenReady(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	reqs := []ticket.ImportRequest{
		{MailboxID: 607, Raw: msg("a@acme.example", "first", "g1@x"), Source: ticket.SourceIMAP,
			Cursor: &ticket.Cursor{MailboxID: 607, UIDValidity: 5, UID: 1}},
		// Not parseable: imported on its own path, also behind the gate.
		{MailboxID: 607, Raw: []byte("autem"), Source: ticket.SourceIMAP,
			Cursor: &ticket.Cursor{MailboxID: 607, UIDValidity: 5, UID: 2}},
	}
	gateErr := errors.New("the batch before did not commit")
	calls := 0
	res, err := e.svc.ImportBatchWhenReady(ctx, reqs, func() error { calls++; return gateErr })
	if !errors.Is(err, gateErr) || len(res) != 0 || calls != 1 {
		t.Fatalf("closed gate: %d results, %v, %d calls", len(res), err, calls)
	}
	if n := e.countTickets(); n != 0 {
		t.Fatalf("%d tickets written behind a closed gate", n)
	}
	if cur, _ := e.st.Cursor(ctx, 607); cur.UID != 0 {
		t.Fatalf("cursor %+v moved behind a closed gate", cur)
	}
	if q, _ := e.st.QuarantineCount(ctx); q != 0 {
		t.Fatalf("%d quarantined behind a closed gate", q)
	}
	calls = 0
	res, err = e.svc.ImportBatchWhenReady(ctx, reqs, func() error { calls++; return nil })
	if err != nil || len(res) != 2 || calls != 1 {
		t.Fatalf("open gate: %d results, %v, %d calls", len(res), err, calls)
	}
	if cur, _ := e.st.Cursor(ctx, 607); cur.UID != 2 {
		t.Fatalf("cursor %+v, want the last mail's", cur)
	}
}
