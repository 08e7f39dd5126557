package faulttest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/postdesk/postdesk/imap/imaptest"
)

// TestCrashKill9 delivers mail into a real Dovecot, then kills "postdesk
// serve" with SIGKILL again and again while it drains the INBOX, restarting
// it each time, and lets the last run finish. Every delivered Message-ID
// must end up in exactly one ticket message, every mail \Seen, the
// quarantine empty. The "http" variant keeps HTTP imports in flight across
// the kills: every request answered 200 is stored, none twice.
func TestCrashKill9(t *testing.T) {
	for _, withHTTP := range []bool{false, true} {
		name := "imap"
		if withHTTP {
			name = "imap+http"
		}
		t.Run(name, func(t *testing.T) {
			crashRun(t, scale(300, 2000), scale(5, 20), withHTTP)
		})
	}
}

func crashRun(t *testing.T, n, kills int, withHTTP bool) {
	dv := imaptest.StartDovecot(t)
	postdesk.get(t)
	dir := t.TempDir()
	listen := freeAddr(t)
	cfg := filepath.Join(dir, "postdesk.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`http:
  listen: %s
store:
  path: %s
import:
  sender_cap: -1
mailboxes:
  - id: 607
    name: support
    address: support@example.com
    imap: {host: %s, port: %d, tls: none, username: %s, password: %q, after_import: seen, poll_interval: 1s, batch_size: 10}
`, listen, filepath.Join(dir, "postdesk.db"), dv.Host, dv.Port, dv.User, dv.Password)), 0o600); err != nil {
		t.Fatal(err)
	}

	delivered := make([]string, n)
	raws := make([][]byte, n)
	for i := range n {
		delivered[i] = fmt.Sprintf("crash-%d@faulttest.example", i)
		raws[i] = testMail(delivered[i], fmt.Sprintf("crash test %d", i), fmt.Sprintf("sender%d@acme.example", i%97))
	}
	if err := dv.DeliverMaildir(raws); err != nil {
		t.Fatal(err)
	}
	unseen := func() int {
		c, err := dv.Count("INBOX", "UNSEEN")
		if err != nil {
			t.Fatalf("doveadm search: %v", err)
		}
		return c
	}
	if u := unseen(); u != n {
		t.Fatalf("INBOX holds %d unseen mails, want %d", u, n)
	}

	var imp *httpImporters
	if withHTTP {
		token := strings.TrimSpace(runCLI(t, nil, "token", "create", "crash", "--kind", "bearer", "--config", cfg))
		token = token[strings.LastIndex(token, "\n")+1:]
		imp = startHTTPImporters(t, "http://"+listen, token, 3)
	}

	// Kill when the daemon has made progress: a random number of IMAP
	// imports since this start (its own /metrics), plus whatever it does
	// while the scrape answers. The kill lands anywhere between fetch,
	// commit and \Seen.
	logs := &syncBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("daemon log (all runs):\n%s\ndovecot log:\n%s", tail(logs.String(), 12000), tail(dv.Log(), 3000))
		}
	})
	midDrain, attempts := 0, 0
	step := max(1, n/(3*kills))
	for midDrain < kills {
		if attempts++; attempts > 4*kills {
			t.Fatalf("only %d of %d kills landed during a drain in %d attempts", midDrain, kills, attempts-1)
		}
		if unseen() < max(100, n/3) {
			// Batched commits drain fast: keep enough mail waiting that a
			// kill after the first commits still lands mid-drain.
			more := make([][]byte, max(100, n/2))
			for i := range more {
				id := fmt.Sprintf("crash-%d@faulttest.example", len(delivered))
				delivered = append(delivered, id)
				more[i] = testMail(id, "crash top-up", fmt.Sprintf("sender%d@acme.example", len(delivered)%97))
			}
			if err := dv.DeliverMaildir(more); err != nil {
				t.Fatal(err)
			}
		}
		p := startServe(t, cfg, listen, logs)
		target := float64(1 + rand.IntN(step))
		waitUntil(t, 60*time.Second, fmt.Sprintf("progress before kill %d", attempts), func() (bool, error) {
			select {
			case <-p.done:
				return false, fmt.Errorf("daemon exited: %v", p.err)
			default:
			}
			m, err := scrape(p.base)
			if err != nil {
				return false, nil
			}
			drained := sumMetric(m, "postdesk_imap_polls_total", "result", "ok") >= 1 && sumMetric(m, "postdesk_imap_backlog_messages") == 0
			return drained || sumMetric(m, "postdesk_imports_total", "source", "imap") >= target, nil
		})
		p.kill()
		if u := unseen(); u > 0 {
			midDrain++
		}
	}
	kills = attempts
	n = len(delivered)
	// The last run: wait for a complete pass with nothing left above the
	// cursor, then stop it gracefully.
	p := startServe(t, cfg, listen, logs)
	waitUntil(t, 3*time.Minute, "a complete IMAP pass", func() (bool, error) {
		m, err := scrape(p.base)
		if err != nil {
			return false, nil
		}
		return sumMetric(m, "postdesk_imap_polls_total", "result", "ok") >= 1 &&
			sumMetric(m, "postdesk_imap_backlog_messages") == 0, nil
	})
	if imp != nil {
		// Each run before was killed within moments, often before a new
		// token's first (slow) verification finished: let the importers
		// succeed against this last, undisturbed run too.
		waitUntilOrTimeout(60*time.Second, func() bool {
			ok, _ := imp.results()
			return len(ok) >= kills
		})
		imp.stop()
	}
	// \Seen is set right after the commit; give the last acknowledgements
	// a moment to land, then count what stays unread.
	waitUntilOrTimeout(10*time.Second, func() bool { return unseen() == 0 })
	p.stop(t)
	unacked := unseen()
	if unacked > 0 {
		t.Errorf("%d imported mails stay unread (not \\Seen) on the server after the crashes", unacked)
	}

	_, ids := listTickets(t, cfg)
	lost, dup := lostAndDuplicated(t, ids, delivered)
	record(t, "crash: mails acknowledged (\\Seen) after kill -9", n, n-unacked, 0, 0)
	if all, err := dv.Count("INBOX"); err != nil || all != n {
		t.Errorf("INBOX holds %d mails (%v), want %d", all, err, n)
	}
	if q := runCLI(t, nil, "quarantine", "list", "--config", cfg); !strings.Contains(q, "empty") {
		t.Errorf("quarantine not empty:\n%s", q)
	}
	t.Logf("%d kills, %d of them while mail was still unimported or unacknowledged", kills, midDrain)
	record(t, "crash: kill -9 of postdesk serve", kills, kills, 0, 0)
	record(t, "crash: mails delivered to Dovecot", n, n-lost-dup, lost, dup)

	if imp != nil {
		ok, sent := imp.results()
		hlost, hdup, stored := 0, 0, 0
		for id := range sent {
			c := ids[id]
			if c > 0 {
				stored++
			}
			if c > 1 {
				hdup++
				t.Errorf("HTTP import %s is stored %d times", id, c)
			}
		}
		for _, id := range ok {
			if ids[id] == 0 {
				hlost++
				t.Errorf("HTTP import %s was answered 200 but is not stored", id)
			}
		}
		t.Logf("HTTP imports: %d sent, %d answered 200, %d stored", len(sent), len(ok), stored)
		if len(ok) < kills {
			t.Errorf("only %d HTTP imports succeeded: the importers did not run across the kills", len(ok))
		}
		if len(sent) == len(ok) {
			t.Errorf("no HTTP import was cut by a kill: the importers did not run while the daemon was killed")
		}
		record(t, "crash: HTTP imports answered 200", len(ok), len(ok)-hlost, hlost, hdup)
		record(t, "crash: HTTP imports cut by kill -9", len(sent)-len(ok), len(sent)-len(ok), 0, 0)
	}
}

// scrape reads a daemon's /metrics.
func scrape(base string) ([]byte, error) {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("/metrics: %s", resp.Status)
	}
	return io.ReadAll(resp.Body)
}

// waitUntilOrTimeout polls cond for at most d and reports whether it held.
func waitUntilOrTimeout(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(25 * time.Millisecond) // polling interval of a condition
	}
	return true
}

// httpImporters post mails concurrently until stopped, remembering which
// requests were answered 200 and which were sent at all.
type httpImporters struct {
	quit chan struct{}
	wg   sync.WaitGroup

	mu   sync.Mutex
	ok   []string
	sent map[string]bool
}

func startHTTPImporters(t testing.TB, base, token string, workers int) *httpImporters {
	h := &httpImporters{quit: make(chan struct{}), sent: map[string]bool{}}
	client := &http.Client{Timeout: 20 * time.Second}
	for w := range workers {
		h.wg.Add(1)
		go func() {
			defer h.wg.Done()
			for i := 0; ; i++ {
				select {
				case <-h.quit:
					return
				default:
				}
				id := fmt.Sprintf("http-%d-%d@faulttest.example", w, i)
				body, _ := json.Marshal(map[string]any{"MailboxId": 607, "Data": string(testMail(id, "over http", fmt.Sprintf("web%d@acme.example", w)))})
				req, _ := http.NewRequest("POST", base+createPath, bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+token)
				h.mu.Lock()
				h.sent[id] = true
				h.mu.Unlock()
				resp, err := client.Do(req)
				if err != nil {
					// The daemon is down: wait for it rather than spin.
					select {
					case <-h.quit:
						return
					case <-time.After(20 * time.Millisecond):
					}
					continue
				}
				resp.Body.Close()
				if resp.StatusCode == 200 {
					h.mu.Lock()
					h.ok = append(h.ok, id)
					h.mu.Unlock()
				}
			}
		}()
	}
	t.Cleanup(h.stop)
	return h
}

func (h *httpImporters) stop() {
	select {
	case <-h.quit:
	default:
		close(h.quit)
	}
	h.wg.Wait()
}

func (h *httpImporters) results() (ok []string, sent map[string]bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.ok...), h.sent
}
