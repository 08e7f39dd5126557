package ticket

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
)

// quarantine stores req in the quarantine in a transaction of its own
// (with the IMAP cursor), for mail that never reached apply. m may be nil
// when the mail could not be parsed.
func (s *Service) quarantine(ctx context.Context, log *slog.Logger, req ImportRequest, o importOpts, m *Mail, reason string, retryable bool) (*Result, error) {
	res := &Result{}
	err := s.repo.Update(ctx, func(tx Tx) error {
		*res = Result{}
		if o.retryID > 0 {
			// A retried item that fails again stays where it is.
			res.Outcome, res.QuarantineID, res.Reason = OutcomeQuarantined, o.retryID, reason
			return setCursor(tx, req.Cursor)
		}
		if err := s.quarantineTx(tx, req, m, reason, retryable, res); err != nil {
			return err
		}
		return setCursor(tx, req.Cursor)
	})
	if err != nil {
		return nil, err
	}
	if logsOutcome(req.Source, o) {
		logQuarantined(log, res)
	}
	return res, nil
}

// quarantineTx writes the quarantine item of req inside tx and fills res.
func (s *Service) quarantineTx(tx Tx, req ImportRequest, m *Mail, reason string, retryable bool, res *Result) error {
	q := &QuarantineItem{
		MailboxID: req.MailboxID,
		Source:    req.Source,
		Reason:    reason,
		Retryable: retryable,
		Size:      max(int64(len(req.Raw)), req.Size),
		Raw:       req.Raw,
		CreatedAt: s.now(),
	}
	if m != nil {
		q.MessageID = m.MessageID
		q.Sender = strings.ToLower(m.From.Email)
		q.Subject = m.Subject
	}
	q.DedupeKey = DedupeKey(q.MessageID, req.Raw)
	if err := tx.Quarantine(q); err != nil {
		return fmt.Errorf("quarantine: %w", err)
	}
	res.Outcome, res.QuarantineID, res.Reason = OutcomeQuarantined, q.ID, reason
	return nil
}
