package store

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/postdesk/postdesk/ticket"
)

// txn implements ticket.Tx on a writer batch (inside a savepoint) or on a
// read transaction.
type txn struct {
	q        querier
	readOnly bool
	fault    error // first store fault seen by a statement
	// created is the ticket this transaction created, while its
	// updated_at is still the one it was created with (ns): AddMessage
	// need not move it forward when the message is no newer.
	created struct{ id, updatedAt int64 }
}

var _ ticket.Tx = (*txn)(nil)

// fail wraps a statement error with what was being done, classifies it and
// remembers store faults for the committer.
func (t *txn) fail(what string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return notFound{what}
	}
	err = classify(err)
	if errors.Is(err, ticket.ErrUnavailable) && t.fault == nil {
		t.fault = err
	}
	return fmt.Errorf("%s: %w", what, err)
}

// notFound is ticket.ErrNotFound for what, its message made only when
// read: most dedupe and threading lookups of an import find nothing, and
// formatting each answer was half a per cent of the daemon's CPU, on the
// serial committer.
type notFound struct{ what string }

func (e notFound) Error() string { return e.what + ": " + ticket.ErrNotFound.Error() }
func (e notFound) Unwrap() error { return ticket.ErrNotFound }

// writable returns ErrReadOnly inside View.
func (t *txn) writable(what string) error {
	if t.readOnly {
		return fmt.Errorf("%s: %w", what, ErrReadOnly)
	}
	return nil
}

// nanos stores t as Unix nanoseconds; the zero time is NULL.
func nanos(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixNano()
}

// fromNanos is the inverse of nanos, in UTC.
func fromNanos(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.Unix(0, n.Int64).UTC()
}

// nullID stores 0 as NULL (no reference).
func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// lower is the address normalisation used for every e-mail comparison.
func lower(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// Queries of the import path (TestImportPathUsesIndexes checks their plans).
const (
	qLookupDedupe = `SELECT ticket_id FROM messages WHERE dedupe_key = ? AND mailbox_id = ? AND dedupe_key != ''`
	// A Message-ID is found through its dedupe key (messages_dedupe): the
	// oldest message with it, in any mailbox.
	qTicketByMessageID = `SELECT ticket_id FROM messages
		WHERE id = (SELECT min(id) FROM messages WHERE dedupe_key = ? AND dedupe_key != '')`
	qNewTicketsBySender = `SELECT coalesce(sum(n), 0) FROM sender_minutes WHERE sender = ? AND minute >= ?`
	qOpenTickets        = `SELECT open FROM owner_open_tickets WHERE owner = ?`
	qPersonByEmail      = `SELECT ` + personColumns + ` FROM persons WHERE email_lower = ?`
	qTicket             = `SELECT ` + ticketColumns + ` FROM tickets WHERE id = ?`
	qTicketParticipants = `SELECT tk.sender, coalesce(p.email_lower, '')
		FROM tickets tk LEFT JOIN persons p ON p.id = tk.person_id WHERE tk.id = ?`
	qMessageFrom = `SELECT EXISTS (SELECT 1 FROM messages WHERE ticket_id = ? AND from_lower = ?)`
)

func (t *txn) LookupDedupe(mailboxID int64, key string) (int64, error) {
	var id int64
	err := t.q.queryRow(qLookupDedupe, key, mailboxID).Scan(&id)
	return id, t.fail("lookup dedupe key", err)
}

func (t *txn) TicketByMessageID(ids []string) (int64, error) {
	for _, mid := range ids {
		key, ok := ticket.MessageIDKey(mid)
		if !ok {
			continue
		}
		var id int64
		err := t.q.queryRow(qTicketByMessageID, key).Scan(&id)
		if err == nil {
			return id, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return 0, t.fail("ticket by message id", err)
		}
	}
	return 0, notFound{"ticket by message id"}
}

const ticketColumns = `id, mailbox_id, title, status, category, priority, owner,
	person_id, company_id, sender, automatic, created_at, updated_at`

// scanTicket reads a row of ticketColumns.
func scanTicket(r rowScanner) (*ticket.Ticket, error) {
	var (
		tk               ticket.Ticket
		person, company  sql.NullInt64
		created, updated sql.NullInt64
		status           string
	)
	if err := r.Scan(&tk.ID, &tk.MailboxID, &tk.Title, &status, &tk.Category, &tk.Priority, &tk.Owner,
		&person, &company, &tk.Sender, &tk.Automatic, &created, &updated); err != nil {
		return nil, err
	}
	tk.Status = ticket.Status(status)
	tk.PersonID, tk.CompanyID = person.Int64, company.Int64
	tk.CreatedAt, tk.UpdatedAt = fromNanos(created), fromNanos(updated)
	return &tk, nil
}

func (t *txn) Ticket(id int64) (*ticket.Ticket, error) {
	tk, err := scanTicket(t.q.queryRow(qTicket, id))
	if err != nil {
		return nil, t.fail(fmt.Sprintf("ticket %d", id), err)
	}
	return tk, nil
}

// CreateTicket stores tk and sets tk.ID. An empty Status means open, a zero
// CreatedAt now, a zero UpdatedAt CreatedAt; Sender is stored lower case.
func (t *txn) CreateTicket(tk *ticket.Ticket) error {
	if err := t.writable("create ticket"); err != nil {
		return err
	}
	if tk.Status == "" {
		tk.Status = ticket.StatusOpen
	}
	if tk.CreatedAt.IsZero() {
		tk.CreatedAt = time.Now().UTC()
	}
	if tk.UpdatedAt.IsZero() {
		tk.UpdatedAt = tk.CreatedAt
	}
	tk.Sender = lower(tk.Sender)
	res, err := t.q.exec(`INSERT INTO tickets(mailbox_id, title, status, category, priority, owner,
		person_id, company_id, sender, automatic, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		tk.MailboxID, tk.Title, string(tk.Status), tk.Category, tk.Priority, tk.Owner,
		nullID(tk.PersonID), nullID(tk.CompanyID), tk.Sender, boolInt(tk.Automatic),
		tk.CreatedAt.UnixNano(), tk.UpdatedAt.UnixNano())
	if err != nil {
		return t.fail("create ticket", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return t.fail("create ticket", err)
	}
	tk.ID = id
	t.created.id, t.created.updatedAt = id, tk.UpdatedAt.UnixNano()
	return nil
}

func (t *txn) SetTicketStatus(id int64, s ticket.Status, at time.Time) error {
	if err := t.writable("set ticket status"); err != nil {
		return err
	}
	if at.IsZero() {
		at = time.Now()
	}
	if id == t.created.id {
		t.created.id = 0
	}
	res, err := t.q.exec(`UPDATE tickets SET status = ?, updated_at = ? WHERE id = ?`, string(s), at.UnixNano(), id)
	if err != nil {
		return t.fail("set ticket status", err)
	}
	return t.affected(res, fmt.Sprintf("set status of ticket %d", id))
}

// affected turns "no row changed" into ErrNotFound.
func (t *txn) affected(res sql.Result, what string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return t.fail(what, err)
	}
	if n == 0 {
		return fmt.Errorf("%s: %w", what, ticket.ErrNotFound)
	}
	return nil
}

func (t *txn) IsParticipant(ticketID int64, email string) (bool, error) {
	e := lower(email)
	if e == "" {
		return false, nil
	}
	var sender, person string
	err := t.q.queryRow(qTicketParticipants, ticketID).Scan(&sender, &person)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, t.fail("is participant", err)
	}
	if sender == e || person == e {
		return true, nil
	}
	var ok bool
	err = t.q.queryRow(qMessageFrom, ticketID, e).Scan(&ok)
	return ok, t.fail("is participant", err)
}

const personColumns = `id, email, name, company_id`

func scanPerson(r rowScanner) (*ticket.Person, error) {
	var (
		p       ticket.Person
		company sql.NullInt64
	)
	if err := r.Scan(&p.ID, &p.Email, &p.Name, &company); err != nil {
		return nil, err
	}
	p.CompanyID = company.Int64
	return &p, nil
}

func (t *txn) PersonByEmail(email string) (*ticket.Person, error) {
	p, err := scanPerson(t.q.queryRow(qPersonByEmail, lower(email)))
	if err != nil {
		return nil, t.fail("person by email", err)
	}
	return p, nil
}

func (t *txn) Person(id int64) (*ticket.Person, error) {
	p, err := scanPerson(t.q.queryRow(`SELECT `+personColumns+` FROM persons WHERE id = ?`, id))
	if err != nil {
		return nil, t.fail(fmt.Sprintf("person %d", id), err)
	}
	return p, nil
}

// CreatePerson stores p and sets p.ID; an address already known
// (case-insensitive) is ErrDuplicate.
func (t *txn) CreatePerson(p *ticket.Person) error {
	if err := t.writable("create person"); err != nil {
		return err
	}
	if lower(p.Email) == "" {
		return errors.New("create person: empty e-mail address")
	}
	res, err := t.q.exec(`INSERT INTO persons(email, email_lower, name, company_id) VALUES (?, ?, ?, ?)`,
		strings.TrimSpace(p.Email), lower(p.Email), p.Name, nullID(p.CompanyID))
	if err != nil {
		return t.fail("create person", err)
	}
	if p.ID, err = res.LastInsertId(); err != nil {
		return t.fail("create person", err)
	}
	return nil
}

func (t *txn) Company(id int64) (*ticket.Company, error) {
	var c ticket.Company
	err := t.q.queryRow(`SELECT id, name, domain FROM companies WHERE id = ?`, id).Scan(&c.ID, &c.Name, &c.Domain)
	if err != nil {
		return nil, t.fail(fmt.Sprintf("company %d", id), err)
	}
	return &c, nil
}

// EnsureCompany returns the company of domain (lower-cased), creating it
// with name when there is none. An existing company keeps its name.
func (t *txn) EnsureCompany(name, domain string) (*ticket.Company, error) {
	domain = lower(domain)
	if domain == "" {
		return nil, errors.New("ensure company: empty domain")
	}
	if !t.readOnly {
		if _, err := t.q.exec(`INSERT INTO companies(name, domain) VALUES (?, ?) ON CONFLICT(domain) DO NOTHING`,
			name, domain); err != nil {
			return nil, t.fail("ensure company", err)
		}
	}
	var c ticket.Company
	err := t.q.queryRow(`SELECT id, name, domain FROM companies WHERE domain = ?`, domain).Scan(&c.ID, &c.Name, &c.Domain)
	if errors.Is(err, sql.ErrNoRows) && t.readOnly {
		return nil, t.writable("ensure company")
	}
	if err != nil {
		return nil, t.fail("ensure company", err)
	}
	return &c, nil
}

// minuteOf is the sender_minutes bucket of t, as the trigger of migration
// 0005 computes it (both divisions truncate toward zero).
func minuteOf(t time.Time) int64 { return t.UnixNano() / int64(time.Minute) }

func (t *txn) NewTicketsBySender(email string, since time.Time, limit int) (int, error) {
	var n int
	err := t.q.queryRow(qNewTicketsBySender, lower(email), minuteOf(since)).Scan(&n)
	if limit > 0 {
		n = min(n, limit)
	}
	return n, t.fail("count new tickets by sender", err)
}

// OpenTickets reads the per-owner counters the tickets triggers keep, so it
// costs one index lookup per owner however many tickets there are.
func (t *txn) OpenTickets(owners []string) (map[string]int, error) {
	counts := make(map[string]int, len(owners))
	for _, o := range owners {
		if _, done := counts[o]; done {
			continue
		}
		var n int
		err := t.q.queryRow(qOpenTickets, o).Scan(&n)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, t.fail("count open tickets", err)
		}
		counts[o] = n
	}
	return counts, nil
}

// NextRoundRobin returns 0 on the first call for a mailbox, then 1, 2, …
func (t *txn) NextRoundRobin(mailboxID int64) (uint64, error) {
	if err := t.writable("next round robin"); err != nil {
		return 0, err
	}
	var n int64
	err := t.q.queryRow(`INSERT INTO round_robin(mailbox_id, counter) VALUES (?, 1)
		ON CONFLICT(mailbox_id) DO UPDATE SET counter = counter + 1
		RETURNING counter - 1`, mailboxID).Scan(&n)
	if err != nil {
		return 0, t.fail("next round robin", err)
	}
	return uint64(n), nil
}
