package ticket

import (
	"context"
	"time"
)

// Repository is the storage the core needs; package store implements it.
//
// Update runs fn inside one write transaction and returns only after that
// transaction is durably committed (or rolled back). Concurrent Update calls
// may share one commit (group commit), each fn isolated in its own savepoint:
// when fn returns an error, only fn's writes are undone and Update returns
// that error. Errors caused by the store itself (busy, read-only, disk full)
// wrap ErrUnavailable. fn must not retain tx.
type Repository interface {
	Update(ctx context.Context, fn func(tx Tx) error) error
	View(ctx context.Context, fn func(tx Tx) error) error
}

// Tx is one transaction's view of the store. Lookups that find nothing
// return ErrNotFound (wrapped).
type Tx interface {
	// LookupDedupe returns the ticket a mail with this dedupe key was
	// imported into in this mailbox.
	LookupDedupe(mailboxID int64, key string) (ticketID int64, err error)
	// TicketByMessageID returns the ticket holding a message whose Message-ID
	// is one of ids, trying ids in order.
	TicketByMessageID(ids []string) (ticketID int64, err error)
	Ticket(id int64) (*Ticket, error)
	CreateTicket(t *Ticket) error // sets ID
	SetTicketStatus(id int64, s Status, at time.Time) error
	// IsParticipant reports whether email (case-insensitive) sent a message
	// on, or is the person of, the ticket.
	IsParticipant(ticketID int64, email string) (bool, error)

	PersonByEmail(email string) (*Person, error)
	Person(id int64) (*Person, error)
	CreatePerson(p *Person) error // sets ID
	Company(id int64) (*Company, error)
	// EnsureCompany returns the company for the domain, creating it with name.
	EnsureCompany(name, domain string) (*Company, error)

	// AddMessage stores m with its attachments (content-addressed) under
	// m.DedupeKey, which LookupDedupe finds; a message with a Message-ID
	// carries DedupeKey of it, through which TicketByMessageID finds it;
	// sets m.ID.
	AddMessage(m *Message) error

	// NewTicketsBySender counts tickets opened by mails from email since,
	// to the minute (a ticket up to a minute older may count), at most
	// limit (0: no limit). Its cost does not grow with the count.
	NewTicketsBySender(email string, since time.Time, limit int) (int, error)
	// OpenTickets counts open tickets per owner name for the given owners.
	OpenTickets(owners []string) (map[string]int, error)
	// NextRoundRobin returns a per-mailbox counter, incremented on each call.
	NextRoundRobin(mailboxID int64) (uint64, error)

	// Quarantine stores q (sets ID). A pending item with the same mailbox
	// and dedupe key is not stored twice: its ID is returned instead.
	Quarantine(q *QuarantineItem) error
	QuarantineItem(id int64) (*QuarantineItem, error)
	DeleteQuarantine(id int64) error
	// ResolveQuarantine deletes the retryable item of mailboxID with
	// dedupeKey, if there is one: the mail waited in the quarantine (over
	// the sender cap, say) and an import of its own has now stored it, so
	// a retry would only answer "duplicate".
	ResolveQuarantine(mailboxID int64, dedupeKey string) error

	// SetCursor records the IMAP position of c.MailboxID.
	SetCursor(c Cursor) error
}
