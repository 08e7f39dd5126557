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
	res, err := s.Service.Import(ctx, importRequest(m))
	if err != nil {
		return 0, err
	}
	return disposition(res), nil
}

// DeliverBatch imports ms with as few commits as possible (imap.BatchSink):
// parsed first, then committed once ready allows.
func (s *Sink) DeliverBatch(ctx context.Context, ms []imap.Message, ready func() error) ([]imap.Disposition, error) {
	reqs := make([]ticket.ImportRequest, len(ms))
	for i, m := range ms {
		reqs[i] = importRequest(m)
	}
	res, err := s.Service.ImportBatchWhenReady(ctx, reqs, ready)
	disps := make([]imap.Disposition, len(res))
	for i, r := range res {
		disps[i] = disposition(r)
	}
	return disps, err
}

// importRequest is the import of m with its cursor; an oversize message
// carries only its header and the size the server announced.
func importRequest(m imap.Message) ticket.ImportRequest {
	req := ticket.ImportRequest{MailboxID: m.MailboxID, Raw: m.Raw, Source: ticket.SourceIMAP,
		Cursor: &ticket.Cursor{MailboxID: m.MailboxID, UIDValidity: m.UIDValidity, UID: m.UID}}
	if m.Oversize {
		req.Size = m.Size
	}
	return req
}

// disposition tells the poller what became of a committed import.
func disposition(res *ticket.Result) imap.Disposition {
	if res.Outcome == ticket.OutcomeQuarantined {
		return imap.Quarantined
	}
	return imap.Imported
}
