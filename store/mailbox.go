package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/postdesk/postdesk/ticket"
)

// Cursor returns the stored IMAP position of a mailbox; a mailbox never
// polled has the zero Cursor{MailboxID: mailboxID}.
func (s *Store) Cursor(ctx context.Context, mailboxID int64) (ticket.Cursor, error) {
	c := ticket.Cursor{MailboxID: mailboxID}
	var validity, uid int64
	err := s.rdb.QueryRowContext(ctx, `SELECT uidvalidity, uid FROM imap_cursors WHERE mailbox_id = ?`, mailboxID).
		Scan(&validity, &uid)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return c, nil
	case err != nil:
		return c, fmt.Errorf("cursor of mailbox %d: %w", mailboxID, classify(err))
	}
	c.UIDValidity, c.UID = uint32(validity), uint32(uid)
	return c, nil
}

// SyncMailboxes records the configured mailboxes (id, name, address).
// Mailboxes no longer configured stay: their tickets still refer to them.
func (s *Store) SyncMailboxes(ctx context.Context, mbs []ticket.Mailbox) error {
	return s.Update(ctx, func(tx ticket.Tx) error {
		t := tx.(*txn)
		for _, mb := range mbs {
			if _, err := t.q.exec(`INSERT INTO mailboxes(id, name, address) VALUES (?, ?, ?)
				ON CONFLICT(id) DO UPDATE SET name = excluded.name, address = excluded.address`,
				mb.ID, mb.Name, mb.Address); err != nil {
				return t.fail(fmt.Sprintf("sync mailbox %d", mb.ID), err)
			}
		}
		return nil
	})
}

// OAuthToken returns the stored OAuth2 refresh token of a mailbox, "" when
// there is none.
func (s *Store) OAuthToken(ctx context.Context, mailboxID int64) (string, error) {
	var tok string
	err := s.rdb.QueryRowContext(ctx, `SELECT refresh_token FROM oauth_tokens WHERE mailbox_id = ?`, mailboxID).Scan(&tok)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("oauth token of mailbox %d: %w", mailboxID, classify(err))
	}
	return tok, nil
}

// SaveOAuthToken durably stores a (rotated) refresh token of a mailbox;
// "" deletes it.
func (s *Store) SaveOAuthToken(ctx context.Context, mailboxID int64, refresh string) error {
	return s.Update(ctx, func(tx ticket.Tx) error {
		t := tx.(*txn)
		var err error
		if refresh == "" {
			_, err = t.q.exec(`DELETE FROM oauth_tokens WHERE mailbox_id = ?`, mailboxID)
		} else {
			_, err = t.q.exec(`INSERT INTO oauth_tokens(mailbox_id, refresh_token, updated_at) VALUES (?, ?, ?)
				ON CONFLICT(mailbox_id) DO UPDATE SET refresh_token = excluded.refresh_token,
				updated_at = excluded.updated_at`, mailboxID, refresh, time.Now().UnixNano())
		}
		return t.fail(fmt.Sprintf("save oauth token of mailbox %d", mailboxID), err)
	})
}
