package store

import (
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/postdesk/postdesk/ticket"
)

// fromJSON decodes a TEXT column written by jsonStrings, jsonAddresses or
// jsonHoles; "" decodes to nothing.
func fromJSON(s string, v any) error {
	if s == "" {
		return nil
	}
	return json.Unmarshal([]byte(s), v)
}

// checkDedupeKey holds a message's dedupe key to its Message-ID:
// TicketByMessageID looks a Message-ID up by its key alone.
func checkDedupeKey(messageID, key string) error {
	if want, ok := ticket.MessageIDKey(messageID); ok {
		if key != want {
			return fmt.Errorf("dedupe key %q is not the key of Message-ID %q (%q)", key, messageID, want)
		}
		return nil
	}
	if strings.HasPrefix(key, ticket.MessageIDKeyPrefix) {
		return fmt.Errorf("dedupe key %q names a Message-ID, but the message has none", key)
	}
	return nil
}

const qTouchTicket = `UPDATE tickets SET updated_at = ? WHERE id = ? AND updated_at < ?`

// AddMessage stores m and its attachments (content-addressed: equal bytes
// are kept once); it sets m.ID and moves the ticket's UpdatedAt forward.
// m.DedupeKey is indexed (messages_dedupe): a key the mailbox already holds
// is ErrDuplicate. A message with a Message-ID must carry that ID's key
// (ticket.DedupeKey), through which threading finds it; one without may
// carry a hash key or none. A missing ticket is ticket.ErrNotFound. A zero
// CreatedAt means now.
func (t *txn) AddMessage(m *ticket.Message) error {
	if err := t.writable("add message"); err != nil {
		return err
	}
	if err := checkDedupeKey(m.MessageID, m.DedupeKey); err != nil {
		return fmt.Errorf("add message to ticket %d: %w", m.TicketID, err)
	}
	if m.CreatedAt.IsZero() {
		m.CreatedAt = time.Now().UTC()
	}
	stored, holes, err := rawToStore(m)
	if err != nil {
		return fmt.Errorf("add message to ticket %d: %w", m.TicketID, err)
	}
	raw, inChunks := stored, chunked(len(stored))
	if inChunks {
		raw = []byte{}
	}
	res, err := t.q.exec(`INSERT INTO messages(ticket_id, mailbox_id, message_id, dedupe_key,
		in_reply_to, refs, from_name, from_email, from_lower, to_addrs, cc_addrs, subject, date,
		automatic, source, created_at, raw_size, text_body, html_body, raw, raw_chunked, raw_holes)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.TicketID, m.MailboxID, m.MessageID, m.DedupeKey,
		jsonStrings(m.InReplyTo), jsonStrings(m.References), m.From.Name, m.From.Email, lower(m.From.Email),
		jsonAddresses(m.To), jsonAddresses(m.Cc), m.Subject, nanos(m.Date),
		boolInt(m.Automatic), string(m.Source), m.CreatedAt.UnixNano(), len(m.Raw),
		m.TextBody, m.HTMLBody, raw, boolInt(inChunks), holes)
	if err != nil {
		return t.fail(fmt.Sprintf("add message to ticket %d", m.TicketID), err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return t.fail("add message", err)
	}
	if inChunks {
		if err := t.writeChunks("store raw message", qInsertRawChunk, id, stored); err != nil {
			return err
		}
	}
	for i, a := range m.Attachments {
		if err := t.addAttachment(id, i, a); err != nil {
			return err
		}
	}
	// The first message of a ticket created just now is no newer than
	// the ticket: the UPDATE would change nothing (one statement of a
	// dozen per import).
	if at := m.CreatedAt.UnixNano(); m.TicketID != t.created.id || at > t.created.updatedAt {
		if _, err := t.q.exec(qTouchTicket, at, m.TicketID, at); err != nil {
			return t.fail("touch ticket", err)
		}
		if m.TicketID == t.created.id {
			t.created.updatedAt = at
		}
	}
	m.ID = id
	return nil
}

// rawToStore returns what of m.Raw the store keeps: m.RawStored and the
// JSON of m.RawHoles when the holes fit and each names an attachment of
// m (whose blob the same transaction writes), else m.Raw whole.
func rawToStore(m *ticket.Message) (stored []byte, holes string, err error) {
	if len(m.RawHoles) == 0 {
		return m.Raw, "", nil
	}
	if err := ticket.CheckRawHoles(int64(len(m.RawStored)), m.RawHoles, int64(len(m.Raw))); err != nil {
		return nil, "", err
	}
	for _, h := range m.RawHoles {
		if !slices.ContainsFunc(m.Attachments, func(a ticket.Attachment) bool { return a.SHA256 == h.SHA256 }) {
			return nil, "", fmt.Errorf("raw message hole names attachment %s, which the message does not have", h.SHA256)
		}
	}
	return m.RawStored, jsonHoles(m.RawHoles), nil
}

func (t *txn) addAttachment(messageID int64, position int, a ticket.Attachment) error {
	key := a.SHA256
	if len(key) != 2*sha256.Size {
		sum := sha256.Sum256(a.Data)
		key = hex.EncodeToString(sum[:])
	}
	data, inChunks := a.Data, chunked(len(a.Data))
	if data == nil || inChunks {
		data = []byte{} // NOT NULL: an empty attachment is an empty blob
	}
	res, err := t.q.exec(`INSERT INTO blobs(sha256, size, data, chunked) VALUES (?, ?, ?, ?) ON CONFLICT(sha256) DO NOTHING`,
		key, len(a.Data), data, boolInt(inChunks))
	if err != nil {
		return t.fail("store attachment", err)
	}
	if inChunks {
		// Only the first copy of equal bytes writes them.
		if n, err := res.RowsAffected(); err != nil {
			return t.fail("store attachment", err)
		} else if n == 1 {
			if err := t.writeChunks("store attachment", qInsertBlobChunk, key, a.Data); err != nil {
				return err
			}
		}
	}
	if _, err := t.q.exec(`INSERT INTO message_attachments(message_id, position, filename, content_type,
		content_id, inline, sha256) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		messageID, position, a.Filename, a.ContentType, a.ContentID, boolInt(a.Inline), key); err != nil {
		return t.fail("store attachment", err)
	}
	return nil
}

const qQuarantineByKey = `SELECT id FROM quarantine WHERE mailbox_id = ? AND dedupe_key = ? AND dedupe_key != ''`

// Quarantine stores q and sets q.ID; a pending item with the same mailbox
// and non-empty dedupe key is kept as it is and its ID returned. Size
// defaults to len(q.Raw), a zero CreatedAt to now.
func (t *txn) Quarantine(q *ticket.QuarantineItem) error {
	if err := t.writable("quarantine"); err != nil {
		return err
	}
	if q.DedupeKey != "" {
		var id int64
		err := t.q.queryRow(qQuarantineByKey,
			q.MailboxID, q.DedupeKey).Scan(&id)
		if err == nil {
			q.ID = id
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return t.fail("quarantine", err)
		}
	}
	if q.CreatedAt.IsZero() {
		q.CreatedAt = time.Now().UTC()
	}
	if q.Size == 0 {
		q.Size = int64(len(q.Raw))
	}
	raw := q.Raw
	if raw == nil {
		raw = []byte{}
	}
	res, err := t.q.exec(`INSERT INTO quarantine(mailbox_id, source, reason, retryable, dedupe_key,
		message_id, sender, subject, size, created_at, raw) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		q.MailboxID, string(q.Source), q.Reason, boolInt(q.Retryable), q.DedupeKey,
		q.MessageID, q.Sender, q.Subject, q.Size, q.CreatedAt.UnixNano(), raw)
	if err != nil {
		return t.fail("quarantine", err)
	}
	if q.ID, err = res.LastInsertId(); err != nil {
		return t.fail("quarantine", err)
	}
	return nil
}

const quarantineColumns = `id, mailbox_id, source, reason, retryable, dedupe_key, message_id,
	sender, subject, size, created_at`

// scanQuarantine reads quarantineColumns, plus raw when withRaw.
func scanQuarantine(r rowScanner, withRaw bool) (*ticket.QuarantineItem, error) {
	var (
		q       ticket.QuarantineItem
		source  string
		created sql.NullInt64
	)
	dest := []any{&q.ID, &q.MailboxID, &source, &q.Reason, &q.Retryable, &q.DedupeKey, &q.MessageID,
		&q.Sender, &q.Subject, &q.Size, &created}
	if withRaw {
		dest = append(dest, &q.Raw)
	}
	if err := r.Scan(dest...); err != nil {
		return nil, err
	}
	q.Source = ticket.Source(source)
	q.CreatedAt = fromNanos(created)
	if withRaw && q.Raw == nil {
		q.Raw = []byte{}
	}
	return &q, nil
}

func (t *txn) QuarantineItem(id int64) (*ticket.QuarantineItem, error) {
	q, err := scanQuarantine(t.q.queryRow(`SELECT `+quarantineColumns+`, raw FROM quarantine WHERE id = ?`, id), true)
	if err != nil {
		return nil, t.fail(fmt.Sprintf("quarantine item %d", id), err)
	}
	return q, nil
}

func (t *txn) DeleteQuarantine(id int64) error {
	if err := t.writable("delete quarantine item"); err != nil {
		return err
	}
	res, err := t.q.exec(`DELETE FROM quarantine WHERE id = ?`, id)
	if err != nil {
		return t.fail("delete quarantine item", err)
	}
	return t.affected(res, fmt.Sprintf("delete quarantine item %d", id))
}

// qResolveQuarantine deletes only retryable items (over the sender cap, a
// failed import, a quarantine rule): what a retry would now answer with
// "duplicate". An item kept for its content (unparseable, over the size
// limit) is not the mail that was stored, though it has the Message-ID.
const qResolveQuarantine = `DELETE FROM quarantine WHERE mailbox_id = ? AND dedupe_key = ? AND dedupe_key != '' AND retryable = 1`

func (t *txn) ResolveQuarantine(mailboxID int64, dedupeKey string) error {
	if err := t.writable("resolve quarantine item"); err != nil {
		return err
	}
	if dedupeKey == "" {
		return nil
	}
	_, err := t.q.exec(qResolveQuarantine, mailboxID, dedupeKey)
	return t.fail("resolve quarantine item", err)
}

func (t *txn) SetCursor(c ticket.Cursor) error {
	if err := t.writable("set cursor"); err != nil {
		return err
	}
	_, err := t.q.exec(`INSERT INTO imap_cursors(mailbox_id, uidvalidity, uid) VALUES (?, ?, ?)
		ON CONFLICT(mailbox_id) DO UPDATE SET uidvalidity = excluded.uidvalidity, uid = excluded.uid`,
		c.MailboxID, int64(c.UIDValidity), int64(c.UID))
	return t.fail(fmt.Sprintf("set cursor of mailbox %d", c.MailboxID), err)
}
