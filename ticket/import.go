package ticket

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// DedupeKey is the key under which a mail is deduplicated within its
// mailbox: its Message-ID, or a hash of the raw bytes when it has none
// (DESIGN "Import semantics" step 2).
func DedupeKey(messageID string, raw []byte) string {
	if key, ok := MessageIDKey(messageID); ok {
		return key
	}
	sum := sha256.Sum256(raw)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// MessageIDKeyPrefix begins the dedupe key of a mail with a Message-ID.
const MessageIDKeyPrefix = "mid:"

// MessageIDKey is the dedupe key of a mail with this Message-ID; ok is
// false for a blank one (DedupeKey hashes the raw bytes instead). The
// store finds a Message-ID for threading by this key.
func MessageIDKey(messageID string) (key string, ok bool) {
	id := strings.TrimSpace(messageID)
	if id == "" {
		return "", false
	}
	return MessageIDKeyPrefix + id, true
}

// importOpts are the internal variations of an import.
type importOpts struct {
	retryID   int64 // a quarantine item being retried: deleted on success
	bypassCap bool  // the sender cap does not apply (operator retry)
}

// Import is CreateTicketFromMailData. On success the import is durably
// committed.
//
// Errors: ErrUnknownMailbox; ErrUnknownPerson; ErrNotMail (HTTP source only:
// other sources quarantine the mail and return a Result); ErrTooLarge (HTTP
// source only); ErrSenderOverCap (HTTP source only: the mail was quarantined
// and Result is filled); ErrQuarantined (HTTP source only: a rule
// quarantined the mail, Result is filled); ErrUnavailable (nothing was
// written; retry later). For the IMAP and CLI sources a quarantined mail is
// a success with Outcome quarantined: its raw bytes are safe in the store.
func (s *Service) Import(ctx context.Context, req ImportRequest) (*Result, error) {
	return s.doImport(ctx, req, importOpts{})
}

// RetryQuarantine imports a quarantined mail again, bypassing the sender
// cap; on success the item leaves the quarantine in the same transaction.
// A mail that is quarantined again stays where it is (Outcome quarantined);
// the core does not log that: the caller (postdesk quarantine retry)
// reports every item's outcome.
func (s *Service) RetryQuarantine(ctx context.Context, id int64) (*Result, error) {
	var q *QuarantineItem
	err := s.repo.View(ctx, func(tx Tx) error {
		var err error
		q, err = tx.QuarantineItem(id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("quarantine item %d: %w", id, err)
	}
	if q.Size > int64(len(q.Raw)) {
		return nil, fmt.Errorf("quarantine item %d: only the header is stored (the %d-byte message is over the size limit and was left on the server): %w",
			id, q.Size, ErrTooLarge)
	}
	src := q.Source
	if src == SourceHTTP {
		// An HTTP caller is gone; errors must quarantine, not bounce.
		src = SourceCLI
	}
	return s.doImport(ctx, ImportRequest{MailboxID: q.MailboxID, Raw: q.Raw, Source: src},
		importOpts{retryID: id, bypassCap: true})
}

func (s *Service) doImport(ctx context.Context, req ImportRequest, o importOpts) (res *Result, err error) {
	start := s.now()
	mb, ok := s.Mailbox(req.MailboxID)
	if !ok {
		return nil, fmt.Errorf("mailbox %d: %w", req.MailboxID, ErrUnknownMailbox)
	}
	switch req.Source {
	case "":
		req.Source = SourceHTTP
	case SourceHTTP, SourceIMAP, SourceCLI:
	default:
		return nil, fmt.Errorf("import source %q: not one of imap, http, cli", req.Source)
	}
	defer func() {
		outcome := OutcomeFailed
		if res != nil {
			outcome = res.Outcome
		}
		s.metrics.observe(mb.ID, req.Source, outcome, s.now().Sub(start))
	}()
	// Every line this import logs names the mailbox and the source. With
	// formats them when it is called, so it is called only for a line that
	// is due: most imports log nothing here.
	log := func() *slog.Logger { return s.log.With("mailbox", mb.ID, "source", string(req.Source)) }

	size := max(int64(len(req.Raw)), req.Size)
	if size > s.maxSize {
		if req.Source == SourceHTTP {
			return nil, fmt.Errorf("%d bytes, limit %d: %w", size, s.maxSize, ErrTooLarge)
		}
		reason := fmt.Sprintf("message too large: %d bytes, limit %d", size, s.maxSize)
		var m *Mail
		if int64(len(req.Raw)) <= s.maxSize {
			// IMAP passes only the header of an oversize message: enough
			// to show the operator what it is.
			m, _ = ParseMail(req.Raw)
		}
		return s.quarantine(ctx, log(), req, o, m, reason, false)
	}

	m, perr := ParseMail(req.Raw)
	if perr != nil {
		if req.Source == SourceHTTP {
			return nil, perr
		}
		return s.quarantine(ctx, log(), req, o, nil, "not importable: "+perr.Error(), false)
	}

	rule := matchRule(mb.Rules, m)
	if rule != nil {
		switch rule.Action {
		case ActionIgnore:
			res := &Result{Outcome: OutcomeIgnored, Reason: "ignored by rule " + ruleName(rule)}
			err := s.repo.Update(ctx, func(tx Tx) error {
				if o.retryID > 0 {
					if err := tx.DeleteQuarantine(o.retryID); err != nil {
						return err
					}
				}
				return setCursor(tx, req.Cursor)
			})
			if err != nil {
				return nil, err
			}
			log().Info("mail ignored", "rule", ruleName(rule), "message_id", m.MessageID)
			return res, nil
		case ActionQuarantine:
			res, err := s.quarantine(ctx, log(), req, o, m, "quarantined by rule "+ruleName(rule), true)
			if err == nil && req.Source == SourceHTTP {
				err = fmt.Errorf("rule %s: %w", ruleName(rule), ErrQuarantined)
			}
			return res, err
		}
	}

	in := s.newIncoming(mb, req, m, rule, s.now(), o.bypassCap)
	res = &Result{}
	err = s.repo.Update(ctx, func(tx Tx) error {
		*res = Result{}
		if err := s.apply(tx, in, res); err != nil {
			return err
		}
		if res.Outcome == OutcomeQuarantined && o.retryID > 0 {
			// Still not importable: the item stays (Quarantine returned its id).
			return setCursor(tx, req.Cursor)
		}
		if o.retryID > 0 {
			if err := tx.DeleteQuarantine(o.retryID); err != nil {
				return fmt.Errorf("leave quarantine: %w", err)
			}
		} else if err := resolveQuarantined(tx, in, res); err != nil {
			return err
		}
		return setCursor(tx, req.Cursor)
	})
	if err != nil {
		if req.Source == SourceHTTP || !quarantinable(ctx, err) {
			return nil, err
		}
		// A mail the core cannot store must not block its IMAP mailbox or
		// be lost: it waits in the quarantine for a fix and a retry.
		return s.quarantine(ctx, log(), req, o, m, "import failed: "+err.Error(), true)
	}
	res.Automatic = in.automatic
	if s.log.Enabled(ctx, slog.LevelDebug) {
		log().Debug("mail imported", "outcome", string(res.Outcome), "ticket", res.Info.TicketID, "automatic", in.automatic)
	}
	if res.Outcome == OutcomeQuarantined {
		if logsOutcome(req.Source, o) {
			logQuarantined(log(), res)
		}
		if req.Source == SourceHTTP {
			return res, ErrSenderOverCap
		}
	}
	return res, nil
}

// incoming is one parsed mail on its way into the store.
type incoming struct {
	mb        Mailbox
	req       ImportRequest
	mail      *Mail
	key       string
	automatic bool
	rule      *Rule
	now       time.Time
	bypassCap bool
	// stored and holes are the raw mail as the store keeps it (splitRaw).
	stored []byte
	holes  []RawHole
	clues  clues // what threading looks up (step 3)
}

// newIncoming prepares a parsed mail for the transaction: everything that
// can be computed before it (dedupe key, robot check, the content address
// of each attachment, the raw mail without the base64 its attachments give
// back, the Message-IDs and subject tag threading looks up) is, so that
// the serial commit does less.
func (s *Service) newIncoming(mb Mailbox, req ImportRequest, m *Mail, rule *Rule, now time.Time, bypassCap bool) *incoming {
	for i := range m.Attachments {
		a := &m.Attachments[i]
		sum := sha256.Sum256(a.Data)
		a.SHA256 = hex.EncodeToString(sum[:])
	}
	stored, holes := splitRaw(req.Raw, m.Attachments)
	return &incoming{
		stored:    stored,
		holes:     holes,
		mb:        mb,
		req:       req,
		mail:      m,
		key:       DedupeKey(m.MessageID, req.Raw),
		automatic: s.isAutomatic(mb, m),
		rule:      rule,
		now:       now,
		bypassCap: bypassCap,
		clues:     s.threading.clues(m),
	}
}

// logsOutcome says whether the core logs a mail's quarantine: not for
// the CLI (postdesk import, quarantine retry), which prints every mail's
// outcome on a line of its own, so that an archive's quarantined mails are
// not each reported twice. A retry (o.retryID) keeps the item's source,
// IMAP say, but only the CLI retries.
func logsOutcome(src Source, o importOpts) bool { return src != SourceCLI && o.retryID == 0 }

// logQuarantined is the core's one line for a mail it quarantined, on a
// logger that names the mailbox (and, for a single import, the source).
func logQuarantined(log *slog.Logger, res *Result) {
	log.Warn("mail quarantined", "reason", res.Reason, "quarantine_id", res.QuarantineID)
}

// resolveQuarantined takes a mail that waited in the quarantine (over the
// sender cap, say) out of it once an import of its own has stored it, or
// found it stored: the quarantine lists only mail still to be dealt with,
// and its gauge and alert count only that.
func resolveQuarantined(tx Tx, in *incoming, res *Result) error {
	switch res.Outcome {
	case OutcomeCreated, OutcomeAppended, OutcomeDuplicate:
	default:
		return nil
	}
	if err := tx.ResolveQuarantine(in.mb.ID, in.key); err != nil {
		return fmt.Errorf("leave quarantine: %w", err)
	}
	return nil
}

// apply runs steps 2-6 of the import inside tx and fills res.
func (s *Service) apply(tx Tx, in *incoming, res *Result) error {
	// Step 2: deduplicate.
	if tid, err := tx.LookupDedupe(in.mb.ID, in.key); err == nil {
		res.Outcome = OutcomeDuplicate
		res.Info, err = s.ticketInfo(tx, tid)
		return err
	} else if !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("dedupe lookup: %w", err)
	}

	// Step 3: follow-up or new.
	var creator *Person // the new ticket's person, for its TicketInfo
	t, err := s.threading.find(tx, in.mail, in.clues)
	if err != nil {
		return err
	}
	if t != nil && t.Status == StatusClosed && in.mb.NewTicketOnClosed {
		t = nil
	}
	if t != nil {
		if t.Status == StatusClosed {
			if err := tx.SetTicketStatus(t.ID, StatusOpen, in.now); err != nil {
				return fmt.Errorf("reopen ticket %d: %w", t.ID, err)
			}
		}
		// The sender becomes a known person too (an unknown PersonId is
		// still an error, which rolls this import back).
		if _, err := s.customer(tx, in); err != nil {
			return err
		}
		res.Outcome = OutcomeAppended
	} else {
		sender := strings.ToLower(in.mail.From.Email)
		if !in.bypassCap && s.senderCap > 0 && sender != "" {
			n, err := tx.NewTicketsBySender(sender, in.now.Add(-time.Hour), s.senderCap)
			if err != nil {
				return fmt.Errorf("sender cap: %w", err)
			}
			if n >= s.senderCap {
				reason := fmt.Sprintf("sender over its cap: %d new tickets in the last hour (limit %d)", n, s.senderCap)
				return s.quarantineTx(tx, in.req, in.mail, reason, true, res)
			}
		}
		person, err := s.customer(tx, in)
		if err != nil {
			return err
		}
		t, err = s.newTicket(tx, in, person)
		if err != nil {
			return err
		}
		res.Outcome = OutcomeCreated
		creator = person
	}

	msg := messageFrom(in, t.ID)
	if err := tx.AddMessage(msg); err != nil {
		return fmt.Errorf("add message: %w", err)
	}
	res.MessageID = msg.ID
	res.Info, err = s.ticketInfoOf(tx, t, creator)
	return err
}

// newTicket routes (step 5) and creates the ticket for in.
func (s *Service) newTicket(tx Tx, in *incoming, person *Person) (*Ticket, error) {
	t := &Ticket{
		MailboxID: in.mb.ID,
		Title:     title(in.mail.Subject),
		Status:    StatusOpen,
		Category:  in.mb.Category,
		Priority:  in.mb.Priority,
		Sender:    strings.ToLower(in.mail.From.Email),
		Automatic: in.automatic,
		CreatedAt: in.now,
		UpdatedAt: in.now,
	}
	owner, err := assignOwner(tx, in.mb)
	if err != nil {
		return nil, err
	}
	t.Owner = owner
	if r := in.rule; r != nil {
		if r.Category != "" {
			t.Category = r.Category
		}
		if r.Priority != "" {
			t.Priority = r.Priority
		}
		if r.Owner != "" {
			t.Owner = r.Owner
		}
	}
	if person != nil {
		t.PersonID = person.ID
		t.CompanyID = person.CompanyID
	}
	if err := tx.CreateTicket(t); err != nil {
		return nil, fmt.Errorf("create ticket: %w", err)
	}
	return t, nil
}

// messageFrom builds the stored message of in on ticket ticketID.
func messageFrom(in *incoming, ticketID int64) *Message {
	m := in.mail
	return &Message{
		TicketID:    ticketID,
		MailboxID:   in.mb.ID,
		MessageID:   m.MessageID,
		DedupeKey:   in.key,
		InReplyTo:   m.InReplyTo,
		References:  m.References,
		From:        m.From,
		To:          m.To,
		Cc:          m.Cc,
		Subject:     m.Subject,
		Date:        m.Date,
		TextBody:    m.TextBody,
		HTMLBody:    m.HTMLBody,
		Automatic:   in.automatic,
		Source:      in.req.Source,
		Raw:         in.req.Raw,
		Attachments: m.Attachments,
		CreatedAt:   in.now,
		RawHoles:    in.holes,
		RawStored:   in.stored,
	}
}

func setCursor(tx Tx, c *Cursor) error {
	if c == nil {
		return nil
	}
	if err := tx.SetCursor(*c); err != nil {
		return fmt.Errorf("set cursor: %w", err)
	}
	return nil
}

// quarantinable reports whether a failed import should be quarantined
// rather than retried: not when the store is unavailable or the caller
// gave up (then nothing is acknowledged and the mail comes again), and not
// for the caller's own mistakes.
func quarantinable(ctx context.Context, err error) bool {
	return ctx.Err() == nil &&
		!errors.Is(err, ErrUnavailable) &&
		!errors.Is(err, ErrUnknownPerson) &&
		!errors.Is(err, context.Canceled) &&
		!errors.Is(err, context.DeadlineExceeded)
}
