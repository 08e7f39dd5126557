// Package daemon is postdesk's composition root: configuration → store →
// import core → IMAP pollers + HTTP server (API, /metrics, /healthz,
// /readyz), with sd_notify and a bounded, ordered shutdown.
//
// Only package main handles signals: it cancels Run's context to stop and
// calls Reload on SIGHUP.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/postdesk/postdesk/daemon/api"
	"github.com/postdesk/postdesk/daemon/config"
	"github.com/postdesk/postdesk/imap"
	"github.com/postdesk/postdesk/store"
	"github.com/postdesk/postdesk/ticket"
)

// Options configure a Daemon; zero values mean the documented default.
type Options struct {
	Config *config.Config // required
	// Reload returns a fresh configuration (SIGHUP); nil: reload disabled.
	Reload  func() (*config.Config, error)
	Version string
	Logger  *slog.Logger // default slog.Default()
	// Notify sends sd_notify states; default: $NOTIFY_SOCKET when set.
	Notify func(state string) error
	// ShutdownTimeout bounds the graceful shutdown; default 20s.
	ShutdownTimeout time.Duration
	// StaleAfter: /readyz fails when a polled mailbox has not polled
	// successfully for this long; default 3 × its poll interval, at least
	// 5 minutes.
	StaleAfter time.Duration
}

// Daemon is a running postdesk. Open it, then Run it.
type Daemon struct {
	opts    Options
	log     *slog.Logger
	reg     *prometheus.Registry
	store   *store.Store
	svc     *ticket.Service
	pool    *imap.Pool
	api     *api.API
	ln      net.Listener
	server  *http.Server
	started time.Time

	mu  sync.Mutex
	cfg *config.Config

	// syncReq carries mailboxes that could not be mirrored into the store
	// (it was unavailable) to syncLoop, which retries until they are;
	// the newest request replaces an older one.
	syncReq chan []ticket.Mailbox
}

// Open builds every component and binds the HTTP listener, so that a
// configuration or port problem surfaces before Run. Close it when Run is
// not called.
func Open(opts Options) (_ *Daemon, err error) {
	if opts.Config == nil {
		return nil, errors.New("daemon: Options.Config is required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Notify == nil {
		opts.Notify = sdNotify
	}
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = 20 * time.Second
	}
	cfg := opts.Config
	d := &Daemon{opts: opts, log: opts.Logger, reg: prometheus.NewRegistry(), cfg: cfg, started: time.Now(),
		syncReq: make(chan []ticket.Mailbox, 1)}
	defer func() {
		if err != nil {
			d.Close()
		}
	}()
	d.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	buildInfo := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "postdesk_build_info",
		Help:        "Build information; the value is always 1.",
		ConstLabels: prometheus.Labels{"version": opts.Version, "goversion": runtime.Version()},
	})
	buildInfo.Set(1)
	d.reg.MustRegister(buildInfo)

	mbs, err := cfg.TicketMailboxes()
	if err != nil {
		return nil, err
	}
	d.store, err = store.Open(cfg.Store.Path, store.Options{Logger: d.log.With("component", "store"), Registerer: d.reg})
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", cfg.Store.Path, err)
	}
	// A store that cannot take writes right now (read-only file, full
	// disk) does not keep the daemon from starting: the API answers 503,
	// IMAP mail stays unacknowledged, /readyz says why, and everything
	// proceeds once the fault clears, without a restart.
	if err := d.syncMailboxes(mbs); err != nil {
		return nil, err
	}
	d.svc, err = ticket.NewService(ServiceOptions(cfg, d.store, mbs, d.log.With("component", "ticket"), d.reg))
	if err != nil {
		return nil, err
	}
	d.pool, err = imap.NewPool(imap.Options{
		Sink:       &Sink{Service: d.svc, Store: d.store},
		Tokens:     d.store,
		Logger:     d.log.With("component", "imap"),
		Registerer: d.reg,
	})
	if err != nil {
		return nil, err
	}
	d.api, err = api.New(api.Options{
		Service:       d.svc,
		Store:         d.store,
		PublicURL:     cfg.HTTP.PublicURL,
		PProf:         cfg.HTTP.PProf,
		SlowThreshold: cfg.API.SlowThreshold,
		MaxBodyBytes:  int64(cfg.API.MaxBodySize),
		AppTokens:     cfg.API.AppTokens,
		Names:         cfg.Names,
		Ready:         d.ready,
		Gatherer:      d.reg,
		Logger:        d.log.With("component", "api"),
		Registerer:    d.reg,
	})
	if err != nil {
		return nil, err
	}
	d.ln, err = net.Listen("tcp", cfg.HTTP.Listen)
	if err != nil {
		return nil, fmt.Errorf("http listen %s: %w", cfg.HTTP.Listen, err)
	}
	d.server = api.NewServer(cfg.HTTP.Listen, d.api.Handler())
	return d, nil
}

// ServiceOptions maps the configuration onto the import core's options.
func ServiceOptions(cfg *config.Config, repo ticket.Repository, mbs []ticket.Mailbox, log *slog.Logger, reg prometheus.Registerer) ticket.Options {
	return ticket.Options{
		Repo:            repo,
		Mailboxes:       mbs,
		TicketURL:       cfg.API.TicketURL,
		SubjectTagKey:   cfg.Import.SubjectTag,
		CompanyDomains:  cfg.Companies,
		FreeMailDomains: nilIfEmpty(cfg.FreeMailDomains),
		SenderCap:       cfg.Import.SenderCap,
		MaxSize:         int64(cfg.Import.MaxSize),
		LoopID:          cfg.Import.LoopID,
		Logger:          log,
		Registerer:      reg,
	}
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

// Addr is the bound HTTP address.
func (d *Daemon) Addr() net.Addr { return d.ln.Addr() }

// Service is the import core.
func (d *Daemon) Service() *ticket.Service { return d.svc }

// Run serves until ctx is cancelled, then shuts down in reverse start
// order within Options.ShutdownTimeout. It closes the Daemon.
func (d *Daemon) Run(ctx context.Context) error {
	defer d.Close()
	serveErr := make(chan error, 1)
	go func() {
		defer recoverLog(d.log, "http server")
		if err := d.server.Serve(d.ln); !errors.Is(err, http.ErrServerClosed) {
			serveErr <- err
		}
		close(serveErr)
	}()
	if err := d.pool.Set(imapConfigs(d.config())); err != nil {
		return err
	}
	d.log.Info("postdesk running", "listen", d.ln.Addr().String(), "store", d.config().Store.Path,
		"mailboxes", len(d.svc.Mailboxes()), "version", d.opts.Version)
	d.notify("READY=1\nSTATUS=importing mail")
	syncCtx, stopSync := context.WithCancel(context.Background())
	defer stopSync()
	go d.syncLoop(syncCtx)
	stopWatchdog := d.watchdog()
	defer stopWatchdog()

	var runErr error
	select {
	case <-ctx.Done():
	case err := <-serveErr:
		runErr = fmt.Errorf("http server: %w", err)
	}
	d.notify("STOPPING=1\nSTATUS=shutting down")
	d.log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), d.opts.ShutdownTimeout)
	defer cancel()
	// Stop taking mail first, let in-flight imports finish, then close.
	if err := d.pool.Stop(sctx); err != nil {
		d.log.Warn("imap pollers did not stop in time", "err", err)
	}
	if err := d.server.Shutdown(sctx); err != nil {
		d.log.Warn("http server did not stop in time", "err", err)
		d.server.Close()
	}
	return runErr
}

// Reload re-reads the configuration and applies its mailboxes (SIGHUP).
// Settings other than mailboxes need a restart; a bad configuration is
// logged and the running one stays.
func (d *Daemon) Reload() error {
	if d.opts.Reload == nil {
		return errors.New("reload: no configuration file")
	}
	d.notify("RELOADING=1")
	defer d.notify("READY=1")
	cfg, err := d.opts.Reload()
	if err != nil {
		return fmt.Errorf("reload: %w", err)
	}
	mbs, err := cfg.TicketMailboxes()
	if err != nil {
		return fmt.Errorf("reload: %w", err)
	}
	if err := d.svc.SetMailboxes(mbs); err != nil {
		return fmt.Errorf("reload: %w", err)
	}
	if err := d.syncMailboxes(mbs); err != nil {
		return fmt.Errorf("reload: %w", err)
	}
	d.mu.Lock()
	d.cfg = cfg
	d.mu.Unlock()
	if err := d.pool.Set(imapConfigs(cfg)); err != nil {
		return fmt.Errorf("reload: %w", err)
	}
	d.log.Info("configuration reloaded", "mailboxes", len(mbs))
	return nil
}

// syncMailboxes mirrors the configured mailboxes into the store. When the
// store is unavailable it logs that and leaves the retry to syncLoop;
// imports do not depend on the mirror (it serves listings).
func (d *Daemon) syncMailboxes(mbs []ticket.Mailbox) error {
	err := d.store.SyncMailboxes(context.Background(), mbs)
	switch {
	case err == nil:
		return nil
	case !errors.Is(err, ticket.ErrUnavailable):
		return fmt.Errorf("store mailboxes: %w", err)
	}
	d.log.Error("store unavailable: imports fail with 503 and IMAP mail stays unacknowledged until it recovers", "err", err)
	select {
	case <-d.syncReq: // replaced by the newer list
	default:
	}
	d.syncReq <- mbs
	return nil
}

// syncLoop retries mailbox lists that syncMailboxes could not store, with
// capped exponential backoff, until they are stored or ctx ends.
func (d *Daemon) syncLoop(ctx context.Context) {
	defer recoverLog(d.log, "mailbox sync")
	for {
		var mbs []ticket.Mailbox
		select {
		case <-ctx.Done():
			return
		case mbs = <-d.syncReq:
		}
		for wait := time.Second; ; wait = min(2*wait, 30*time.Second) {
			select {
			case <-ctx.Done():
				return
			case newer := <-d.syncReq:
				mbs = newer
			case <-time.After(wait):
			}
			err := d.store.SyncMailboxes(ctx, mbs)
			if err == nil {
				d.log.Info("store available again: mailboxes stored", "mailboxes", len(mbs))
				break
			}
			if ctx.Err() != nil {
				return
			}
			d.log.Debug("store mailboxes: still failing", "err", err, "retry_in", min(2*wait, 30*time.Second))
		}
	}
}

func (d *Daemon) config() *config.Config {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cfg
}

// Close releases everything Open acquired; it is idempotent.
func (d *Daemon) Close() error {
	var errs []error
	if d.server != nil {
		d.server.Close()
	}
	if d.ln != nil {
		d.ln.Close()
	}
	if d.pool != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		d.pool.Stop(ctx)
		cancel()
	}
	if d.store != nil {
		errs = append(errs, d.store.Close())
	}
	return errors.Join(errs...)
}

func (d *Daemon) notify(state string) {
	if err := d.opts.Notify(state); err != nil {
		d.log.Warn("sd_notify", "err", err)
	}
}

// watchdog pings systemd's watchdog at half its interval while the daemon
// is healthy (the store answers).
func (d *Daemon) watchdog() (stop func()) {
	interval := watchdogInterval()
	if interval <= 0 {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		defer recoverLog(d.log, "watchdog")
		t := time.NewTicker(interval / 2)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				ctx, cancel := context.WithTimeout(context.Background(), interval/4)
				err := d.store.Ping(ctx)
				cancel()
				if err != nil {
					d.log.Warn("watchdog: store not healthy", "err", err)
					continue
				}
				d.notify("WATCHDOG=1")
			}
		}
	}()
	return func() { close(done) }
}

func recoverLog(log *slog.Logger, what string) {
	if r := recover(); r != nil {
		buf := make([]byte, 8<<10)
		buf = buf[:runtime.Stack(buf, false)]
		log.Error("panic recovered", "in", what, "panic", fmt.Sprint(r), "stack", string(buf))
	}
}
