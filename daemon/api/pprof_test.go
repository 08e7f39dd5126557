package api

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/postdesk/postdesk/store"
)

func TestPProfOffByDefault(t *testing.T) {
	e := shared(t)
	for _, path := range []string{"/debug/pprof/", "/debug/pprof/profile?seconds=1", "/debug/pprof/heap"} {
		r := e.do(t, req{method: http.MethodGet, path: path, auth: e.admin})
		if r.code != http.StatusNotFound {
			t.Errorf("GET %s without http.pprof: %d, want 404", path, r.code)
		}
	}
}

func TestPProfForAdminsOnly(t *testing.T) {
	e := newEnv(t, envConfig{tokens: true, api: func(o *Options) { o.PProf = true; o.SlowThreshold = time.Second }})
	imp, err := e.st.CreateToken(t.Context(), "importer", store.TokenBearer, store.RoleImport, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		auth string
		want int
	}{
		{"", http.StatusUnauthorized},
		{basic("admin", "wrong"), http.StatusUnauthorized},
		{e.importer, http.StatusForbidden},
		{"Bearer " + imp, http.StatusForbidden},
		{e.admin, http.StatusOK},
		{e.bearer, http.StatusOK},
	} {
		r := e.do(t, req{method: http.MethodGet, path: "/debug/pprof/", auth: c.auth})
		if r.code != c.want {
			t.Errorf("GET /debug/pprof/ with %q: %d, want %d", c.auth, r.code, c.want)
		}
		if c.want == http.StatusOK && !strings.Contains(r.body, "goroutine") {
			t.Errorf("the index lists no goroutine profile:\n%s", r.body)
		}
	}

	// A named profile, served through the index, in pprof's gzipped
	// protocol-buffer format.
	r := e.do(t, req{method: http.MethodGet, path: "/debug/pprof/heap", auth: e.admin})
	if r.code != http.StatusOK {
		t.Fatalf("heap profile: %d %s", r.code, r.body)
	}
	if zr, err := gzip.NewReader(bytes.NewReader([]byte(r.body))); err != nil {
		t.Errorf("heap profile is not gzip: %v", err)
	} else if _, err := io.ReadAll(zr); err != nil {
		t.Errorf("heap profile: %v", err)
	}

	// A CPU profile lasts as long as asked: counted as a request, never
	// as a slow call, though it outlasts the 1 s threshold.
	r = e.do(t, req{method: http.MethodGet, path: "/debug/pprof/profile?seconds=2", auth: e.admin})
	if r.code != http.StatusOK || len(r.body) == 0 {
		t.Fatalf("CPU profile: %d, %d bytes", r.code, len(r.body))
	}
	if v := metricValue(t, e.api.metrics.slow.WithLabelValues(opPProf)); v != 0 {
		t.Errorf("slow calls of PProf = %v, want 0", v)
	}
	if strings.Contains(e.logs.String(), "slow API call") {
		t.Errorf("a profile was logged as a slow call:\n%s", e.logs.String())
	}
	if v := metricValue(t, e.api.metrics.requests.WithLabelValues(opPProf, "200")); v < 3 {
		t.Errorf("PProf requests with 200 = %v, want at least 3", v)
	}
}
