package store

import (
	"context"
	"fmt"

	"github.com/postdesk/postdesk/ticket"
)

// ListQuarantine returns every quarantined mail, newest first, without its
// raw bytes.
func (s *Store) ListQuarantine(ctx context.Context) ([]ticket.QuarantineItem, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+quarantineColumns+` FROM quarantine ORDER BY id DESC`)
	if err != nil {
		return nil, fmt.Errorf("list quarantine: %w", classify(err))
	}
	defer rows.Close()
	var items []ticket.QuarantineItem
	for rows.Next() {
		q, err := scanQuarantine(rows, false)
		if err != nil {
			return nil, fmt.Errorf("list quarantine: %w", classify(err))
		}
		items = append(items, *q)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list quarantine: %w", classify(err))
	}
	return items, nil
}

// QuarantineItem returns one quarantined mail with its raw bytes
// (ticket.ErrNotFound when there is none).
func (s *Store) QuarantineItem(ctx context.Context, id int64) (*ticket.QuarantineItem, error) {
	var q *ticket.QuarantineItem
	err := s.View(ctx, func(tx ticket.Tx) error {
		var err error
		q, err = tx.QuarantineItem(id)
		return err
	})
	return q, err
}

// DropQuarantine deletes a quarantined mail for good (ticket.ErrNotFound
// when there is none).
func (s *Store) DropQuarantine(ctx context.Context, id int64) error {
	return s.Update(ctx, func(tx ticket.Tx) error { return tx.DeleteQuarantine(id) })
}

// QuarantineCount returns the number of quarantined mails.
func (s *Store) QuarantineCount(ctx context.Context) (int, error) {
	var n int
	if err := s.rdb.QueryRowContext(ctx, `SELECT count(*) FROM quarantine`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count quarantine: %w", classify(err))
	}
	return n, nil
}
