package ticket

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Options configure a Service; zero values mean the documented default.
type Options struct {
	Repo      Repository // required
	Mailboxes []Mailbox

	// TicketURL is the TicketUrl template; "{id}" is replaced by the ticket
	// id. Default "/ticket/{id}".
	TicketURL string
	// SubjectTagKey is the follow-up tag in subjects ("ejTag: 1234").
	// Default "ejTag".
	SubjectTagKey string
	// CompanyDomains maps lower-case e-mail domains to company names.
	CompanyDomains map[string]string
	// FreeMailDomains never yield a company; default: a built-in list.
	FreeMailDomains []string
	// SenderCap is the number of new tickets one sender may open per hour;
	// 0 means 50, negative disables the cap.
	SenderCap int
	// MaxSize is the largest message imported, in bytes; 0 means 25 MiB.
	MaxSize int64
	// LoopID is the value of our own X-Loop header; default "postdesk".
	LoopID string

	Now        func() time.Time      // default time.Now
	Logger     *slog.Logger          // default slog.Default()
	Registerer prometheus.Registerer // default: metrics not registered
}

// Service is the import core. It is safe for concurrent use.
type Service struct{}

// NewService checks opts and returns a Service.
func NewService(opts Options) (*Service, error) { panic("in progress") }

// Import is CreateTicketFromMailData. On success the import is durably
// committed. Errors: ErrUnknownMailbox, ErrUnknownPerson, ErrNotMail
// (HTTP source only; other sources quarantine), ErrTooLarge (HTTP source
// only), ErrSenderOverCap (mail quarantined, Result filled), ErrUnavailable.
func (s *Service) Import(ctx context.Context, req ImportRequest) (*Result, error) {
	panic("in progress")
}

// SetMailboxes replaces the mailbox configuration (SIGHUP reload).
func (s *Service) SetMailboxes(mbs []Mailbox) error { panic("in progress") }

// Mailbox returns the configured mailbox with id.
func (s *Service) Mailbox(id int64) (Mailbox, bool) { panic("in progress") }

// Mailboxes returns the configured mailboxes ordered by id.
func (s *Service) Mailboxes() []Mailbox { panic("in progress") }

// TicketInfo returns the TicketInfo of a stored ticket (ErrNotFound).
func (s *Service) TicketInfo(ctx context.Context, id int64) (TicketInfo, error) {
	panic("in progress")
}

// RetryQuarantine imports a quarantined mail again, bypassing the sender
// cap; on success the item leaves the quarantine in the same transaction.
func (s *Service) RetryQuarantine(ctx context.Context, id int64) (*Result, error) {
	panic("in progress")
}
