package imap

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Options configures a Pool. Nil and zero fields mean the documented
// defaults.
type Options struct {
	Sink       Sink       // required
	Tokens     TokenStore // persists rotated OAuth refresh tokens; nil keeps them in memory
	Logger     *slog.Logger
	Registerer prometheus.Registerer // nil: metrics are not registered
	Now        func() time.Time
	BackoffMin time.Duration // default 1s
	BackoffMax time.Duration // default 5m
	// Dial opens the TCP connection; default a net.Dialer.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Status is a snapshot of one mailbox worker.
type Status struct {
	MailboxID   int64
	Name        string
	Connected   bool
	LastSuccess time.Time // zero until the first successful pass
	LastError   string    // of the last failed step; "" after a success
	Backlog     int       // messages found above the cursor, not yet delivered
}

// Pool runs one isolated worker goroutine per mailbox. Its methods are safe
// for concurrent use.
type Pool struct {
	opts    Options
	log     *slog.Logger
	metrics *metrics

	setMu   sync.Mutex // serialises Set and Stop
	mu      sync.Mutex // guards workers and stopped; never held while waiting
	workers map[int64]*worker
	stopped bool
}

// NewPool creates an empty pool; Set starts workers.
func NewPool(opts Options) (*Pool, error) {
	if opts.Sink == nil {
		return nil, errors.New("imap: options: sink is required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.BackoffMin <= 0 {
		opts.BackoffMin = time.Second
	}
	if opts.BackoffMax <= 0 {
		opts.BackoffMax = 5 * time.Minute
	}
	if opts.BackoffMax < opts.BackoffMin {
		opts.BackoffMax = opts.BackoffMin
	}
	if opts.Dial == nil {
		d := &net.Dialer{}
		opts.Dial = d.DialContext
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	return &Pool{opts: opts, log: opts.Logger, metrics: m, workers: make(map[int64]*worker)}, nil
}

// Set makes the running workers match cfgs: it starts new mailboxes, stops
// removed ones and restarts changed ones (the SIGHUP reload). Invalid
// configurations are rejected as a whole before anything changes.
func (p *Pool) Set(cfgs []Config) error {
	var errs []error
	seen := make(map[int64]bool)
	for _, c := range cfgs {
		if err := c.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("mailbox %d: %w", c.MailboxID, err))
		}
		if seen[c.MailboxID] {
			errs = append(errs, fmt.Errorf("mailbox %d: configured twice", c.MailboxID))
		}
		seen[c.MailboxID] = true
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	p.setMu.Lock()
	defer p.setMu.Unlock()
	want := make(map[int64]Config, len(cfgs))
	for _, c := range cfgs {
		want[c.MailboxID] = c.withDefaults()
	}
	p.mu.Lock()
	if p.stopped {
		p.mu.Unlock()
		return errors.New("imap: pool stopped")
	}
	var old []*worker
	var removed []int64
	for id, w := range p.workers {
		if c, ok := want[id]; !ok || !reflect.DeepEqual(c, w.cfg) {
			old = append(old, w)
			delete(p.workers, id)
			if !ok {
				removed = append(removed, id)
			}
		}
	}
	p.mu.Unlock()

	// The old worker of a mailbox must be gone before its successor runs.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := stopWorkers(ctx, old); err != nil {
		p.log.Warn("imap reload: in-flight deliveries abandoned", "err", err)
	}
	for _, id := range removed {
		p.metrics.forget(id)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for id, c := range want {
		if _, ok := p.workers[id]; !ok {
			p.workers[id] = p.start(c)
		}
	}
	return nil
}

// start launches the worker of c.
func (p *Pool) start(c Config) *worker {
	hard, abort := context.WithCancel(context.Background())
	soft, cancel := context.WithCancel(hard)
	w := &worker{
		cfg:        c,
		sink:       p.opts.Sink,
		log:        p.log.With("mailbox", c.Name, "mailbox_id", c.MailboxID),
		m:          p.metrics.forMailbox(c.MailboxID),
		now:        p.opts.Now,
		dial:       p.opts.Dial,
		backoffMin: p.opts.BackoffMin,
		backoffMax: p.opts.BackoffMax,
		soft:       soft,
		hard:       hard,
		cancel:     cancel,
		abort:      abort,
		done:       make(chan struct{}),
		status:     Status{MailboxID: c.MailboxID, Name: c.Name},
	}
	if c.Auth == AuthXOAuth2 {
		w.tokens = newTokenSource(c, p.opts.Tokens, func(t time.Time) {
			w.m.tokenExpiry.Set(float64(t.Unix()))
		})
	}
	go w.run()
	return w
}

// stopWorkers stops ws: no new fetches at once, in-flight deliveries may
// finish until ctx ends, then connections are closed and deliveries
// cancelled.
func stopWorkers(ctx context.Context, ws []*worker) error {
	for _, w := range ws {
		w.cancel()
	}
	var err error
	for _, w := range ws {
		select {
		case <-w.done:
		case <-ctx.Done():
			w.abort()
			<-w.done // closing the connection unblocks every network step
			err = fmt.Errorf("imap: stop mailbox %d: %w", w.cfg.MailboxID, ctx.Err())
		}
		w.abort()
	}
	return err
}

// Stop stops every worker (see stopWorkers) and makes the pool unusable.
// It is idempotent.
func (p *Pool) Stop(ctx context.Context) error {
	p.setMu.Lock()
	defer p.setMu.Unlock()
	p.mu.Lock()
	p.stopped = true
	ws := make([]*worker, 0, len(p.workers))
	for _, w := range p.workers {
		ws = append(ws, w)
	}
	p.mu.Unlock()
	err := stopWorkers(ctx, ws)
	p.mu.Lock()
	p.workers = make(map[int64]*worker)
	p.mu.Unlock()
	return err
}

// Status returns a snapshot of every worker, ordered by mailbox id.
func (p *Pool) Status() []Status {
	p.mu.Lock()
	ws := make([]*worker, 0, len(p.workers))
	for _, w := range p.workers {
		ws = append(ws, w)
	}
	p.mu.Unlock()
	out := make([]Status, 0, len(ws))
	for _, w := range ws {
		out = append(out, w.getStatus())
	}
	slices.SortFunc(out, func(a, b Status) int { return cmp.Compare(a.MailboxID, b.MailboxID) })
	return out
}
