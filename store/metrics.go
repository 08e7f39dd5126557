package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the store's collectors, one set per Store.
type metrics struct {
	commitDuration prometheus.Histogram
	batchSize      prometheus.Histogram
	commits        *prometheus.CounterVec
	quarantine     *quarantineGauge
	panics         prometheus.Counter
}

// newMetrics makes the store's collectors; count counts the quarantine
// (QuarantineCount) for postdesk_quarantine_messages.
func newMetrics(count func(context.Context) (int, error), log *slog.Logger) *metrics {
	m := &metrics{
		commitDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "postdesk_store_commit_duration_seconds",
			Help:    "Time from BEGIN to the end of COMMIT of one group-commit batch.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "postdesk_store_commit_batch_size",
			Help:    "Update functions sharing one commit.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 8), // 1 … 128
		}),
		commits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "postdesk_store_commits_total",
			Help: "Group-commit batches by result (ok: COMMIT succeeded).",
		}, []string{"result"}),
		quarantine: &quarantineGauge{
			desc:  prometheus.NewDesc("postdesk_quarantine_messages", "Mails waiting in the quarantine.", nil, nil),
			count: count,
			log:   log,
		},
		panics: prometheus.NewCounter(prometheus.CounterOpts{
			Name:        "postdesk_panics_total",
			Help:        "Panics recovered, by component.",
			ConstLabels: prometheus.Labels{"component": "store"},
		}),
	}
	m.commits.WithLabelValues("ok")
	m.commits.WithLabelValues("error")
	return m
}

// register adds the collectors to reg (nil: none). The shared panic
// counter is optional: should another package have registered
// postdesk_panics_total with other help text, the store logs it and goes on
// without it rather than refusing to start.
func (m *metrics) register(reg prometheus.Registerer, log *slog.Logger) error {
	if reg == nil {
		return nil
	}
	for _, c := range []prometheus.Collector{m.commitDuration, m.batchSize, m.commits, m.quarantine} {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("register store metrics: %w", err)
		}
	}
	if err := reg.Register(m.panics); err != nil {
		var are prometheus.AlreadyRegisteredError
		if c, ok := are.ExistingCollector.(prometheus.Counter); errors.As(err, &are) && ok {
			m.panics = c
		} else {
			log.Warn("postdesk_panics_total not registered for the store", "err", err)
		}
	}
	return nil
}

func (m *metrics) observe(batch int, d time.Duration, committed bool) {
	m.commitDuration.Observe(d.Seconds())
	m.batchSize.Observe(float64(batch))
	if committed {
		m.commits.WithLabelValues("ok").Inc()
	} else {
		m.commits.WithLabelValues("error").Inc()
	}
}

// quarantineGauge is postdesk_quarantine_messages, counted when it is
// scraped: the quarantine changes in other processes too ("postdesk
// quarantine retry" and "drop", "postdesk import" next to a running
// daemon), which a gauge set after this process's own commits missed, so
// the alerts on it fired on after the operator had dealt with the mail.
// Should the count fail, the last one is reported (readiness reports the
// store's faults).
type quarantineGauge struct {
	desc  *prometheus.Desc
	count func(context.Context) (int, error)
	log   *slog.Logger

	mu   sync.Mutex
	last float64
}

func (g *quarantineGauge) Describe(ch chan<- *prometheus.Desc) { ch <- g.desc }

func (g *quarantineGauge) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	n, err := g.count(ctx)
	g.mu.Lock()
	if err == nil {
		g.last = float64(n)
	} else {
		g.log.Warn("count the quarantine for postdesk_quarantine_messages; reporting the last count", "err", err)
	}
	v := g.last
	g.mu.Unlock()
	ch <- prometheus.MustNewConstMetric(g.desc, prometheus.GaugeValue, v)
}
