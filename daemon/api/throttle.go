package api

import (
	"sync"
	"time"
)

// Throttling of failed authentications per client address.
const (
	throttleBaseDelay  = time.Second
	throttleMaxDelay   = 15 * time.Minute
	throttleForget     = 30 * time.Minute // failures older than this are forgotten
	throttleMaxClients = 100_000
)

// throttle slows down clients that keep failing to authenticate: after
// limit failures from one address, every further failure blocks that
// address for an exponentially growing time (1 s, 2 s, 4 s … capped at
// 15 min), during which its requests are answered 429 without looking at
// the credentials. A success clears the address. Safe for concurrent use.
type throttle struct {
	limit int
	now   func() time.Time

	mu      sync.Mutex
	clients map[string]*failures
}

type failures struct {
	n     int
	last  time.Time
	until time.Time
}

func newThrottle(limit int, now func() time.Time) *throttle {
	return &throttle{limit: limit, now: now, clients: map[string]*failures{}}
}

// blocked reports whether client must wait, and how long.
func (t *throttle) blocked(client string) (time.Duration, bool) {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	f, ok := t.clients[client]
	if !ok {
		return 0, false
	}
	if now.Sub(f.last) > throttleForget {
		delete(t.clients, client)
		return 0, false
	}
	if now.Before(f.until) {
		return f.until.Sub(now), true
	}
	return 0, false
}

// failure records a failed authentication from client.
func (t *throttle) failure(client string) {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	f, ok := t.clients[client]
	if !ok || now.Sub(f.last) > throttleForget {
		if len(t.clients) >= throttleMaxClients {
			t.prune(now)
		}
		f = &failures{}
		t.clients[client] = f
	}
	f.n++
	f.last = now
	if over := f.n - t.limit; over >= 0 {
		d := throttleMaxDelay
		if over < 20 {
			d = min(throttleBaseDelay<<over, throttleMaxDelay)
		}
		f.until = now.Add(d)
	}
}

// success forgets client's failures.
func (t *throttle) success(client string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.clients, client)
}

// prune drops forgotten clients; when an attack from very many addresses
// still fills the table, it starts over rather than grow without bound.
func (t *throttle) prune(now time.Time) {
	for k, f := range t.clients {
		if now.Sub(f.last) > throttleForget && !now.Before(f.until) {
			delete(t.clients, k)
		}
	}
	if len(t.clients) >= throttleMaxClients {
		clear(t.clients)
	}
}
