package daemon

import (
	"context"

	"github.com/postdesk/postdesk/imap"
	"github.com/postdesk/postdesk/store"
	"github.com/postdesk/postdesk/ticket"
)

// Sink hands the IMAP pollers' messages to the import core: the cursor is
// committed in the same transaction as the import (two phases, one truth).
type Sink struct {
	Service *ticket.Service
	Store   *store.Store
}

// Cursor returns the stored position of a mailbox.
func (s *Sink) Cursor(ctx context.Context, mailboxID int64) (imap.Cursor, error) {
	c, err := s.Store.Cursor(ctx, mailboxID)
	if err != nil {
		return imap.Cursor{}, err
	}
	return imap.Cursor{UIDValidity: c.UIDValidity, UID: c.UID}, nil
}

// Deliver imports m and its cursor durably. An error means nothing was
// committed and the poller must not acknowledge the message.
func (s *Sink) Deliver(ctx context.Context, m imap.Message) (imap.Disposition, error) {
	cur := ticket.Cursor{MailboxID: m.MailboxID, UIDValidity: m.UIDValidity, UID: m.UID}
	req := ticket.ImportRequest{MailboxID: m.MailboxID, Raw: m.Raw, Source: ticket.SourceIMAP, Cursor: &cur}
	if m.Oversize {
		req.Size = m.Size
	}
	res, err := s.Service.Import(ctx, req)
	if err != nil {
		return 0, err
	}
	if res.Outcome == ticket.OutcomeQuarantined {
		return imap.Quarantined, nil
	}
	return imap.Imported, nil
}

// DeliverBatch imports ms with as few commits as possible (imap.BatchSink).
func (s *Sink) DeliverBatch(ctx context.Context, ms []imap.Message) ([]imap.Disposition, error) {
	reqs := make([]ticket.ImportRequest, len(ms))
	for i, m := range ms {
		reqs[i] = ticket.ImportRequest{MailboxID: m.MailboxID, Raw: m.Raw, Source: ticket.SourceIMAP,
			Cursor: &ticket.Cursor{MailboxID: m.MailboxID, UIDValidity: m.UIDValidity, UID: m.UID}}
		if m.Oversize {
			reqs[i].Size = m.Size
		}
	}
	res, err := s.Service.ImportBatch(ctx, reqs)
	disps := make([]imap.Disposition, len(res))
	for i, r := range res {
		if r.Outcome == ticket.OutcomeQuarantined {
			disps[i] = imap.Quarantined
		}
	}
	return disps, err
}
