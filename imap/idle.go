package imap

import (
	"errors"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
)

// errClosed reports a connection the server (or the network) closed while
// the worker was waiting.
var errClosed = errors.New("connection closed while waiting")

// wait blocks until new mail may be there: in IDLE (RFC 9051 §6.3.13) until
// an EXISTS arrives or the shorter of IdleRestart and PollInterval passes,
// or for PollInterval when IDLE is not offered. It also returns when the
// worker is stopped. timedOut reports that the full interval passed without
// news.
//
// With IdleRecheck set, IDLE ends and starts again that often within the
// interval: ending it makes the server look at the mailbox at once and
// report new mail before its tagged OK, where some servers hold the
// notification of an IDLE back (Dovecot 2.3 by 500 ms).
func (w *worker) wait(s *session) (timedOut bool, err error) {
	if !s.idle {
		return w.waitFor(s, w.cfg.PollInterval)
	}
	// IDLE at most one poll interval: a quiet mailbox still gets a pass
	// (and a fresh last-success time for /readyz and alerts) that often.
	deadline := time.Now().Add(min(w.cfg.IdleRestart, w.cfg.PollInterval))
	for {
		d := time.Until(deadline)
		if r := w.cfg.IdleRecheck; r > 0 && r < d {
			d = r
		}
		timedOut, err := w.idleFor(s, d)
		if err != nil || !timedOut || w.soft.Err() != nil {
			return false, err
		}
		if len(s.newMail) > 0 {
			// The recheck's DONE brought an EXISTS.
			return false, nil
		}
		if !time.Now().Before(deadline) {
			return true, nil
		}
		w.m.idleRechecks.Inc()
	}
}

// idleFor runs one IDLE command for at most d; see waitFor.
func (w *worker) idleFor(s *session, d time.Duration) (timedOut bool, err error) {
	var idle *imapclient.IdleCommand
	if err := s.step("idle", w.cfg.CommandTimeout, func() (err error) {
		idle, err = s.c.Idle()
		return err
	}); err != nil {
		return false, err
	}
	w.log.Debug("imap idling")
	timedOut, waitErr := w.waitFor(s, d)
	// DONE and its tagged OK are one step: a server that stalls here is
	// caught like any other.
	err = s.step("idle done", w.cfg.CommandTimeout, func() error {
		if err := idle.Close(); err != nil {
			return err
		}
		return idle.Wait()
	})
	if waitErr != nil {
		return false, waitErr
	}
	return timedOut, err
}

// waitFor waits d or until new mail, a stop or a closed connection.
func (w *worker) waitFor(s *session, d time.Duration) (timedOut bool, err error) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true, nil
	case <-s.newMail:
		// Keep the signal for pass, which drains it before searching.
		select {
		case s.newMail <- struct{}{}:
		default:
		}
	case <-w.soft.Done():
	case <-s.c.Closed():
		return false, errClosed
	}
	return false, nil
}
