package imap

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

const (
	// groupBytes bounds the message bytes held in memory between a body
	// FETCH and the deliveries (a single message may exceed it).
	groupBytes = 32 << 20
	// sizeSlack tolerates literals slightly larger than RFC822.SIZE.
	sizeSlack = 64 << 10
)

// selectFolder selects the configured folder and records its UIDVALIDITY
// and the capabilities the worker relies on.
func (w *worker) selectFolder(s *session) error {
	var sel *imap.SelectData
	err := s.step(fmt.Sprintf("select %q", w.cfg.Folder), w.cfg.CommandTimeout, func() (err error) {
		sel, err = s.c.Select(w.cfg.Folder, nil).Wait()
		if err != nil {
			return err
		}
		caps := s.c.Caps() // may send CAPABILITY
		s.idle = caps.Has(imap.CapIdle) && !w.cfg.DisableIdle
		s.move = caps.Has(imap.CapMove)
		s.uidPlus = caps.Has(imap.CapUIDPlus)
		return nil
	})
	if err != nil {
		return err
	}
	s.uidValidity = sel.UIDValidity
	s.uidNext = sel.UIDNext
	w.log.Debug("imap folder selected", "folder", w.cfg.Folder, "uidvalidity", sel.UIDValidity,
		"messages", sel.NumMessages, "idle", s.idle, "move", s.move, "uidplus", s.uidPlus)
	return nil
}

// pass delivers every message above the cursor, in UID order, and
// acknowledges the committed ones. fresh is set right after SELECT, which
// already synchronised the session's view of the folder.
func (w *worker) pass(s *session, fresh bool) error {
	select { // an EXISTS from now on triggers another pass
	case <-s.newMail:
	default:
	}
	// After IDLE (or SELECT) the server has already told us about new
	// messages; a polling session asks with NOOP first.
	if !fresh && !s.idle {
		if err := s.step("noop", w.cfg.CommandTimeout, func() error { return s.c.Noop().Wait() }); err != nil {
			return err
		}
	}
	cur, err := w.sink.Cursor(w.hard, w.cfg.MailboxID)
	if err != nil {
		return fmt.Errorf("%w: read cursor: %w", errSink, err)
	}
	uv := s.uidValidity
	last := imap.UID(cur.UID)
	switch {
	case cur.UIDValidity != uv:
		// RFC 9051 §2.3.1.1: the old UIDs mean nothing now. Re-scan from UID
		// 1; the import core deduplicates by Message-ID or content hash.
		if cur.UIDValidity != 0 && s.rescanLogged != uv {
			s.rescanLogged = uv
			w.log.Info("imap uidvalidity changed; rescanning folder", "old", cur.UIDValidity, "new", uv)
		}
		last = 0
	case fresh && s.uidNext != 0 && s.uidNext <= last: // uidNext is current only right after SELECT
		// QUIRK: a server that renumbered its messages without a new
		// UIDVALIDITY (restored backup, migrated store). Trusting the cursor
		// would skip every new message up to it; a rescan loses nothing.
		if s.rescanLogged != uv {
			s.rescanLogged = uv
			w.log.Warn("imap server UIDNEXT is at or below the cursor; rescanning folder",
				"uidnext", s.uidNext, "cursor", last)
		}
		last = 0
	}
	if w.pending.uidValidity != uv {
		w.pending = ackPlan{}
	}
	if s.reconciled != uv && cur.UIDValidity == uv && last > 0 && w.pending.empty() {
		if err := w.reconcile(s, last); err != nil {
			return err
		}
		s.reconciled = uv
	}
	if !w.pending.empty() {
		plan := w.pending
		w.pending = ackPlan{}
		if err := w.acknowledge(s, plan); err != nil {
			return err
		}
	}

	uids, err := w.search(s, last)
	if err != nil {
		return err
	}
	w.setBacklog(len(uids))
	p := &pipeline{w: w, backlog: len(uids)}
	for len(uids) > 0 && w.soft.Err() == nil {
		n := min(len(uids), w.cfg.BatchSize)
		if err := w.batch(s, p, uids[:n]); err != nil {
			p.abandon(s)
			return err
		}
		uids = uids[n:]
	}
	if err := p.drain(s); err != nil {
		return err
	}
	if w.soft.Err() == nil {
		w.setBacklog(0) // messages expunged meanwhile were never delivered
	}
	return nil
}

// search returns the UIDs above last in ascending order.
func (w *worker) search(s *session, last imap.UID) ([]imap.UID, error) {
	var set imap.UIDSet
	set.AddRange(last+1, 0) // last+1:*
	var data *imap.SearchData
	err := s.step("uid search", w.cfg.CommandTimeout, func() (err error) {
		data, err = s.c.UIDSearch(&imap.SearchCriteria{UID: []imap.UIDSet{set}}, nil).Wait()
		return err
	})
	if err != nil {
		return nil, err
	}
	// RFC 9051 §6.4.4: "N:*" includes the highest UID even when N is
	// greater, so UIDs at or below the cursor are dropped here.
	uids := slices.DeleteFunc(data.AllUIDs(), func(u imap.UID) bool { return u <= last })
	slices.Sort(uids)
	return slices.Compact(uids), nil
}

// fetched is one downloaded message of a batch.
type fetched struct {
	uid      imap.UID
	size     int64
	raw      []byte
	oversize bool
}

// batch fetches sizes for uids, then bodies (headers only for oversize
// messages) in memory-bounded groups, and hands each group to p, which
// delivers them in UID order and acknowledges each after its commits.
func (w *worker) batch(s *session, p *pipeline, uids []imap.UID) error {
	sizes, err := w.fetchSizes(s, uids)
	if err != nil {
		return err
	}
	var group []fetched
	var bytes int64
	flush := func() error {
		err := w.deliverGroup(s, p, group, bytes)
		group, bytes = nil, 0
		return err
	}
	for _, uid := range uids {
		size, ok := sizes[uid]
		if !ok {
			continue // expunged meanwhile
		}
		f := fetched{uid: uid, size: size, oversize: size > w.cfg.MaxSize}
		cost := size
		if f.oversize {
			cost = 0
		}
		if len(group) > 0 && bytes+cost > groupBytes {
			if err := flush(); err != nil {
				return err
			}
		}
		group = append(group, f)
		bytes += cost
	}
	if len(group) > 0 {
		return flush()
	}
	return nil
}

// fetchSizes runs UID FETCH (UID RFC822.SIZE).
func (w *worker) fetchSizes(s *session, uids []imap.UID) (map[imap.UID]int64, error) {
	sizes := make(map[imap.UID]int64, len(uids))
	err := s.step("fetch sizes", w.cfg.CommandTimeout, func() error {
		cmd := s.c.Fetch(imap.UIDSetNum(uids...), &imap.FetchOptions{UID: true, RFC822Size: true})
		for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
			buf, err := msg.Collect() // no body items: small
			if err != nil {
				cmd.Close()
				return err
			}
			if buf.UID != 0 {
				sizes[buf.UID] = buf.RFC822Size
			}
		}
		return cmd.Close()
	})
	return sizes, err
}

// deliverGroup downloads the group (bytes: its expected raw size) and
// hands it to p, once p has room for it.
func (w *worker) deliverGroup(s *session, p *pipeline, group []fetched, bytes int64) error {
	if err := p.reserve(s, bytes); err != nil {
		return err
	}
	var full, headers []imap.UID
	for _, f := range group {
		if f.oversize {
			headers = append(headers, f.uid)
		} else {
			full = append(full, f.uid)
		}
	}
	raws, tooBig, err := w.fetchBodies(s, full, false)
	if err != nil {
		return err
	}
	if len(tooBig) > 0 { // the server under-reported RFC822.SIZE
		headers = append(headers, tooBig...)
	}
	hdrs, _, err := w.fetchBodies(s, headers, true)
	if err != nil {
		return err
	}

	var msgs []Message
	for i := range group {
		f := &group[i]
		if raw, ok := raws[f.uid]; ok {
			f.raw = raw
		} else if raw, ok := hdrs[f.uid]; ok {
			f.raw, f.oversize = raw, true
		} else {
			continue // expunged meanwhile
		}
		msgs = append(msgs, Message{
			MailboxID:   w.cfg.MailboxID,
			UIDValidity: s.uidValidity,
			UID:         uint32(f.uid),
			Size:        f.size,
			Raw:         f.raw,
			Oversize:    f.oversize,
		})
		f.raw = nil
	}
	p.start(msgs, bytes)
	return nil
}

// deliver hands msgs to the sink, in one batch when it can take one, once
// ready (called exactly once, before anything is committed) says the
// messages before them are committed. It returns the Dispositions of the
// committed prefix of msgs.
func (w *worker) deliver(msgs []Message, ready func() error) ([]Disposition, error) {
	if bs, ok := w.sink.(BatchSink); ok && len(msgs) > 1 {
		disps, err := bs.DeliverBatch(w.hard, msgs, ready)
		if len(disps) > len(msgs) {
			disps = disps[:len(msgs)]
		}
		if err != nil {
			if errors.Is(err, errGap) {
				return disps, err // the gate: nothing was committed
			}
			uid := msgs[len(disps)%len(msgs)].UID
			return disps, fmt.Errorf("%w: deliver uid %d: %w", errSink, uid, err)
		}
		return disps, nil
	}
	if err := ready(); err != nil {
		return nil, err
	}
	var disps []Disposition
	for _, m := range msgs {
		d, err := w.sink.Deliver(w.hard, m)
		if err != nil {
			return disps, fmt.Errorf("%w: deliver uid %d: %w", errSink, m.UID, err)
		}
		disps = append(disps, d)
	}
	return disps, nil
}

// fetchBodies streams BODY.PEEK[] (or BODY.PEEK[HEADER]) of uids, reading
// every literal with a bound. Messages whose literal exceeds MaxSize are not
// read and returned in tooBig.
func (w *worker) fetchBodies(s *session, uids []imap.UID, header bool) (map[imap.UID][]byte, []imap.UID, error) {
	raws := make(map[imap.UID][]byte, len(uids))
	if len(uids) == 0 {
		return raws, nil, nil
	}
	section := &imap.FetchItemBodySection{Peek: true}
	limit := w.cfg.MaxSize + sizeSlack
	what := "fetch bodies"
	if header {
		section.Specifier = imap.PartSpecifierHeader
		what = "fetch headers"
	}
	var tooBig []imap.UID
	err := s.step(what, w.cfg.CommandTimeout, func() error {
		cmd := s.c.Fetch(imap.UIDSetNum(uids...), &imap.FetchOptions{
			UID:         true,
			BodySection: []*imap.FetchItemBodySection{section},
		})
		for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
			var uid imap.UID
			var raw []byte
			big := false
			for item := msg.Next(); item != nil; item = msg.Next() {
				switch it := item.(type) {
				case imapclient.FetchItemDataUID:
					uid = it.UID
				case imapclient.FetchItemDataBodySection:
					if it.Literal == nil {
						raw = []byte{}
						continue
					}
					if !header && it.Literal.Size() > limit {
						big = true
						continue // skipped unread by msg.Next
					}
					// The literal's size is announced: one buffer of that
					// size (or of limit+1 bytes, to see a header over the
					// limit) takes it, where io.ReadAll grew its buffer step
					// by step, clearing and copying each (a tenth of the
					// drain's CPU profile).
					b := make([]byte, min(it.Literal.Size(), limit+1))
					n, err := io.ReadFull(progress{it.Literal, s.wd, w.cfg.CommandTimeout}, b)
					b = b[:n]
					if err == io.EOF {
						// The connection ended inside the literal: imapclient
						// reports a clean EOF, which must not pass as a message.
						err = io.ErrUnexpectedEOF
					}
					if err != nil {
						// Neither the literal nor the command may be touched
						// again (imapclient would read the dead stream
						// concurrently): drop the connection.
						s.conn.Close()
						return fmt.Errorf("read literal: %w", err)
					}
					if int64(len(b)) > limit {
						if !header {
							big = true
							continue
						}
						// A header beyond the limit (hostile input) is cut
						// short: the message is oversize anyway and must
						// not vanish.
						b = b[:limit]
					}
					raw = b
					w.m.fetchedBytes.Add(float64(len(b)))
				}
			}
			switch {
			case uid == 0:
			case big:
				tooBig = append(tooBig, uid)
			case raw != nil:
				raws[uid] = raw
			}
		}
		return cmd.Close()
	})
	if err != nil {
		return nil, nil, err
	}
	return raws, tooBig, nil
}

// progress re-arms the watchdog on every read, so a large literal may take
// longer than one timeout as long as bytes keep arriving.
type progress struct {
	r  io.Reader
	wd *watchdog
	d  time.Duration
}

func (p progress) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if n > 0 {
		p.wd.arm(p.d)
	}
	return n, err
}
