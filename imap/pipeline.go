package imap

import (
	"errors"
	"fmt"
	"runtime/debug"

	"github.com/emersion/go-imap/v2"
)

// maxInflight is how many fetched groups may be on their way into the sink
// at once: one committing while the next is parsed, and meanwhile the
// session downloads the group after them.
const maxInflight = 2

// errGap is what a delivery returns when the one before it did not commit
// everything: committing past a gap would move the cursor over messages
// that are not stored.
var errGap = errors.New("an earlier group was not committed")

// delivery is one fetched group on its way into the sink.
type delivery struct {
	msgs  []Message
	bytes int64         // the group's raw bytes, held until it is done
	done  chan struct{} // closed when disps and err are final
	disps []Disposition // of the committed prefix of msgs
	err   error
}

// complete reports whether every message of d was committed.
func (d *delivery) complete() bool { return d.err == nil && len(d.disps) == len(d.msgs) }

// pipeline overlaps delivering fetched groups with downloading the next
// ones. Deliveries still commit in UID order: each waits, after parsing and
// before its first commit, for the one before it to have committed all of
// its group, and after a failure the later ones commit nothing. Only the
// session goroutine touches the connection: it acknowledges each group on
// the server once the group's delivery is done, oldest first.
type pipeline struct {
	w        *worker
	inflight []*delivery // oldest first
	bytes    int64       // raw bytes of the groups in flight
	backlog  int         // messages of the pass not yet delivered
}

// reserve makes room for a group of size bytes before it is downloaded:
// it finishes the oldest deliveries while maxInflight are in flight or the
// raw bytes held would exceed groupBytes (a group bigger than that on its
// own waits for an empty pipeline).
func (p *pipeline) reserve(s *session, bytes int64) error {
	for len(p.inflight) > 0 && (len(p.inflight) >= maxInflight || p.bytes+bytes > groupBytes) {
		if err := p.finishOldest(s); err != nil {
			return err
		}
	}
	return nil
}

// start hands msgs to the sink in the background.
func (p *pipeline) start(msgs []Message, bytes int64) {
	d := &delivery{msgs: msgs, bytes: bytes, done: make(chan struct{})}
	var prev *delivery
	if n := len(p.inflight); n > 0 {
		prev = p.inflight[n-1]
	}
	p.inflight = append(p.inflight, d)
	p.bytes += bytes
	go p.w.deliverAsync(d, prev)
}

// finishOldest waits for the oldest delivery and acknowledges what it
// committed. Its error, or the acknowledgement's, ends the pass.
func (p *pipeline) finishOldest(s *session) error {
	d := p.inflight[0]
	<-d.done
	p.inflight = p.inflight[1:]
	p.bytes -= d.bytes
	if err := p.w.acknowledge(s, p.acks(s, d)); err != nil {
		return err
	}
	return d.err
}

// drain finishes every delivery in flight; after the first error it
// abandons the rest.
func (p *pipeline) drain(s *session) error {
	for len(p.inflight) > 0 {
		if err := p.finishOldest(s); err != nil {
			p.abandon(s)
			return err
		}
	}
	return nil
}

// abandon waits for every delivery in flight without touching the
// connection, which may be dead: what they committed is acknowledged by
// the next pass (w.pending), as after a failed acknowledgement.
func (p *pipeline) abandon(s *session) {
	for _, d := range p.inflight {
		<-d.done
		p.w.pending = mergePlans(p.w.pending, p.acks(s, d))
	}
	p.inflight, p.bytes = nil, 0
}

// acks plans the post-import action of each committed message of d.
func (p *pipeline) acks(s *session, d *delivery) ackPlan {
	w := p.w
	plan := ackPlan{uidValidity: s.uidValidity}
	for i, disp := range d.disps {
		m := d.msgs[i]
		p.backlog--
		w.setBacklog(max(p.backlog, 0))
		if m.Oversize {
			w.log.Warn("imap message over the size limit left on the server", "uid", m.UID, "size", m.Size, "max_size", w.cfg.MaxSize)
			continue
		}
		if m.bodyMissing() {
			w.log.Warn("imap server returned an empty body for a message it says is not empty; left on the server",
				"uid", m.UID, "size", m.Size)
			continue
		}
		w.plan(&plan, disp, imap.UID(m.UID))
	}
	return plan
}

// deliverAsync is the goroutine of one delivery: once prev (nil for the
// first) has committed all of its group, it commits d's.
func (w *worker) deliverAsync(d, prev *delivery) {
	defer close(d.done)
	defer func() {
		if r := recover(); r != nil {
			// As a panic in the session: counted, and the session
			// starts afresh (after what was committed is acknowledged).
			w.m.panics.Inc()
			w.log.Error("imap delivery panicked; restarting the session", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			d.err = fmt.Errorf("panic: %v", r)
		}
	}()
	ready := func() error {
		if prev == nil {
			return nil
		}
		<-prev.done
		if !prev.complete() {
			return fmt.Errorf("%w: %w", errSink, errGap)
		}
		return nil
	}
	d.disps, d.err = w.deliver(d.msgs, ready)
}
