package api

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/postdesk/postdesk/store"
	"github.com/postdesk/postdesk/ticket"
)

// clock is an injectable clock; every Now call advances it by step.
type clock struct {
	mu   sync.Mutex
	t    time.Time
	step time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(c.step)
	return c.t
}

func (c *clock) set(step time.Duration) {
	c.mu.Lock()
	c.step = step
	c.mu.Unlock()
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// logBuffer collects log output for assertions.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// env is a real API over HTTP on a real SQLite store and ticket.Service,
// configured with mailbox 607.
type env struct {
	srv   *httptest.Server
	api   *API
	st    *store.Store
	svc   *ticket.Service
	reg   *prometheus.Registry
	clock *clock
	logs  *logBuffer

	admin, importer  string // Authorization header values (Basic)
	bearer, soticket string // Authorization header values (admin tokens)
}

var mailbox607 = ticket.Mailbox{ID: 607, Name: "support", Address: "support@example.com",
	Category: "Technical Support", Priority: "Medium", Owner: "Sarah Johnson"}

type envConfig struct {
	api     func(*Options)
	service func(*ticket.Options)
	tokens  bool // also issue the bearer and soticket tokens
}

func startEnv(dir string, cfg envConfig) (*env, error) {
	e := &env{reg: prometheus.NewRegistry(), clock: &clock{t: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)}, logs: &logBuffer{}}
	log := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var err error
	if e.st, err = store.Open(filepath.Join(dir, "postdesk.db"), store.Options{Logger: log, Registerer: e.reg, HashIterations: 4096}); err != nil {
		return nil, err
	}
	so := ticket.Options{Repo: e.st, Mailboxes: []ticket.Mailbox{mailbox607}, Logger: log, Registerer: e.reg}
	if cfg.service != nil {
		cfg.service(&so)
	}
	if e.svc, err = ticket.NewService(so); err != nil {
		return nil, err
	}
	ctx := context.Background()
	if err := e.st.CreateUser(ctx, "admin", store.RoleAdmin, "admin-pw"); err != nil {
		return nil, err
	}
	if err := e.st.CreateUser(ctx, "importer", store.RoleImport, "import-pw"); err != nil {
		return nil, err
	}
	e.admin = basic("admin", "admin-pw")
	e.importer = basic("importer", "import-pw")
	if cfg.tokens {
		sec, err := e.st.CreateToken(ctx, "crm", store.TokenBearer, store.RoleAdmin, time.Now().Add(time.Hour))
		if err != nil {
			return nil, err
		}
		e.bearer = "Bearer " + sec
		if sec, err = e.st.CreateToken(ctx, "so", store.TokenSOTicket, store.RoleAdmin, time.Time{}); err != nil {
			return nil, err
		}
		e.soticket = "SOTicket " + sec
	}
	e.srv = httptest.NewUnstartedServer(nil)
	opts := Options{
		Service: e.svc, Store: e.st, PublicURL: "http://" + e.srv.Listener.Addr().String(),
		Gatherer: e.reg, Registerer: e.reg, Logger: log, Now: e.clock.Now,
	}
	if cfg.api != nil {
		cfg.api(&opts)
	}
	if e.api, err = New(opts); err != nil {
		return nil, err
	}
	e.srv.Config.Handler = e.api.Handler()
	e.srv.Start()
	return e, nil
}

func (e *env) close() {
	e.srv.Close()
	e.st.Close()
}

// newEnv starts an env for one test.
func newEnv(t *testing.T, cfg envConfig) *env {
	t.Helper()
	e, err := startEnv(t.TempDir(), cfg)
	if err != nil {
		t.Fatalf("start env: %v", err)
	}
	t.Cleanup(e.close)
	return e
}

// The shared env serves the tests that need no special configuration: the
// slow password hash makes every fresh env cost seconds under -race.
var (
	sharedOnce sync.Once
	sharedEnv  *env
	sharedErr  error
	sharedDir  string
)

func shared(t *testing.T) *env {
	t.Helper()
	sharedOnce.Do(func() {
		if sharedDir, sharedErr = os.MkdirTemp("", "postdesk-api-test"); sharedErr != nil {
			return
		}
		sharedEnv, sharedErr = startEnv(sharedDir, envConfig{
			tokens: true,
			api: func(o *Options) {
				o.MaxBodyBytes = 1 << 20
				o.AuthFailureLimit = 1 << 20 // throttling has its own test
				o.Names = map[string]map[string]string{
					"Technical Support": {"de": "Technischer Support", "nl": "Technische ondersteuning", "nb": "Teknisk støtte", "sv": "Teknisk support"},
					"Medium":            {"de": "Mittel", "nl": "Gemiddeld"},
				}
			},
		})
	})
	if sharedErr != nil {
		t.Fatalf("shared env: %v", sharedErr)
	}
	return sharedEnv
}

func TestMain(m *testing.M) {
	code := m.Run()
	if sharedEnv != nil {
		sharedEnv.close()
	}
	if sharedDir != "" {
		os.RemoveAll(sharedDir)
	}
	os.Exit(code)
}

// metricValue reads a counter or gauge. (prometheus/testutil is not
// usable: its diff dependency is missing from go.sum.)
func metricValue(t *testing.T, c prometheus.Collector) float64 {
	t.Helper()
	ch := make(chan prometheus.Metric, 1)
	go func() { c.Collect(ch); close(ch) }()
	var sum float64
	n := 0
	for m := range ch {
		var pb dto.Metric
		if err := m.Write(&pb); err != nil {
			t.Fatal(err)
		}
		switch {
		case pb.Counter != nil:
			sum += pb.Counter.GetValue()
		case pb.Gauge != nil:
			sum += pb.Gauge.GetValue()
		}
		n++
	}
	if n != 1 {
		t.Fatalf("collector gave %d metrics, want 1", n)
	}
	return sum
}

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// req is one HTTP request of a test.
type req struct {
	method, path, ctype, auth, body string
	header                          map[string]string
}

type resp struct {
	code   int
	header http.Header
	body   string
}

func (e *env) do(t *testing.T, r req) resp {
	t.Helper()
	if r.method == "" {
		r.method = http.MethodPost
	}
	hr, err := http.NewRequest(r.method, e.srv.URL+r.path, strings.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	if r.ctype != "" {
		hr.Header.Set("Content-Type", r.ctype)
	}
	if r.auth != "" {
		hr.Header.Set("Authorization", r.auth)
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	res, err := e.srv.Client().Do(hr)
	if err != nil {
		t.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp{code: res.StatusCode, header: res.Header, body: string(b)}
}

const createPath = "/api/v1/Agents/CustomerService/CreateTicketFromMailData"

var msgSeq struct {
	sync.Mutex
	n int
}

// mail builds a unique plain-text RFC 822 message.
func mail(from, subject string) string {
	msgSeq.Lock()
	msgSeq.n++
	n := msgSeq.n
	msgSeq.Unlock()
	return fmt.Sprintf("From: %s\r\nTo: support@example.com\r\nSubject: %s\r\nDate: Thu, 26 Nov 2026 10:00:00 +0000\r\n"+
		"Message-ID: <api-test-%d-%d@example.com>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nMy printer is on fire (%d).\r\n",
		from, subject, n, time.Now().UnixNano(), n)
}

// jsonBody is the SuperOffice request body.
func jsonBody(mailbox int, data string) string {
	b, _ := json.Marshal(map[string]any{"MailboxId": mailbox, "Data": data})
	return string(b)
}

// decodeInfo decodes a JSON TicketInfo into a generic map, keeping nulls.
func decodeInfo(t *testing.T, body string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("TicketInfo is not JSON: %v\n%s", err, body)
	}
	return m
}

// errorOf decodes a JSON error body and checks its SuperOffice shape.
func errorOf(t *testing.T, r resp) errorBody {
	t.Helper()
	var e errorBody
	if err := json.Unmarshal([]byte(r.body), &e); err != nil {
		t.Fatalf("error body is not JSON: %v\n%s", err, r.body)
	}
	if !e.Error || e.ErrorType == "" || e.ErrorMessage == "" || e.Message == "" || e.ErrorSource != "postdesk" {
		t.Errorf("error body not in SuperOffice's shape: %s", r.body)
	}
	return e
}
