package api

import (
	"context"
	"errors"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
)

func TestHealthAndReadiness(t *testing.T) {
	e := shared(t)
	if r := e.do(t, req{method: http.MethodGet, path: "/healthz"}); r.code != 200 {
		t.Errorf("/healthz %d", r.code)
	}
	if r := e.do(t, req{method: http.MethodGet, path: "/readyz"}); r.code != 200 {
		t.Errorf("/readyz %d %s", r.code, r.body)
	}
	notReady := newEnv(t, envConfig{api: func(o *Options) {
		o.Ready = func(context.Context) error { return errors.New("mailbox 607 has not polled for 10m") }
	}})
	r := notReady.do(t, req{method: http.MethodGet, path: "/readyz"})
	if r.code != 503 || !strings.Contains(r.body, "mailbox 607 has not polled") {
		t.Errorf("/readyz not ready: %d %q", r.code, r.body)
	}
}

func TestSlowCallsCountedAndLogged(t *testing.T) {
	e := newEnv(t, envConfig{api: func(o *Options) { o.SlowThreshold = 5 * time.Second }})
	slow := e.api.metrics.slow.WithLabelValues(opCreate)
	if v := metricValue(t, slow); v != 0 {
		t.Fatalf("slow calls before = %v", v)
	}
	fast := e.do(t, req{path: createPath, ctype: "application/json", auth: e.admin, body: jsonBody(607, mail("f@customer.example", "fast"))})
	if fast.code != 200 || metricValue(t, slow) != 0 {
		t.Fatalf("a fast call was counted slow: %d", fast.code)
	}
	// Every reading of the injected clock now advances it by 3 s, so the
	// call spans more than the 5 s threshold without any real waiting.
	e.clock.set(3 * time.Second)
	r := e.do(t, req{path: createPath, ctype: "application/json", auth: e.admin, body: jsonBody(607, mail("s@customer.example", "slow")),
		header: map[string]string{"X-Request-Id": "slow-req-42"}})
	e.clock.set(0)
	if r.code != 200 || r.header.Get("X-Request-Id") != "slow-req-42" {
		t.Fatalf("slow call: %d, request id %q", r.code, r.header.Get("X-Request-Id"))
	}
	if v := metricValue(t, slow); v != 1 {
		t.Errorf("slow calls = %v, want 1", v)
	}
	if !regexp.MustCompile(`level=WARN msg="slow API call" request_id=slow-req-42 method=CreateTicketFromMailData`).MatchString(e.logs.String()) {
		t.Errorf("no WARN line with the request id:\n%s", e.logs.String())
	}
	if v := metricValue(t, e.api.metrics.threshold.WithLabelValues(opCreate)); v != 5 {
		t.Errorf("threshold gauge = %v", v)
	}
}

func TestMetricsExposition(t *testing.T) {
	e := shared(t)
	e.do(t, req{path: createPath, ctype: "application/json", auth: e.admin, body: jsonBody(607, mail("m@customer.example", "metrics"))})
	r := e.do(t, req{method: http.MethodGet, path: "/metrics"})
	if r.code != 200 {
		t.Fatalf("/metrics %d", r.code)
	}
	for _, want := range []string{
		`postdesk_api_requests_total{code="200",method="CreateTicketFromMailData"}`,
		`postdesk_api_request_duration_seconds_bucket{method="CreateTicketFromMailData",le="5"}`,
		`postdesk_api_slow_calls_total{method="CreateTicketFromMailData"} 0`,
		`postdesk_api_slow_threshold_seconds{method="CreateTicketFromMailData"} 5`,
		`postdesk_api_auth_failures_total{scheme="soticket"}`,
		`postdesk_panics_total{component="api"}`,
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	// The API's own collectors pass promlint (what testutil.CollectAndLint
	// runs; testutil itself cannot be built here: go.sum lacks its diff
	// dependency).
	reg := prometheus.NewPedanticRegistry()
	for _, c := range e.api.metrics.collectors() {
		reg.MustRegister(c)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	problems, err := promlint.NewWithMetricFamilies(mfs).Lint()
	if err != nil || len(problems) > 0 {
		t.Errorf("promlint: %v %v", problems, err)
	}

	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool is not installed (Debian package prometheus); skipping `promtool check metrics`")
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(r.body)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

func TestLatencyBucketsContainThreshold(t *testing.T) {
	for _, d := range []time.Duration{5 * time.Second, 2500 * time.Millisecond, 42 * time.Second} {
		found := false
		for _, b := range latencyBuckets(d) {
			found = found || b == d.Seconds()
		}
		if !found {
			t.Errorf("buckets for %v lack it: %v", d, latencyBuckets(d))
		}
	}
}
