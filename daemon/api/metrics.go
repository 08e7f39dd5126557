package api

import (
	"fmt"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// authSchemes are the values of postdesk_api_auth_failures_total's scheme
// label.
var authSchemes = []string{"basic", "bearer", "soticket", "apptoken", "xsrf", "none"}

// metrics are one API's collectors.
type metrics struct {
	requests     *prometheus.CounterVec
	duration     *prometheus.HistogramVec
	slow         *prometheus.CounterVec
	threshold    *prometheus.GaugeVec
	authFailures *prometheus.CounterVec
	panics       prometheus.Counter
}

// latencyBuckets are Prometheus' default buckets plus the slow threshold,
// so that the histogram tells how many calls were slow.
func latencyBuckets(slow time.Duration) []float64 {
	b := slices.Clone(prometheus.DefBuckets)
	b = append(b, 30, 60)
	if s := slow.Seconds(); !slices.Contains(b, s) {
		b = append(b, s)
		slices.Sort(b)
	}
	return b
}

func newMetrics(reg prometheus.Registerer, slow time.Duration) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "postdesk_api_requests_total",
			Help: "HTTP API requests by operation and status code.",
		}, []string{"method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "postdesk_api_request_duration_seconds",
			Help:    "HTTP API request latency by operation; one bucket is the slow threshold.",
			Buckets: latencyBuckets(slow),
		}, []string{"method"}),
		slow: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "postdesk_api_slow_calls_total",
			Help: "HTTP API calls slower than the NsApiSlow threshold.",
		}, []string{"method"}),
		threshold: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "postdesk_api_slow_threshold_seconds",
			Help: "The NsApiSlow threshold: calls slower than this are logged and counted.",
		}, []string{"method"}),
		authFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "postdesk_api_auth_failures_total",
			Help: "Rejected HTTP API authentications by scheme.",
		}, []string{"scheme"}),
		panics: prometheus.NewCounter(prometheus.CounterOpts{
			Name:        "postdesk_panics_total",
			Help:        "Panics recovered, by component.",
			ConstLabels: prometheus.Labels{"component": "api"},
		}),
	}
	for _, op := range operations {
		m.duration.WithLabelValues(op)
		m.slow.WithLabelValues(op)
		m.threshold.WithLabelValues(op).Set(slow.Seconds())
	}
	for _, op := range []string{opCreate, opGetTicket, opTicketPage} {
		m.requests.WithLabelValues(op, "200")
	}
	for _, s := range authSchemes {
		m.authFailures.WithLabelValues(s)
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range m.collectors() {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("api: register metrics: %w", err)
		}
	}
	return m, nil
}

func (m *metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.requests, m.duration, m.slow, m.threshold, m.authFailures, m.panics}
}
