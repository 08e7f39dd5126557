package ticket

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the import core's Prometheus metrics, one set per Service.
type metrics struct {
	imports  *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		imports: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "postdesk_imports_total",
			Help: "Mails imported by mailbox, source (imap, http, cli) and outcome.",
		}, []string{"mailbox", "source", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "postdesk_import_duration_seconds",
			Help:    "Time to import one mail, including the durable commit.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"source"}),
	}
	for _, src := range Sources {
		m.duration.WithLabelValues(string(src))
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.imports, m.duration} {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}

// initMailbox starts every counter of a configured mailbox at 0.
func (m *metrics) initMailbox(id int64) {
	mb := strconv.FormatInt(id, 10)
	for _, src := range Sources {
		for _, o := range Outcomes {
			m.imports.WithLabelValues(mb, string(src), string(o))
		}
	}
}

func (m *metrics) observe(mailbox int64, src Source, o Outcome, d time.Duration) {
	m.imports.WithLabelValues(strconv.FormatInt(mailbox, 10), string(src), string(o)).Inc()
	m.duration.WithLabelValues(string(src)).Observe(d.Seconds())
}
