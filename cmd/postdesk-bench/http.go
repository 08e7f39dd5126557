package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/postdesk/postdesk/store"
)

const createPath = "/api/v1/Agents/CustomerService/CreateTicketFromMailData"

// idPlaceholder marks where a request body gets its unique Message-ID.
const idPlaceholder = "POSTDESK-BENCH-MESSAGE-ID-PLACEHOLDER"

// server is the real binary ("postdesk serve") in a child process, with
// API tokens.
type server struct {
	ch      *child
	base    string
	token   string    // import role
	admin   string    // admin role, for /debug/pprof/
	started time.Time // when the process was started
	once    sync.Once
}

// serverStarts counts startServer calls.
var serverStarts atomic.Int64

// startServer runs "postdesk serve" on the store at path, creating an
// import and an admin token first, with the sender cap raised, the
// daemon's own collector settings (childGC) and its profiles served.
// mailboxes is the configuration's mailboxes section; "" configures the
// bench mailbox for manual import only.
func startServer(b *bench, path, mailboxes string) (*server, error) {
	bin, err := buildBinary(b)
	if err != nil {
		return nil, err
	}
	return startServerBin(b, bin, path, mailboxes)
}

// startServerBin is startServer with the binary bin.
func startServerBin(b *bench, bin, path, mailboxes string) (*server, error) {
	if mailboxes == "" {
		mailboxes = fmt.Sprintf("mailboxes:\n  - id: %d\n    name: bench\n", benchMailbox)
	}
	st, err := store.Open(path, store.Options{Logger: quietLogger()})
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	// Names of their own: a store may serve a second daemon.
	n := serverStarts.Add(1)
	if err := st.CreateUser(ctx, fmt.Sprintf("bench-%d", n), store.RoleImport, "bench-password-not-secret"); err != nil {
		st.Close()
		return nil, fmt.Errorf("create user: %w", err)
	}
	token, err := st.CreateToken(ctx, fmt.Sprintf("bench-%d", n), store.TokenBearer, store.RoleImport, time.Time{})
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("create token: %w", err)
	}
	admin, err := st.CreateToken(ctx, fmt.Sprintf("bench-admin-%d", n), store.TokenBearer, store.RoleAdmin, time.Time{})
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("create token: %w", err)
	}
	if err := st.Close(); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(b.dir, "serve-")
	if err != nil {
		return nil, err
	}
	started := time.Now()
	c, err := startChild(bin, dir, fmt.Sprintf("store:\n  path: %s\nimport:\n  sender_cap: %d\n%s", path, benchSenderCap, mailboxes),
		"POSTDESK_HTTP_PPROF=true")
	if err != nil {
		return nil, err
	}
	return &server{ch: c, base: c.base, token: token, admin: admin, started: started}, nil
}

// close stops the daemon; closing again does nothing.
func (s *server) close() { s.once.Do(s.ch.stop) }

// client returns a load client for up to conns parallel requests.
func (s *server) client(conns int) *loadClient {
	return newLoadClient(s.base, createPath, s.token, conns)
}

// bodies holds the corpus as JSON request bodies split at the Message-ID,
// so that a request costs the load generator a concatenation, not an
// encoding.
type bodies struct {
	parts [][2][]byte
	c     *corpus
}

func newBodies(c *corpus) (*bodies, error) {
	b := &bodies{c: c}
	for _, raw := range c.mails {
		js, err := json.Marshal(map[string]any{"MailboxId": benchMailbox, "Data": string(withMessageID(raw, idPlaceholder))})
		if err != nil {
			return nil, err
		}
		pre, post, ok := bytes.Cut(js, []byte(idPlaceholder))
		if !ok {
			return nil, fmt.Errorf("json body: Message-ID placeholder lost")
		}
		b.parts = append(b.parts, [2][]byte{pre, post})
	}
	return b, nil
}

// next returns the next request body with a fresh Message-ID, in the
// pieces the load generator writes with one writev: the prebuilt parts
// around the ID are not copied (a copy of each body cost the generator
// more than its share of the cores lets it spend).
func (b *bodies) next(tag string) [][]byte {
	n := b.c.seq.Add(1) - 1
	p := b.parts[int(n)%len(b.parts)]
	return [][]byte{p[0], fmt.Appendf(nil, "<%s-%d@bench.postdesk.invalid>", tag, n), p[1]}
}

// httpTarget is the HTTP row's target at concurrency 32.
const httpTarget = "≥ 0.50× floor, p99 < 100 ms, 0 errors"

// runHTTP drives CreateTicketFromMailData over loopback at each
// concurrency against one daemon on an empty store.
func runHTTP(ctx context.Context, b *bench, floor float64) []row {
	srv, err := startServer(b, filepath.Join(b.dir, "http.db"), "")
	if err != nil {
		return []row{skipped("http", "HTTP", httpTarget, fmt.Sprintf("start daemon: %v", err))}
	}
	defer srv.close()
	bods, err := newBodies(b.corpus)
	if err != nil {
		return []row{skipped("http", "HTTP", httpTarget, err.Error())}
	}
	var rows []row
	rows = append(rows, coldStart(srv, bods, 32))
	for _, conc := range []int{1, 8, 32, 128} {
		if ctx.Err() != nil {
			break
		}
		st := httpStep(b, srv, bods, conc, conc == 32 && b.httpProfile != "")
		l := st.l
		r := row{Group: "http", Name: fmt.Sprintf("HTTP: CreateTicketFromMailData to postdesk serve over loopback, concurrency %d", conc),
			Result: fmt.Sprintf("%.0f tickets/s, p50 %s, p99 %s, %d errors; server CPU %s; %s", l.perSec(), ms(l.lat.pct(50)), ms(l.lat.pct(99)), l.errs,
				perRequest(st.cpu, l.n, "ticket"), st.after.describe(st.before, l.elapsed)),
			Ratio: ratio(l.perSec(), floor) + " floor"}
		if floor == 0 {
			r.Ratio = ""
		}
		if conc == 32 {
			r.Target = httpTarget
			switch {
			case floor == 0:
				r.Met = "no floor measured"
			default:
				r.Met = metStr(l.perSec() >= 0.5*floor && l.lat.pct(99) < 100*time.Millisecond && l.errs == 0)
			}
		}
		rows = append(rows, r)
	}
	return rows
}

// step is one load step against a daemon: the load, the daemon's CPU
// time over it (-1 when unknown) and its commit histograms around it.
type step struct {
	l             load
	cpu           time.Duration
	before, after commitSnap
}

// httpStep drives CreateTicketFromMailData at concurrency conc for b.dur,
// profiling the daemon meanwhile into b.httpProfile when profile is set.
func httpStep(b *bench, srv *server, bods *bodies, conc int, profile bool) step {
	client := srv.client(conc)
	defer client.closeIdle()
	var profiled chan error
	if profile {
		profiled = make(chan error, 1)
		go func() { profiled <- srv.cpuProfile(b.httpProfile, b.dur) }()
	}
	var st step
	cpu0 := srv.cpu()
	st.before = commitStats(srv)
	st.l = drive(b.dur, conc, func() error { return client.post(bods.next("http")...) })
	st.after = commitStats(srv)
	st.cpu = -1
	if cpu1 := srv.cpu(); cpu0 >= 0 && cpu1 >= 0 {
		st.cpu = cpu1 - cpu0
	}
	if profiled != nil {
		if err := <-profiled; err != nil {
			b.logf("http c=%d: CPU profile of postdesk serve: %v", conc, err)
		}
	}
	if st.l.firstEr != nil {
		b.logf("http c=%d: first error: %v", conc, st.l.firstEr)
	}
	return st
}

// cpu is the child's CPU time so far; -1 when unknown.
func (s *server) cpu() time.Duration {
	d, err := s.ch.cpu()
	if err != nil {
		return -1
	}
	return d
}

// perRequest renders CPU time per unit of work ("?" when unknown).
func perRequest(cpu time.Duration, n int, unit string) string {
	if cpu < 0 || n == 0 {
		return "?"
	}
	return fmt.Sprintf("%d µs/%s", (cpu / time.Duration(n)).Microseconds(), unit)
}

// Gather reads the child daemon's /metrics, so that commitStats works on
// it as on an in-process registry.
func (s *server) Gather() ([]*dto.MetricFamily, error) {
	resp, err := http.Get(s.base + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /metrics: HTTP %d", resp.StatusCode)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, err
	}
	out := make([]*dto.MetricFamily, 0, len(fams))
	for _, mf := range fams {
		out = append(out, mf)
	}
	return out, nil
}

// cpuProfile writes a CPU profile of the child daemon over dur (whole
// seconds, at least one) to path, from its /debug/pprof/profile.
func (s *server) cpuProfile(path string, dur time.Duration) error {
	req, err := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", s.base, max(1, int(dur.Seconds()))), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+s.admin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(msg)))
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// coldStart sends conc requests at once to a server that has not seen its
// token yet, as a client pool does after a restart: until a verification
// is cached, each request pays a full password-hash verification.
func coldStart(srv *server, bods *bodies, conc int) row {
	client := srv.client(conc)
	defer client.closeIdle()
	l := drive(0, conc, func() error { return client.post(bods.next("cold")...) })
	return row{Group: "http", Name: fmt.Sprintf("HTTP: cold start, %d concurrent first requests with one Bearer token", conc),
		Result: fmt.Sprintf("slowest %s, p50 %s, %d errors", ms(l.lat.pct(100)), ms(l.lat.pct(50)), l.errs)}
}
