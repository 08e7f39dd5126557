// Package memidle works around a gap in go-imap's in-process server
// (imapserver.SessionTracker.Idle, v2.0.0-beta.8) for the places that serve
// imapmemserver to postdesk: the demo, the benchmark and the test server.
package memidle

import (
	"time"

	"github.com/emersion/go-imap/v2/imapserver"
)

// Idler is the part of an imapserver.Session that IDLE uses.
type Idler interface {
	Poll(w *imapserver.UpdateWriter, allowExpunge bool) error
	Idle(w *imapserver.UpdateWriter, stop <-chan struct{}) error
}

// IdleWithPoll runs s's IDLE so that no update is left waiting: go-imap's
// SessionTracker.Idle (v2.0.0-beta.8) reports only updates queued after it
// began, so a message appended between a client's last command and its
// IDLE was not announced until the client's next command (for postdesk,
// the next poll, a minute later). IdleWithPoll sends what is queued first,
// and again every second, for an update that slips in between that poll
// and the tracker's start.
func IdleWithPoll(s Idler, w *imapserver.UpdateWriter, stop <-chan struct{}) error {
	for {
		if err := s.Poll(w, true); err != nil {
			return err
		}
		inner := make(chan struct{})
		done := make(chan error, 1)
		go func() { done <- s.Idle(w, inner) }()
		t := time.NewTimer(time.Second)
		select {
		case <-stop:
			t.Stop()
			close(inner)
			return <-done
		case err := <-done:
			t.Stop()
			return err
		case <-t.C:
			close(inner)
			if err := <-done; err != nil {
				return err
			}
		}
	}
}

// Session wraps an imapmemserver session so that its IDLE is IdleWithPoll:
// serve Session{mem.NewSession().(imapserver.SessionIMAP4rev2)}.
type Session struct{ imapserver.SessionIMAP4rev2 }

// Idle announces what was queued before IDLE too (IdleWithPoll).
func (s Session) Idle(w *imapserver.UpdateWriter, stop <-chan struct{}) error {
	return IdleWithPoll(s.SessionIMAP4rev2, w, stop)
}
