package imap

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"sync"
	"time"
)

// errSink marks a failure of the Sink (store unavailable): nothing was
// committed, so nothing is acknowledged and the pass is retried later.
var errSink = errors.New("sink")

// worker polls one mailbox. It owns its connection; its Status is read
// concurrently under mu.
type worker struct {
	cfg    Config
	sink   Sink
	log    *slog.Logger
	m      *mailboxMetrics
	now    func() time.Time
	dial   func(ctx context.Context, network, addr string) (net.Conn, error)
	tokens *tokenSource // xoauth2 only

	backoffMin, backoffMax time.Duration

	soft   context.Context // cancelled: stop fetching
	hard   context.Context // cancelled: abandon in-flight work, close at once
	cancel context.CancelFunc
	abort  context.CancelFunc
	done   chan struct{}

	// pending holds acknowledgements that failed after their commit; they
	// are retried on the next pass under the same UIDVALIDITY.
	pending ackPlan

	mu     sync.Mutex
	status Status
}

// run is the worker goroutine: sessions separated by backoff until stopped.
func (w *worker) run() {
	defer close(w.done)
	attempt := 0
	for {
		progressed, err := w.safeSession()
		if w.soft.Err() != nil {
			return
		}
		if progressed {
			attempt = 0
		}
		attempt++
		if errors.Is(err, errAuth) && attempt < 5 {
			// Rejected credentials will not heal in a second, and fast
			// retries can lock the account: start at 16× the minimum.
			attempt = 5
		}
		delay := backoff(attempt, w.backoffMin, w.backoffMax)
		w.setError(err)
		w.log.Warn("imap session failed", "err", err, "retry_in", delay.Round(time.Millisecond))
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-w.soft.Done():
			t.Stop()
			return
		}
		w.m.reconnects.Inc()
	}
}

// safeSession runs one session, turning a panic into an error.
func (w *worker) safeSession() (progressed bool, err error) {
	defer func() {
		if v := recover(); v != nil {
			w.m.panics.Inc()
			w.m.connected.Set(0)
			w.log.Error("imap worker panicked; restarting", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			err = fmt.Errorf("panic: %v", v)
		}
	}()
	return w.session()
}

// session connects, selects the folder and alternates sync passes with
// waiting for new mail until an error or a stop. progressed reports whether
// at least one pass succeeded, which resets the backoff.
func (w *worker) session() (progressed bool, err error) {
	s, err := w.dialSession(w.soft, w.hard)
	if err != nil {
		w.m.pollsErr.Inc()
		if errors.Is(err, errAuth) {
			w.m.authFailures.Inc()
		}
		return false, err
	}
	defer s.close()
	if err := w.selectFolder(s); err != nil {
		w.m.pollsErr.Inc()
		return false, err
	}
	w.m.connected.Set(1)
	w.setConnected(true)
	defer func() {
		w.m.connected.Set(0)
		w.setConnected(false)
	}()

	sinkFailures := 0
	fresh := true
	for {
		err := w.pass(s, fresh)
		fresh = false
		switch {
		case err == nil:
			sinkFailures = 0
			progressed = true
			w.m.pollsOK.Inc()
			now := w.now()
			w.m.lastSuccess.Set(float64(now.UnixNano()) / 1e9)
			w.setSuccess(now)
			if w.tokens != nil {
				// The session stays authenticated, but renew the access
				// token ahead of time: the next login needs one, and the
				// expiry gauge then shows a refresh that keeps failing.
				if err := w.tokens.RenewBefore(w.hard, tokenRenewAhead); err != nil {
					w.log.Warn("imap oauth token renewal failed; the session stays logged in", "err", err)
				}
			}
		case errors.Is(err, errSink):
			// The store is unavailable: keep the connection and retry the
			// pass later; nothing was acknowledged.
			w.m.pollsErr.Inc()
			w.setError(err)
			sinkFailures++
			delay := backoff(sinkFailures, w.backoffMin, w.backoffMax)
			w.log.Warn("imap delivery failed; will retry", "err", err, "retry_in", delay.Round(time.Millisecond))
			if !w.sleep(s, delay) {
				return progressed, nil
			}
			continue
		default:
			w.m.pollsErr.Inc()
			return progressed, err
		}
		if w.soft.Err() != nil {
			return progressed, nil
		}
		timedOut, err := w.wait(s)
		if err != nil {
			w.m.pollsErr.Inc()
			return progressed, err
		}
		if w.soft.Err() != nil {
			return progressed, nil
		}
		if timedOut {
			// A quiet interval: SELECT again instead of NOOP, so that a
			// folder deleted and re-created under us (new UIDVALIDITY) is
			// noticed even by servers that do not say so.
			if err := w.selectFolder(s); err != nil {
				w.m.pollsErr.Inc()
				return progressed, err
			}
			fresh = true
		}
	}
}

// sleep waits d, returning false when the worker is stopped meanwhile.
func (w *worker) sleep(s *session, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-w.soft.Done():
		return false
	case <-s.c.Closed():
		return true // the next command reports the error
	}
}

func (w *worker) setConnected(v bool) {
	w.mu.Lock()
	w.status.Connected = v
	w.mu.Unlock()
}

func (w *worker) setSuccess(t time.Time) {
	w.mu.Lock()
	w.status.LastSuccess = t
	w.status.LastError = ""
	w.mu.Unlock()
}

func (w *worker) setError(err error) {
	if err == nil {
		return
	}
	w.mu.Lock()
	w.status.LastError = err.Error()
	w.mu.Unlock()
}

func (w *worker) setBacklog(n int) {
	w.m.backlog.Set(float64(n))
	w.mu.Lock()
	w.status.Backlog = n
	w.mu.Unlock()
}

func (w *worker) getStatus() Status {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.status
}
