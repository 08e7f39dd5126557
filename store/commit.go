package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/postdesk/postdesk/ticket"
)

// request is one queued Update.
type request struct {
	ctx  context.Context
	fn   func(ticket.Tx) error
	done chan error // buffered 1; answered exactly once
	// probe marks Ping's write, which says nothing about whether the store
	// takes real writes again after a fault (see noteHealth).
	probe bool
}

// Update runs fn in a write transaction and returns after it is durably
// committed (or rolled back). Concurrent Updates share a commit, each fn in
// its own savepoint; an error or panic in fn undoes only fn's writes and is
// returned to that caller alone. Should the shared transaction fail (BEGIN,
// COMMIT, a fault that makes SQLite roll back), every caller whose fn
// succeeded gets that error, wrapping ticket.ErrUnavailable when the store
// is at fault, and nothing of the batch is written.
//
// When ctx is done before fn runs, Update returns ctx.Err() and writes
// nothing; once fn has run, Update waits for the commit regardless of ctx,
// so its answer is always the truth. fn runs on the committer goroutine: it
// must not call Update, block for long or retain tx.
func (s *Store) Update(ctx context.Context, fn func(ticket.Tx) error) error {
	return s.update(ctx, fn, false)
}

func (s *Store) update(ctx context.Context, fn func(ticket.Tx) error, probe bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	req := &request{ctx: ctx, fn: fn, done: make(chan error, 1), probe: probe}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return ErrClosed
	}
	select {
	case s.queue <- req:
	case <-ctx.Done():
		s.mu.RUnlock()
		return ctx.Err()
	}
	s.mu.RUnlock()
	return <-req.done
}

// View runs fn in a read transaction: a consistent snapshot that does not
// wait for writers. Writes through tx fail with ErrReadOnly.
func (s *Store) View(ctx context.Context, fn func(ticket.Tx) error) error {
	return s.readTx(ctx, func(tx *sql.Tx) error {
		return s.call(fn, &txn{q: readQuerier{ctx: ctx, tx: tx}, readOnly: true})
	})
}

// call runs fn, turning a panic into an error.
func (s *Store) call(fn func(ticket.Tx) error, t *txn) (err error) {
	defer func() {
		if p := recover(); p != nil {
			s.metrics.panics.Inc()
			s.log.Error("panic in store transaction function", "panic", p, "stack", string(debug.Stack()))
			err = fmt.Errorf("store transaction function panicked: %v", p)
		}
	}()
	return fn(t)
}

// commitLoop is the committer goroutine: it owns the writer connection and
// runs queued requests in batches until Close closes the queue.
func (s *Store) commitLoop() {
	defer close(s.done)
	for {
		req, ok := <-s.queue
		if !ok {
			return
		}
		batch := []*request{req}
	fill:
		for len(batch) < s.maxBatch {
			select {
			case r, ok := <-s.queue:
				if !ok {
					break fill
				}
				batch = append(batch, r)
			default:
				break fill
			}
		}
		s.safeRunBatch(batch)
	}
}

// safeRunBatch runs a batch; should the store's own code panic, every
// request still waiting gets an error and the writer starts afresh.
func (s *Store) safeRunBatch(batch []*request) {
	defer func() {
		if p := recover(); p != nil {
			s.metrics.panics.Inc()
			s.log.Error("panic in store committer", "panic", p, "stack", string(debug.Stack()))
			s.w.discard()
			err := fmt.Errorf("%w: store committer panicked: %v", ticket.ErrUnavailable, p)
			for _, r := range batch {
				select {
				case r.done <- err:
				default:
				}
			}
		}
	}()
	start := time.Now()
	results, committed := s.runBatch(batch)
	s.metrics.observe(len(batch), time.Since(start), committed)
	s.noteHealth(batch, results)
	for i, r := range batch {
		r.done <- results[i]
	}
}

// runBatch runs every request of batch in one transaction and returns each
// request's answer, known only once COMMIT has returned, and whether the
// batch committed.
func (s *Store) runBatch(batch []*request) ([]error, bool) {
	results := make([]error, len(batch))
	w := s.w
	if err := w.open(context.Background()); err != nil {
		err = fmt.Errorf("%w: %w", ticket.ErrUnavailable, err)
		for i := range results {
			results[i] = err
		}
		return results, false
	}
	q := writerQuerier{w}
	// A store fault other than a lock held elsewhere, or a failed
	// rollback, replaces the connection after the batch.
	var fault error
	reopen := false
	defer func() {
		if reopen || (fault != nil && !isTransient(fault)) {
			s.log.Warn("store fault, reopening writer connection", "err", fault)
			w.discard()
		}
	}()
	abort := func(what string, err error) ([]error, bool) {
		err = fmt.Errorf("%s: %w", what, classify(err))
		if fault == nil {
			fault = err
		}
		if !w.autocommit() {
			if _, rerr := q.exec("ROLLBACK"); rerr != nil {
				reopen = true
			}
		}
		for i := range results {
			// Requests whose fn failed keep their own error: they wrote
			// nothing either way.
			if results[i] == nil || !errors.Is(results[i], errFnFailed) {
				results[i] = err
			}
		}
		for i := range results {
			results[i] = unwrapFnFailed(results[i])
		}
		return results, false
	}

	if _, err := q.exec("BEGIN IMMEDIATE"); err != nil {
		return abort("begin", err)
	}
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			results[i] = fnFailed{err}
			continue
		}
		if _, err := q.exec("SAVEPOINT fn"); err != nil {
			return abort("savepoint", err)
		}
		t := &txn{q: q}
		err := s.call(r.fn, t)
		if t.fault != nil && fault == nil {
			fault = t.fault
		}
		if err == nil {
			if _, err := q.exec("RELEASE fn"); err != nil {
				return abort("release savepoint", err)
			}
			continue
		}
		results[i] = fnFailed{err}
		if w.autocommit() {
			// SQLite rolled the whole transaction back (I/O error, full
			// disk): the writes of earlier requests are gone too.
			return abort("transaction lost", fmt.Errorf("%w: %w", ticket.ErrUnavailable, err))
		}
		if _, rerr := q.exec("ROLLBACK TO fn"); rerr != nil {
			return abort("rollback to savepoint", rerr)
		}
		if _, rerr := q.exec("RELEASE fn"); rerr != nil {
			return abort("release savepoint", rerr)
		}
	}
	if _, err := q.exec("COMMIT"); err != nil {
		return abort("commit", err)
	}
	for i := range results {
		results[i] = unwrapFnFailed(results[i])
	}
	return results, true
}

// errFnFailed marks, inside runBatch, the answers that are the request's
// own error rather than the batch's.
var errFnFailed = errors.New("update function failed")

type fnFailed struct{ err error }

func (f fnFailed) Error() string        { return f.err.Error() }
func (f fnFailed) Is(target error) bool { return target == errFnFailed }
func (f fnFailed) Unwrap() error        { return f.err }

func unwrapFnFailed(err error) error {
	var f fnFailed
	if errors.As(err, &f) {
		return f.err
	}
	return err
}

// storeFault is the last write that failed because of the store (read-only,
// full, I/O error; not a lock held elsewhere).
type storeFault struct {
	at  time.Time
	err error
}

// noteHealth remembers a store fault among results, and forgets it once a
// real write (not Ping's) has committed after it. A full disk can still take
// Ping's few bytes where the WAL file has room, while every import fails.
func (s *Store) noteHealth(batch []*request, results []error) {
	var fault error
	wrote := false
	for i, err := range results {
		switch {
		case err == nil:
			wrote = wrote || !batch[i].probe
		case fault == nil && errors.Is(err, ticket.ErrUnavailable) && !isTransient(err):
			fault = err
		}
	}
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	switch {
	case fault != nil:
		s.fault = &storeFault{at: time.Now(), err: fault}
	case wrote:
		s.fault = nil
	}
}

// RecentFault returns when and why a write failed because of the store, if
// that happened within the last window and no write has succeeded since;
// zero and nil otherwise. /readyz reports it: Ping alone can succeed on a
// store that refuses real writes.
func (s *Store) RecentFault(window time.Duration) (time.Time, error) {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	if s.fault == nil || time.Since(s.fault.at) > window {
		return time.Time{}, nil
	}
	return s.fault.at, s.fault.err
}
