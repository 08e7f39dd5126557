package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/postdesk/postdesk/ticket"
)

// ListOptions select tickets for ListTickets and EachTicket.
type ListOptions struct {
	MailboxID int64 // 0: every mailbox
	AfterID   int64 // only tickets with a greater ID (paging)
	Limit     int   // 0: no limit
}

// TicketSummary is a ticket in a listing.
type TicketSummary struct {
	ticket.Ticket
	MessageCount int
	MessageIDs   []string // Message-ID header of every stored message, in order ("" when absent)
}

// StoredAttachment describes a stored attachment; its bytes come from
// Attachment.
type StoredAttachment struct {
	ID, MessageID int64 // MessageID: the stored message's row id
	Filename      string
	ContentType   string
	ContentID     string
	Inline        bool
	Size          int64
	SHA256        string // hex
}

// MessageDetail is a stored message without its raw bytes (see RawMessage)
// and without attachment data (ticket.Message.Raw and .Attachments are nil).
type MessageDetail struct {
	ticket.Message
	Attachments []StoredAttachment
	RawSize     int64
}

// TicketDetail is a ticket with its customer and messages.
type TicketDetail struct {
	ticket.Ticket
	Person   *ticket.Person  // nil: none
	Company  *ticket.Company // nil: none
	Messages []MessageDetail // oldest first
}

// listChunk is how many tickets EachTicket reads per query; no read
// transaction stays open while fn runs.
const listChunk = 500

// ListTickets returns tickets in ID order.
func (s *Store) ListTickets(ctx context.Context, o ListOptions) ([]TicketSummary, error) {
	var out []TicketSummary
	err := s.EachTicket(ctx, o, func(ts TicketSummary) error {
		out = append(out, ts)
		return nil
	})
	return out, err
}

// EachTicket calls fn for every selected ticket in ID order, reading in
// chunks, so that listing a million tickets needs little memory. An error
// from fn stops the walk and is returned.
func (s *Store) EachTicket(ctx context.Context, o ListOptions, fn func(TicketSummary) error) error {
	after, left := o.AfterID, o.Limit
	for {
		n := listChunk
		if o.Limit > 0 && left < n {
			n = left
		}
		if n == 0 {
			return nil
		}
		chunk, err := s.ticketChunk(ctx, o.MailboxID, after, n)
		if err != nil {
			return fmt.Errorf("list tickets: %w", err)
		}
		for _, ts := range chunk {
			if err := fn(ts); err != nil {
				return err
			}
		}
		if len(chunk) < n {
			return nil
		}
		after = chunk[len(chunk)-1].ID
		left -= len(chunk)
	}
}

// ticketChunk reads up to n tickets after id, with their Message-IDs, in
// one read transaction.
func (s *Store) ticketChunk(ctx context.Context, mailboxID, after int64, n int) ([]TicketSummary, error) {
	tx, err := s.rdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, classify(err)
	}
	defer tx.Rollback()
	q := `SELECT ` + ticketColumns + ` FROM tickets WHERE id > ?1 ORDER BY id LIMIT ?2`
	if mailboxID != 0 {
		q = `SELECT ` + ticketColumns + ` FROM tickets WHERE mailbox_id = ?3 AND id > ?1 ORDER BY id LIMIT ?2`
	}
	rows, err := tx.QueryContext(ctx, q, after, n, mailboxID)
	if err != nil {
		return nil, classify(err)
	}
	var chunk []TicketSummary
	index := map[int64]int{}
	for rows.Next() {
		tk, err := scanTicket(rows)
		if err != nil {
			rows.Close()
			return nil, classify(err)
		}
		index[tk.ID] = len(chunk)
		chunk = append(chunk, TicketSummary{Ticket: *tk, MessageIDs: []string{}})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, classify(err)
	}
	if len(chunk) == 0 {
		return nil, nil
	}
	// One index seek per ticket, however sparse a mailbox's tickets are.
	ids := make([]any, len(chunk))
	for i, ts := range chunk {
		ids[i] = ts.ID
	}
	rows, err = tx.QueryContext(ctx, `SELECT ticket_id, message_id FROM messages
		WHERE ticket_id IN (?`+strings.Repeat(", ?", len(ids)-1)+`) ORDER BY ticket_id, id`, ids...)
	if err != nil {
		return nil, classify(err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			tid int64
			mid string
		)
		if err := rows.Scan(&tid, &mid); err != nil {
			return nil, classify(err)
		}
		if i, ok := index[tid]; ok {
			chunk[i].MessageIDs = append(chunk[i].MessageIDs, mid)
			chunk[i].MessageCount++
		}
	}
	if err := rows.Err(); err != nil {
		return nil, classify(err)
	}
	return chunk, nil
}

// TicketDetail returns a ticket with its person, company and messages
// (ticket.ErrNotFound when there is none).
func (s *Store) TicketDetail(ctx context.Context, id int64) (*TicketDetail, error) {
	tx, err := s.rdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("ticket %d: %w", id, classify(err))
	}
	defer tx.Rollback()
	t := &txn{q: readQuerier{ctx: ctx, tx: tx}, readOnly: true}
	tk, err := t.Ticket(id)
	if err != nil {
		return nil, err
	}
	d := &TicketDetail{Ticket: *tk}
	if tk.PersonID != 0 {
		if d.Person, err = t.Person(tk.PersonID); err != nil {
			return nil, err
		}
	}
	if tk.CompanyID != 0 {
		if d.Company, err = t.Company(tk.CompanyID); err != nil {
			return nil, err
		}
	}
	if d.Messages, err = messages(ctx, tx, id); err != nil {
		return nil, fmt.Errorf("ticket %d: %w", id, err)
	}
	return d, nil
}

// messages reads the messages of a ticket with their attachment metadata.
func messages(ctx context.Context, tx *sql.Tx, ticketID int64) ([]MessageDetail, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, ticket_id, mailbox_id, message_id, dedupe_key,
		in_reply_to, refs, from_name, from_email, to_addrs, cc_addrs, subject, date, automatic,
		source, created_at, raw_size, text_body, html_body
		FROM messages WHERE ticket_id = ? ORDER BY id`, ticketID)
	if err != nil {
		return nil, classify(err)
	}
	defer rows.Close()
	var (
		out   []MessageDetail
		index = map[int64]int{}
	)
	for rows.Next() {
		var (
			d                       MessageDetail
			m                       = &d.Message
			inReplyTo, refs, to, cc string
			source                  string
			date, created           sql.NullInt64
		)
		if err := rows.Scan(&m.ID, &m.TicketID, &m.MailboxID, &m.MessageID, &m.DedupeKey,
			&inReplyTo, &refs, &m.From.Name, &m.From.Email, &to, &cc, &m.Subject, &date, &m.Automatic,
			&source, &created, &d.RawSize, &m.TextBody, &m.HTMLBody); err != nil {
			return nil, classify(err)
		}
		if err := errors.Join(fromJSON(inReplyTo, &m.InReplyTo), fromJSON(refs, &m.References),
			fromJSON(to, &m.To), fromJSON(cc, &m.Cc)); err != nil {
			return nil, fmt.Errorf("message %d: decode: %w", m.ID, err)
		}
		m.Source = ticket.Source(source)
		m.Date, m.CreatedAt = fromNanos(date), fromNanos(created)
		index[m.ID] = len(out)
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, classify(err)
	}
	rows.Close()
	if len(out) == 0 {
		return out, nil
	}
	rows, err = tx.QueryContext(ctx, `SELECT `+attachmentColumns+`
		FROM message_attachments a JOIN blobs b ON b.sha256 = a.sha256
		WHERE a.message_id IN (SELECT id FROM messages WHERE ticket_id = ?)
		ORDER BY a.message_id, a.position`, ticketID)
	if err != nil {
		return nil, classify(err)
	}
	defer rows.Close()
	for rows.Next() {
		a, err := scanAttachment(rows)
		if err != nil {
			return nil, classify(err)
		}
		if i, ok := index[a.MessageID]; ok {
			out[i].Attachments = append(out[i].Attachments, a)
		}
	}
	return out, classify(rows.Err())
}

const attachmentColumns = `a.id, a.message_id, a.filename, a.content_type, a.content_id, a.inline, b.size, a.sha256`

func scanAttachment(r rowScanner) (StoredAttachment, error) {
	var a StoredAttachment
	err := r.Scan(&a.ID, &a.MessageID, &a.Filename, &a.ContentType, &a.ContentID, &a.Inline, &a.Size, &a.SHA256)
	return a, err
}

// Attachment returns a stored attachment and its bytes (ticket.ErrNotFound
// when there is none).
func (s *Store) Attachment(ctx context.Context, id int64) (a StoredAttachment, data []byte, err error) {
	return s.TicketAttachment(ctx, 0, id)
}

// TicketAttachment is Attachment of an attachment that a message of ticket
// ticketID holds (any ticket's when ticketID is 0): ticket.ErrNotFound for
// another ticket's. It reads the one attachment, not the ticket.
func (s *Store) TicketAttachment(ctx context.Context, ticketID, id int64) (a StoredAttachment, data []byte, err error) {
	err = s.readTx(ctx, func(tx *sql.Tx) error {
		var inChunks bool
		row := tx.QueryRowContext(ctx, `SELECT `+attachmentColumns+`, b.data, b.chunked
			FROM message_attachments a JOIN blobs b ON b.sha256 = a.sha256 WHERE a.id = ?1
			AND (?2 = 0 OR EXISTS (SELECT 1 FROM messages m WHERE m.id = a.message_id AND m.ticket_id = ?2))`, id, ticketID)
		err := row.Scan(&a.ID, &a.MessageID, &a.Filename, &a.ContentType, &a.ContentID, &a.Inline, &a.Size, &a.SHA256, &data, &inChunks)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("attachment %d: %w", id, ticket.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("attachment %d: %w", id, classify(err))
		}
		if inChunks {
			if data, err = readChunks(ctx, tx, qBlobChunks, a.SHA256, a.Size); err != nil {
				return fmt.Errorf("attachment %d: %w", id, classify(err))
			}
		}
		return nil
	})
	if err != nil {
		return a, nil, err
	}
	if data == nil {
		data = []byte{}
	}
	return a, data, nil
}

// RawMessage returns the raw RFC 822 bytes of a stored message, by its row
// id (ticket.ErrNotFound when there is none).
func (s *Store) RawMessage(ctx context.Context, messageID int64) (raw []byte, err error) {
	return s.TicketRawMessage(ctx, 0, messageID)
}

// TicketRawMessage is RawMessage of a message of ticket ticketID (of any
// ticket when ticketID is 0): ticket.ErrNotFound for another ticket's.
func (s *Store) TicketRawMessage(ctx context.Context, ticketID, messageID int64) (raw []byte, err error) {
	err = s.readTx(ctx, func(tx *sql.Tx) error {
		var size int64
		var inChunks bool
		var holesJSON string
		err := tx.QueryRowContext(ctx, `SELECT raw, raw_size, raw_chunked, raw_holes FROM messages
			WHERE id = ?1 AND (?2 = 0 OR ticket_id = ?2)`, messageID, ticketID).
			Scan(&raw, &size, &inChunks, &holesJSON)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("message %d: %w", messageID, ticket.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("message %d: %w", messageID, classify(err))
		}
		var holes []ticket.RawHole
		if err := fromJSON(holesJSON, &holes); err != nil {
			return fmt.Errorf("message %d: raw_holes: %w", messageID, err)
		}
		if inChunks {
			if raw, err = readChunks(ctx, tx, qRawChunks, messageID, ticket.StoredRawLen(size, holes)); err != nil {
				return fmt.Errorf("message %d: %w", messageID, classify(err))
			}
		}
		if raw == nil {
			raw = []byte{}
		}
		if raw, err = ticket.JoinRaw(raw, holes, size, func(sha string) ([]byte, error) {
			return readBlob(ctx, tx, sha)
		}); err != nil {
			return fmt.Errorf("message %d: %w", messageID, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if raw == nil {
		raw = []byte{}
	}
	return raw, nil
}

// readBlob returns the bytes of the blob sha256.
func readBlob(ctx context.Context, tx *sql.Tx, sha256 string) ([]byte, error) {
	var data []byte
	var size int64
	var inChunks bool
	err := tx.QueryRowContext(ctx, `SELECT data, size, chunked FROM blobs WHERE sha256 = ?`, sha256).Scan(&data, &size, &inChunks)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("blob %s: %w", sha256, ticket.ErrNotFound)
	}
	if err != nil {
		return nil, classify(err)
	}
	if inChunks {
		return readChunks(ctx, tx, qBlobChunks, sha256, size)
	}
	return data, nil
}

// readTx runs fn in one read transaction on the read pool: one snapshot
// (a value and its chunks, a ticket and its messages).
func (s *Store) readTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.rdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("begin read: %w", classify(err))
	}
	defer tx.Rollback()
	return fn(tx)
}
