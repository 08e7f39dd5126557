package imap

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/emersion/go-imap/v2"
)

// ackPlan groups the post-import actions of committed messages.
type ackPlan struct {
	uidValidity uint32
	seen        []imap.UID
	del         []imap.UID
	move        map[string][]imap.UID // folder → UIDs
}

func (p *ackPlan) empty() bool {
	return len(p.seen) == 0 && len(p.del) == 0 && len(p.move) == 0
}

// plan records the action for a committed message: AfterImport for imported
// ones; for quarantined ones a move to QuarantineFolder when set, else
// AfterImport with delete downgraded to seen (a quarantined message is
// never destroyed on the server).
func (w *worker) plan(p *ackPlan, d Disposition, uid imap.UID) {
	action := w.cfg.AfterImport
	if d == Quarantined {
		if w.cfg.QuarantineFolder != "" {
			action = afterMove + w.cfg.QuarantineFolder
		} else if action == AfterDelete {
			action = AfterSeen
		}
	}
	switch {
	case action == AfterDelete:
		p.del = append(p.del, uid)
	case moveTarget(action) != "":
		if p.move == nil {
			p.move = make(map[string][]imap.UID)
		}
		f := moveTarget(action)
		p.move[f] = append(p.move[f], uid)
	default:
		p.seen = append(p.seen, uid)
	}
}

// acknowledge runs the plan. Whatever fails is kept for the next pass; the
// messages are committed already, so a failure here never re-imports.
func (w *worker) acknowledge(s *session, p ackPlan) error {
	if p.empty() {
		return nil
	}
	var errs []error
	var left ackPlan
	left.uidValidity = p.uidValidity
	if len(p.seen) > 0 {
		if err := w.store(s, p.seen, imap.FlagSeen); err != nil {
			errs = append(errs, err)
			left.seen = p.seen
		}
	}
	for _, folder := range slices.Sorted(maps.Keys(p.move)) {
		uids := p.move[folder]
		if err := w.move(s, uids, folder); err != nil {
			errs = append(errs, err)
			if left.move == nil {
				left.move = make(map[string][]imap.UID)
			}
			left.move[folder] = uids
		}
	}
	if len(p.del) > 0 {
		if err := w.delete(s, p.del); err != nil {
			errs = append(errs, err)
			left.del = p.del
		}
	}
	w.pending = mergePlans(w.pending, left)
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("acknowledge: %w", err)
	}
	return nil
}

func mergePlans(a, b ackPlan) ackPlan {
	if a.empty() {
		return b
	}
	if b.empty() || a.uidValidity != b.uidValidity {
		return a
	}
	a.seen = append(a.seen, b.seen...)
	a.del = append(a.del, b.del...)
	for f, uids := range b.move {
		if a.move == nil {
			a.move = make(map[string][]imap.UID)
		}
		a.move[f] = append(a.move[f], uids...)
	}
	return a
}

// store adds flag to uids (UID STORE +FLAGS.SILENT).
func (w *worker) store(s *session, uids []imap.UID, flag imap.Flag) error {
	return s.step(fmt.Sprintf("store %s", flag), w.cfg.CommandTimeout, func() error {
		return s.c.Store(imap.UIDSetNum(uids...), &imap.StoreFlags{
			Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{flag},
		}, nil).Close()
	})
}

// move moves uids to folder: MOVE when offered, else imapclient's COPY +
// STORE \Deleted + (UID) EXPUNGE fallback. A missing folder (TRYCREATE) is
// created once.
func (w *worker) move(s *session, uids []imap.UID, folder string) error {
	run := func() error {
		return s.step(fmt.Sprintf("move to %q", folder), w.cfg.CommandTimeout, func() error {
			_, err := s.c.Move(imap.UIDSetNum(uids...), folder).Wait()
			return err
		})
	}
	err := run()
	var ie *imap.Error
	if errors.As(err, &ie) && ie.Code == imap.ResponseCodeTryCreate {
		w.log.Info("imap creating missing folder", "folder", folder)
		if cerr := s.step(fmt.Sprintf("create %q", folder), w.cfg.CommandTimeout, func() error {
			return s.c.Create(folder, nil).Wait()
		}); cerr != nil {
			return errors.Join(err, cerr)
		}
		err = run()
	}
	return err
}

// delete flags uids \Deleted and expunges them: UID EXPUNGE with UIDPLUS,
// else a plain EXPUNGE (which also removes other \Deleted messages, as any
// client's expunge would).
func (w *worker) delete(s *session, uids []imap.UID) error {
	if err := w.store(s, uids, imap.FlagDeleted); err != nil {
		return err
	}
	return s.step("expunge", w.cfg.CommandTimeout, func() error {
		if s.uidPlus {
			return s.c.UIDExpunge(imap.UIDSetNum(uids...)).Close()
		}
		return s.c.Expunge().Close()
	})
}

// reconcile acknowledges messages at or below the cursor that are committed
// but were never acknowledged: the process died (or the server failed)
// between the commit and the STORE/MOVE/EXPUNGE, and the in-memory pending
// plan died with it. Everything at or below the cursor is committed, so
// the normal action is safe; oversize messages (left on the server by
// design, their bodies not stored) are excluded by SMALLER. A message
// quarantined before the crash gets the normal action instead of the
// quarantine folder; its raw bytes are in the quarantine either way.
func (w *worker) reconcile(s *session, last imap.UID) error {
	if last == 0 {
		return nil
	}
	var set imap.UIDSet
	set.AddRange(1, last)
	criteria := &imap.SearchCriteria{UID: []imap.UIDSet{set}, Smaller: w.cfg.MaxSize + 1}
	if w.cfg.AfterImport == AfterSeen || w.cfg.AfterImport == "" {
		criteria.NotFlag = []imap.Flag{imap.FlagSeen}
	}
	var data *imap.SearchData
	err := s.step("uid search unacknowledged", w.cfg.CommandTimeout, func() (err error) {
		data, err = s.c.UIDSearch(criteria, nil).Wait()
		return err
	})
	if err != nil {
		return err
	}
	uids := slices.DeleteFunc(data.AllUIDs(), func(u imap.UID) bool { return u > last })
	if len(uids) == 0 {
		return nil
	}
	// A message the server serves with an empty body was left on the
	// server on purpose (deliverGroup); it stays there.
	uids, err = w.withBody(s, uids)
	if err != nil || len(uids) == 0 {
		return err
	}
	w.log.Info("imap: acknowledging committed messages left unacknowledged", "count", len(uids), "action", w.cfg.AfterImport)
	plan := ackPlan{uidValidity: s.uidValidity}
	for _, uid := range uids {
		w.plan(&plan, Imported, uid)
	}
	return w.acknowledge(s, plan)
}

// withBody returns the uids whose body the server serves, by fetching the
// first byte of each (BODY.PEEK[]<0.1>).
func (w *worker) withBody(s *session, uids []imap.UID) ([]imap.UID, error) {
	served := make(map[imap.UID]bool, len(uids))
	err := s.step("fetch first bytes", w.cfg.CommandTimeout, func() error {
		cmd := s.c.Fetch(imap.UIDSetNum(uids...), &imap.FetchOptions{
			UID:         true,
			BodySection: []*imap.FetchItemBodySection{{Peek: true, Partial: &imap.SectionPartial{Offset: 0, Size: 1}}},
		})
		for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
			buf, err := msg.Collect() // one byte a message
			if err != nil {
				cmd.Close()
				return err
			}
			for _, b := range buf.BodySection {
				if len(b.Bytes) > 0 {
					served[buf.UID] = true
				}
			}
		}
		return cmd.Close()
	})
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(uids, func(u imap.UID) bool { return !served[u] }), nil
}
