package ticket

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
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

// Defaults of Options.
const (
	DefaultMaxSize       = 25 << 20
	DefaultSenderCap     = 50
	DefaultSubjectTagKey = "ejTag"
	DefaultLoopID        = "postdesk"
	DefaultTicketURL     = "/ticket/{id}"
	// NoSubjectTitle is the Title of a ticket whose mail has no subject.
	NoSubjectTitle = "(no subject)"
	maxTitleRunes  = 255
)

// Service is the import core. It is safe for concurrent use.
type Service struct {
	repo      Repository
	ticketURL string
	tagKey    string
	companies map[string]string
	freeMail  map[string]bool
	senderCap int
	maxSize   int64
	loopID    string
	now       func() time.Time
	log       *slog.Logger
	metrics   *metrics
	threading *threader

	mu        sync.RWMutex
	mailboxes map[int64]Mailbox
}

// NewService checks opts and returns a Service.
func NewService(opts Options) (*Service, error) {
	if opts.Repo == nil {
		return nil, errors.New("ticket: Options.Repo is required")
	}
	s := &Service{
		repo:      opts.Repo,
		ticketURL: opts.TicketURL,
		tagKey:    opts.SubjectTagKey,
		companies: map[string]string{},
		freeMail:  map[string]bool{},
		senderCap: opts.SenderCap,
		maxSize:   opts.MaxSize,
		loopID:    opts.LoopID,
		now:       opts.Now,
		log:       opts.Logger,
	}
	if s.ticketURL == "" {
		s.ticketURL = DefaultTicketURL
	}
	if s.tagKey == "" {
		s.tagKey = DefaultSubjectTagKey
	}
	if s.senderCap == 0 {
		s.senderCap = DefaultSenderCap
	}
	if s.maxSize <= 0 {
		s.maxSize = DefaultMaxSize
	}
	if s.loopID == "" {
		s.loopID = DefaultLoopID
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	for d, name := range opts.CompanyDomains {
		s.companies[strings.ToLower(strings.TrimSpace(d))] = name
	}
	free := opts.FreeMailDomains
	if free == nil {
		free = defaultFreeMailDomains
	}
	for _, d := range free {
		s.freeMail[strings.ToLower(strings.TrimSpace(d))] = true
	}
	var err error
	if s.threading, err = newThreader(s.tagKey); err != nil {
		return nil, err
	}
	if s.metrics, err = newMetrics(opts.Registerer); err != nil {
		return nil, err
	}
	if err := s.SetMailboxes(opts.Mailboxes); err != nil {
		return nil, err
	}
	return s, nil
}

// SetMailboxes replaces the mailbox configuration (SIGHUP reload). On an
// error the previous configuration stays in force.
func (s *Service) SetMailboxes(mbs []Mailbox) error {
	m := make(map[int64]Mailbox, len(mbs))
	var errs []error
	for i := range mbs {
		if err := mbs[i].Validate(); err != nil {
			errs = append(errs, err)
			continue
		}
		if _, dup := m[mbs[i].ID]; dup {
			errs = append(errs, fmt.Errorf("mailbox %d: declared twice", mbs[i].ID))
			continue
		}
		m[mbs[i].ID] = mbs[i]
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	s.mu.Lock()
	s.mailboxes = m
	s.mu.Unlock()
	for id := range m {
		s.metrics.initMailbox(id)
	}
	return nil
}

// Mailbox returns the configured mailbox with id.
func (s *Service) Mailbox(id int64) (Mailbox, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	mb, ok := s.mailboxes[id]
	return mb, ok
}

// Mailboxes returns the configured mailboxes ordered by id.
func (s *Service) Mailboxes() []Mailbox {
	s.mu.RLock()
	out := make([]Mailbox, 0, len(s.mailboxes))
	for _, mb := range s.mailboxes {
		out = append(out, mb)
	}
	s.mu.RUnlock()
	slices.SortFunc(out, func(a, b Mailbox) int { return int(a.ID - b.ID) })
	return out
}

// TicketInfo returns the TicketInfo of a stored ticket (ErrNotFound).
func (s *Service) TicketInfo(ctx context.Context, id int64) (TicketInfo, error) {
	var info TicketInfo
	err := s.repo.View(ctx, func(tx Tx) error {
		var err error
		info, err = s.ticketInfo(tx, id)
		return err
	})
	return info, err
}

// ticketInfo builds the TicketInfo of ticket id inside tx.
func (s *Service) ticketInfo(tx Tx, id int64) (TicketInfo, error) {
	t, err := tx.Ticket(id)
	if err != nil {
		return TicketInfo{}, fmt.Errorf("ticket %d: %w", id, err)
	}
	return s.ticketInfoOf(tx, t, nil)
}

// ticketInfoOf is ticketInfo for a ticket already in hand, and its person
// when known (nil: looked up by t.PersonID). The import uses it so that
// the serial commit does not read back what it has just written.
func (s *Service) ticketInfoOf(tx Tx, t *Ticket, p *Person) (TicketInfo, error) {
	info := TicketInfo{
		TicketID:     t.ID,
		Title:        t.Title,
		OwnerName:    t.Owner,
		CategoryName: t.Category,
		PriorityName: t.Priority,
		TicketURL:    strings.ReplaceAll(s.ticketURL, "{id}", strconv.FormatInt(t.ID, 10)),
	}
	if p != nil && p.ID != t.PersonID {
		p = nil
	}
	if p == nil && t.PersonID > 0 {
		var err error
		p, err = tx.Person(t.PersonID)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return TicketInfo{}, fmt.Errorf("person %d: %w", t.PersonID, err)
		}
	}
	if p != nil {
		info.PersonName = p.Name
		if info.PersonName == "" {
			info.PersonName = p.Email
		}
	}
	if t.CompanyID > 0 {
		c, err := tx.Company(t.CompanyID)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return TicketInfo{}, fmt.Errorf("company %d: %w", t.CompanyID, err)
		}
		if c != nil {
			info.ContactName = c.Name
		}
	}
	return info, nil
}

// title turns a decoded subject into a ticket title.
func title(subject string) string {
	t := strings.Join(strings.Fields(subject), " ")
	if t == "" {
		return NoSubjectTitle
	}
	if r := []rune(t); len(r) > maxTitleRunes {
		t = string(r[:maxTitleRunes-1]) + "…"
	}
	return t
}
