package imap

import (
	"context"
	"sync"
	"testing"
	"time"
)

// pipeSink is a BatchSink that takes its time "parsing" each group before
// the gate, records the order of its commits and how many groups it held at
// once, and makes its failGroup-th call commit one message and fail.
type pipeSink struct {
	*testSink
	mu        sync.Mutex
	calls     int
	active    int
	maxActive int
	failGroup int
	order     []uint32
}

func (p *pipeSink) DeliverBatch(ctx context.Context, ms []Message, ready func() error) ([]Disposition, error) {
	p.mu.Lock()
	p.calls++
	call := p.calls
	p.active++
	p.maxActive = max(p.maxActive, p.active)
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.active--
		p.mu.Unlock()
	}()
	time.Sleep(20 * time.Millisecond) // parsing: the next group arrives meanwhile
	if err := ready(); err != nil {
		return nil, err
	}
	var disps []Disposition
	for i, m := range ms {
		if call == p.failGroup && i == 1 {
			return disps, errStoreDown
		}
		d, err := p.Deliver(ctx, m)
		if err != nil {
			return disps, err
		}
		p.mu.Lock()
		p.order = append(p.order, m.UID)
		p.mu.Unlock()
		disps = append(disps, d)
	}
	return disps, nil
}

// Groups are delivered while the next ones download, yet committed in UID
// order without a gap: when a group fails halfway, the groups already on
// their way behind it commit nothing, and everything comes again once.
func TestPipelineCommitsInOrder(t *testing.T) {
	t.Parallel()
	srv := startMem(t, nil)
	const n = 12
	for i := range n {
		if err := srv.Append("u", "INBOX", mail(i, "pipeline")); err != nil {
			t.Fatal(err)
		}
	}
	sink := &pipeSink{testSink: newSink(t), failGroup: 2}
	h := newHarnessSink(t, sink, sink.testSink, nil)
	cfg := memConfig(1, srv.Host, srv.Port)
	cfg.PollInterval = 50 * time.Millisecond
	cfg.BatchSize = 3
	h.set(cfg)
	waitFor(t, sink.testSink, patience, "all messages", func() bool { return sink.count(1) == n })
	waitFor(t, sink.testSink, patience, "a clean pass", func() bool {
		return h.metric("postdesk_imap_polls_total", "1", "ok") >= 1
	})
	sink.assertOnce(t)
	if seen := countSeen(list(t, srv.Addr, "INBOX")); seen != n {
		t.Errorf("%d of %d seen", seen, n)
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	for i, uid := range sink.order {
		if uid != uint32(i+1) {
			t.Fatalf("commit order %v: a gap or a step back at %d", sink.order, i)
		}
	}
	if sink.maxActive < 2 {
		t.Errorf("at most %d group in the sink at once: nothing overlapped", sink.maxActive)
	}
}
