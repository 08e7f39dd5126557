package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
)

// writer is the committer's connection with its prepared statements. Only
// the committer goroutine uses it (and Close, after the committer exited).
type writer struct {
	db    *sql.DB
	conn  *sql.Conn
	stmts map[string]*sql.Stmt
}

// open returns the writer connection, opening a fresh one when the last was
// discarded.
func (w *writer) open(ctx context.Context) error {
	if w.conn != nil {
		return nil
	}
	c, err := w.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("open writer connection: %w", err)
	}
	w.conn = c
	w.stmts = make(map[string]*sql.Stmt)
	return nil
}

// discard throws the connection away (closing the SQLite handle, not just
// returning it to the pool), so that the next batch starts on a fresh one:
// this is how the store recovers from a file that was read-only, missing
// or on a full disk once the fault is cleared.
func (w *writer) discard() {
	if w.conn == nil {
		return
	}
	for _, st := range w.stmts {
		st.Close()
	}
	_ = w.conn.Raw(func(any) error { return driver.ErrBadConn })
	w.conn.Close()
	w.conn, w.stmts = nil, nil
}

func (w *writer) close() error {
	if w.conn == nil {
		return nil
	}
	var errs []error
	for _, st := range w.stmts {
		errs = append(errs, st.Close())
	}
	errs = append(errs, w.conn.Close())
	w.conn, w.stmts = nil, nil
	return errors.Join(errs...)
}

// stmt returns the cached prepared statement for query.
func (w *writer) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := w.stmts[query]; ok {
		return st, nil
	}
	st, err := w.conn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	w.stmts[query] = st
	return st, nil
}

// autocommit reports whether the connection is outside a transaction (for
// SQLite rolled it back on its own after an I/O error or a full disk).
func (w *writer) autocommit() bool {
	auto := true
	_ = w.conn.Raw(func(dc any) error {
		if c, ok := dc.(interface{ AutoCommit() bool }); ok {
			auto = c.AutoCommit()
		}
		return nil
	})
	return auto
}

// querier runs SQL for a txn: on the writer with cached statements, or on a
// read transaction.
type querier interface {
	exec(query string, args ...any) (sql.Result, error)
	query(query string, args ...any) (*sql.Rows, error)
	queryRow(query string, args ...any) rowScanner
}

type rowScanner interface{ Scan(dest ...any) error }

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// writerQuerier runs statements on the writer. It does not use the callers'
// contexts: interrupting one statement would roll back the transaction the
// whole batch shares.
type writerQuerier struct{ w *writer }

func (q writerQuerier) exec(query string, args ...any) (sql.Result, error) {
	if largeArgs(args) {
		// go-sqlite3 copies arguments into a C buffer kept by the
		// statement and never shrunk: a cached statement would hold a
		// 25 MiB mail's worth of C memory for the life of the process.
		st, err := q.w.conn.PrepareContext(context.Background(), query)
		if err != nil {
			return nil, err
		}
		defer st.Close()
		return st.Exec(args...)
	}
	st, err := q.w.stmt(context.Background(), query)
	if err != nil {
		return nil, err
	}
	return st.Exec(args...)
}

// largeArgThreshold is the argument size above which a statement is not
// taken from the cache. Raw messages and attachments above it are written
// in chunks (chunks.go), which stay below it and use cached statements;
// what still goes this way is large text (bodies) and quarantined mail.
const largeArgThreshold = chunkThreshold

func largeArgs(args []any) bool {
	for _, a := range args {
		switch v := a.(type) {
		case []byte:
			if len(v) > largeArgThreshold {
				return true
			}
		case string:
			if len(v) > largeArgThreshold {
				return true
			}
		}
	}
	return false
}

func (q writerQuerier) query(query string, args ...any) (*sql.Rows, error) {
	st, err := q.w.stmt(context.Background(), query)
	if err != nil {
		return nil, err
	}
	return st.Query(args...)
}

func (q writerQuerier) queryRow(query string, args ...any) rowScanner {
	st, err := q.w.stmt(context.Background(), query)
	if err != nil {
		return errRow{err}
	}
	return st.QueryRow(args...)
}

// readQuerier runs statements in a read transaction under the caller's
// context.
type readQuerier struct {
	ctx context.Context
	tx  *sql.Tx
}

func (q readQuerier) exec(query string, args ...any) (sql.Result, error) {
	return q.tx.ExecContext(q.ctx, query, args...)
}

func (q readQuerier) query(query string, args ...any) (*sql.Rows, error) {
	return q.tx.QueryContext(q.ctx, query, args...)
}

func (q readQuerier) queryRow(query string, args ...any) rowScanner {
	return q.tx.QueryRowContext(q.ctx, query, args...)
}
