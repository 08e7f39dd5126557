package store

import (
	"errors"
	"fmt"

	"github.com/mattn/go-sqlite3"

	"github.com/postdesk/postdesk/ticket"
)

// Sentinel errors of the store, for errors.Is.
var (
	// ErrDuplicate: a unique key already exists (a replayed dedupe key, a
	// second person with the same address).
	ErrDuplicate = errors.New("duplicate")
	// ErrClosed: the Store was closed. It wraps ticket.ErrUnavailable: a
	// request that arrives during shutdown should be retried later.
	ErrClosed = fmt.Errorf("store closed: %w", ticket.ErrUnavailable)
	// ErrReadOnly: a write was attempted inside View.
	ErrReadOnly = errors.New("write in a read-only transaction")
)

// unavailableCodes are SQLite results that say the store cannot take
// writes right now; they become ticket.ErrUnavailable.
var unavailableCodes = [...]sqlite3.ErrNo{
	sqlite3.ErrBusy, sqlite3.ErrLocked, sqlite3.ErrReadonly, sqlite3.ErrFull,
	sqlite3.ErrIoErr, sqlite3.ErrCantOpen, sqlite3.ErrNomem, sqlite3.ErrProtocol,
	sqlite3.ErrNotADB, sqlite3.ErrCorrupt,
}

// sqliteCode returns the SQLite result code in err's chain, or 0.
func sqliteCode(err error) sqlite3.ErrNo {
	var se sqlite3.Error
	if errors.As(err, &se) {
		return se.Code
	}
	return 0
}

// isUnavailable reports whether err is a SQLite fault of the store itself.
func isUnavailable(err error) bool {
	code := sqliteCode(err)
	for _, c := range unavailableCodes {
		if code == c {
			return true
		}
	}
	return false
}

// isTransient reports whether err goes away by waiting (another connection
// holds the lock) rather than by reopening the connection.
func isTransient(err error) bool {
	code := sqliteCode(err)
	return code == sqlite3.ErrBusy || code == sqlite3.ErrLocked
}

// classify wraps SQLite errors with the sentinel callers branch on:
// ticket.ErrUnavailable for faults of the store, ErrDuplicate for unique
// keys, ticket.ErrNotFound for references to missing records. Other errors
// are returned unchanged.
func classify(err error) error {
	if err == nil || errors.Is(err, ticket.ErrUnavailable) {
		return err
	}
	var se sqlite3.Error
	if !errors.As(err, &se) {
		return err
	}
	switch {
	case isUnavailable(err):
		return fmt.Errorf("%w: %w", ticket.ErrUnavailable, err)
	case se.ExtendedCode == sqlite3.ErrConstraintUnique || se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey:
		return fmt.Errorf("%w: %w", ErrDuplicate, err)
	case se.ExtendedCode == sqlite3.ErrConstraintForeignKey:
		return fmt.Errorf("referenced record: %w: %w", ticket.ErrNotFound, err)
	}
	return err
}
