// Package api serves postdesk's HTTP interface: SuperOffice's
// CreateTicketFromMailData at its Web API path, the ticket JSON/XML and HTML
// views that TicketUrl leads to, and the /healthz, /readyz and /metrics
// endpoints.
//
// Every API and ticket route is authenticated (Basic, Bearer, SOTicket; an
// SO-AppToken when configured) and authorised by the caller's store.Role.
// Errors have SuperOffice's shape and the status codes of DESIGN.md; bad input
// is a 4xx, never a 500. An API is safe for concurrent use.
package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"strings"
	"time"

	"github.com/microcosm-cc/bluemonday"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/postdesk/postdesk/store"
	"github.com/postdesk/postdesk/ticket"
)

// Options configure an API; zero values mean the documented default.
type Options struct {
	Service *ticket.Service // the import core; required
	Store   *store.Store    // users, tokens and ticket reads; required
	// PublicURL is the base of a TicketUrl the Service returns relative,
	// e.g. "http://127.0.0.1:8080".
	PublicURL string
	// SlowThreshold is the NsApiSlow threshold; 0 means 5s.
	SlowThreshold time.Duration
	// MaxBodyBytes limits request bodies; 0 means room for a 25 MiB mail
	// base64-sized plus JSON overhead.
	MaxBodyBytes int64
	// AppTokens are the accepted SO-AppToken values; empty: not required.
	AppTokens []string
	// Names translates configured names (categories, priorities):
	// "Technical Support" -> {"de": "Technischer Support", "nl": …}.
	Names map[string]map[string]string
	// Ready is the /readyz check; nil checks only that the store takes a
	// durable write (store.Ping).
	Ready func(ctx context.Context) error
	// Gatherer is served at /metrics; nil: no /metrics route.
	Gatherer prometheus.Gatherer
	// PProf serves net/http/pprof's handlers at /debug/pprof/ to admin
	// callers; false: no such route.
	PProf bool

	Now        func() time.Time      // default time.Now
	Logger     *slog.Logger          // default slog.Default()
	Registerer prometheus.Registerer // default: metrics not registered

	// AuthFailureLimit is the number of failed authentications from one
	// client address before it is throttled; 0 means 5.
	AuthFailureLimit int
}

// Defaults of Options.
const (
	DefaultSlowThreshold = 5 * time.Second
	// DefaultMaxBodyBytes fits a 25 MiB mail escaped or base64-sized in
	// JSON/XML plus overhead.
	DefaultMaxBodyBytes     = 25<<20*4/3 + 1<<20
	DefaultAuthFailureLimit = 5
)

// Operation names, the values of the metrics' method label.
const (
	opCreate     = "CreateTicketFromMailData"
	opGetTicket  = "GetTicket"
	opTicketPage = "TicketPage"
	opAttachment = "TicketAttachment"
	opRawMessage = "TicketRawMessage"
	opHealth     = "Healthz"
	opReady      = "Readyz"
	opMetrics    = "Metrics"
	opNotFound   = "NotFound"
	opPProf      = "PProf"
)

var operations = []string{opCreate, opGetTicket, opTicketPage, opAttachment, opRawMessage, opHealth, opReady, opMetrics, opNotFound, opPProf}

// API is the HTTP interface. Create it with New.
type API struct {
	svc       *ticket.Service
	store     *store.Store
	publicURL string
	slow      time.Duration
	maxBody   int64
	appTokens []string
	ready     func(ctx context.Context) error
	gatherer  prometheus.Gatherer
	pprof     bool
	now       func() time.Time
	log       *slog.Logger
	metrics   *metrics
	throttle  *throttle
	lang      *localizer
	policy    *bluemonday.Policy
	handler   http.Handler
}

// New checks opts and returns an API.
func New(opts Options) (*API, error) {
	if opts.Service == nil || opts.Store == nil {
		return nil, errors.New("api: Options.Service and Options.Store are required")
	}
	a := &API{
		svc:       opts.Service,
		store:     opts.Store,
		publicURL: strings.TrimRight(opts.PublicURL, "/"),
		slow:      opts.SlowThreshold,
		maxBody:   opts.MaxBodyBytes,
		ready:     opts.Ready,
		gatherer:  opts.Gatherer,
		pprof:     opts.PProf,
		now:       opts.Now,
		log:       opts.Logger,
		policy:    newSanitizer(),
	}
	if a.slow <= 0 {
		a.slow = DefaultSlowThreshold
	}
	if a.maxBody <= 0 {
		a.maxBody = DefaultMaxBodyBytes
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.log == nil {
		a.log = slog.Default()
	}
	for _, t := range opts.AppTokens {
		if t = strings.TrimSpace(t); t != "" {
			a.appTokens = append(a.appTokens, t)
		}
	}
	limit := opts.AuthFailureLimit
	if limit <= 0 {
		limit = DefaultAuthFailureLimit
	}
	a.throttle = newThrottle(limit, a.now)
	var err error
	if a.lang, err = newLocalizer(opts.Names); err != nil {
		return nil, err
	}
	if a.metrics, err = newMetrics(opts.Registerer, a.slow); err != nil {
		return nil, err
	}
	a.handler = a.routes()
	return a, nil
}

// Handler returns the HTTP handler of every route.
func (a *API) Handler() http.Handler { return a.handler }

func (a *API) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/api/v1/Agents/CustomerService/CreateTicketFromMailData",
		a.wrap(opCreate, formatAPI, a.authed(rightImport, http.HandlerFunc(a.createTicket))))
	mux.Handle("/api/v1/Ticket/{id}",
		a.wrap(opGetTicket, formatAPI, a.authed(rightRead, http.HandlerFunc(a.getTicket))))
	mux.Handle("/ticket/{id}",
		a.wrap(opTicketPage, formatPage, a.authed(rightRead, http.HandlerFunc(a.ticketPage))))
	mux.Handle("/ticket/{id}/attachments/{aid}",
		a.wrap(opAttachment, formatPage, a.authed(rightRead, http.HandlerFunc(a.attachment))))
	mux.Handle("/ticket/{id}/messages/{mid}/raw",
		a.wrap(opRawMessage, formatPage, a.authed(rightRead, http.HandlerFunc(a.rawMessage))))
	mux.Handle("/healthz", a.wrap(opHealth, formatPage, http.HandlerFunc(a.healthz)))
	mux.Handle("/readyz", a.wrap(opReady, formatPage, http.HandlerFunc(a.readyz)))
	if a.gatherer != nil {
		mux.Handle("/metrics", a.wrap(opMetrics, formatPage,
			promhttp.HandlerFor(a.gatherer, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(a.log.Handler(), slog.LevelError)})))
	}
	if a.pprof {
		// net/http/pprof's Index serves the named profiles under its prefix.
		for path, h := range map[string]http.HandlerFunc{
			"/debug/pprof/":        pprof.Index,
			"/debug/pprof/cmdline": pprof.Cmdline,
			"/debug/pprof/profile": pprof.Profile,
			"/debug/pprof/symbol":  pprof.Symbol,
			"/debug/pprof/trace":   pprof.Trace,
		} {
			mux.Handle(path, a.wrap(opPProf, formatPage, a.authed(rightAdmin, h)))
		}
	}
	mux.Handle("/", a.wrap(opNotFound, formatAPI, http.HandlerFunc(a.notFound)))
	return mux
}

// NewServer returns an http.Server for h with timeouts that bound slow
// clients yet let a 25 MiB mail arrive over a slow link.
func NewServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       5 * time.Minute, // 34 MiB at ~1 Mbit/s
		WriteTimeout:      6 * time.Minute, // includes ReadTimeout's body time
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
}

func (a *API) healthz(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		a.methodNotAllowed(w, r, "GET, HEAD")
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	fmt.Fprintln(w, "ok")
}

func (a *API) readyz(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		a.methodNotAllowed(w, r, "GET, HEAD")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	var err error
	if a.ready != nil {
		err = a.ready(ctx)
	} else {
		err = a.store.Ping(ctx)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, "not ready: %v\n", err)
		return
	}
	fmt.Fprintln(w, "ready")
}

func (a *API) notFound(w http.ResponseWriter, r *http.Request) {
	a.fail(w, r, &apiError{status: http.StatusNotFound, typ: typeNotFound, msg: msgNoRoute})
}

func (a *API) methodNotAllowed(w http.ResponseWriter, r *http.Request, allow string) {
	w.Header().Set("Allow", allow)
	a.fail(w, r, &apiError{status: http.StatusMethodNotAllowed, typ: typeArgument, msg: msgMethod})
}
