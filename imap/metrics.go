package imap

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the per-Pool collectors; the mailbox label is the mailbox id.
type metrics struct {
	polls        *prometheus.CounterVec // mailbox, result
	connected    *prometheus.GaugeVec
	lastSuccess  *prometheus.GaugeVec
	backlog      *prometheus.GaugeVec
	reconnects   *prometheus.CounterVec
	fetchedBytes *prometheus.CounterVec
	authFailures *prometheus.CounterVec
	tokenExpiry  *prometheus.GaugeVec
	idleRechecks *prometheus.CounterVec
	panics       prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		polls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "postdesk_imap_polls_total",
			Help: "IMAP synchronisation passes by mailbox and result (ok or error).",
		}, []string{"mailbox", "result"}),
		connected: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "postdesk_imap_connected",
			Help: "1 while the mailbox's IMAP connection is logged in and selected.",
		}, []string{"mailbox"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "postdesk_imap_last_success_timestamp_seconds",
			Help: "Unix time of the mailbox's last successful synchronisation pass.",
		}, []string{"mailbox"}),
		backlog: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "postdesk_imap_backlog_messages",
			Help: "Messages found on the server above the cursor and not yet delivered.",
		}, []string{"mailbox"}),
		reconnects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "postdesk_imap_reconnects_total",
			Help: "IMAP connections re-established after a failure.",
		}, []string{"mailbox"}),
		fetchedBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "postdesk_imap_fetched_bytes_total",
			Help: "Message bytes downloaded from the IMAP server.",
		}, []string{"mailbox"}),
		authFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "postdesk_imap_auth_failures_total",
			Help: "IMAP authentication attempts the server (or token endpoint) rejected.",
		}, []string{"mailbox"}),
		tokenExpiry: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "postdesk_imap_oauth_token_expiry_timestamp_seconds",
			Help: "Unix time at which the mailbox's current OAuth access token expires.",
		}, []string{"mailbox"}),
		idleRechecks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "postdesk_imap_idle_rechecks_total",
			Help: "IDLE commands ended early (imap.idle_recheck) to make the server look for new mail.",
		}, []string{"mailbox"}),
		panics: prometheus.NewCounter(prometheus.CounterOpts{
			Name:        "postdesk_panics_total",
			Help:        "Panics recovered, by component.",
			ConstLabels: prometheus.Labels{"component": "imap"},
		}),
	}
	if reg == nil {
		return m, nil
	}
	var errs [10]error
	m.polls, errs[0] = register(reg, m.polls)
	m.connected, errs[1] = register(reg, m.connected)
	m.lastSuccess, errs[2] = register(reg, m.lastSuccess)
	m.backlog, errs[3] = register(reg, m.backlog)
	m.reconnects, errs[4] = register(reg, m.reconnects)
	m.fetchedBytes, errs[5] = register(reg, m.fetchedBytes)
	m.authFailures, errs[6] = register(reg, m.authFailures)
	m.tokenExpiry, errs[7] = register(reg, m.tokenExpiry)
	m.panics, errs[8] = register(reg, m.panics)
	m.idleRechecks, errs[9] = register(reg, m.idleRechecks)
	if err := errors.Join(errs[:]...); err != nil {
		return nil, fmt.Errorf("register imap metrics: %w", err)
	}
	return m, nil
}

// register registers c, or returns the equal collector registered before
// (a second Pool on the same registry shares the series).
func register[T prometheus.Collector](reg prometheus.Registerer, c T) (T, error) {
	err := reg.Register(c)
	if err == nil {
		return c, nil
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(T); ok {
			return existing, nil
		}
	}
	return c, err
}

// mailboxMetrics are one mailbox's children of the vectors.
type mailboxMetrics struct {
	pollsOK, pollsErr prometheus.Counter
	connected         prometheus.Gauge
	lastSuccess       prometheus.Gauge
	backlog           prometheus.Gauge
	reconnects        prometheus.Counter
	fetchedBytes      prometheus.Counter
	authFailures      prometheus.Counter
	tokenExpiry       prometheus.Gauge
	idleRechecks      prometheus.Counter
	panics            prometheus.Counter
}

// forMailbox creates (at zero) every series of one mailbox.
func (m *metrics) forMailbox(id int64) *mailboxMetrics {
	l := strconv.FormatInt(id, 10)
	return &mailboxMetrics{
		pollsOK:      m.polls.WithLabelValues(l, "ok"),
		pollsErr:     m.polls.WithLabelValues(l, "error"),
		connected:    m.connected.WithLabelValues(l),
		lastSuccess:  m.lastSuccess.WithLabelValues(l),
		backlog:      m.backlog.WithLabelValues(l),
		reconnects:   m.reconnects.WithLabelValues(l),
		fetchedBytes: m.fetchedBytes.WithLabelValues(l),
		authFailures: m.authFailures.WithLabelValues(l),
		tokenExpiry:  m.tokenExpiry.WithLabelValues(l),
		idleRechecks: m.idleRechecks.WithLabelValues(l),
		panics:       m.panics,
	}
}

// forget removes the series of a mailbox that is no longer configured.
func (m *metrics) forget(id int64) {
	l := strconv.FormatInt(id, 10)
	m.polls.DeleteLabelValues(l, "ok")
	m.polls.DeleteLabelValues(l, "error")
	for _, v := range []*prometheus.GaugeVec{m.connected, m.lastSuccess, m.backlog, m.tokenExpiry} {
		v.DeleteLabelValues(l)
	}
	for _, v := range []*prometheus.CounterVec{m.reconnects, m.fetchedBytes, m.authFailures, m.idleRechecks} {
		v.DeleteLabelValues(l)
	}
}
