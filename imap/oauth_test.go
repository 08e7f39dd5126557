package imap

import (
	"cmp"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/postdesk/postdesk/imap/imaptest"
)

// memTokens is an in-memory TokenStore.
type memTokens struct {
	mu    sync.Mutex
	m     map[int64]string
	saves int
}

func (s *memTokens) OAuthToken(_ context.Context, id int64) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[id], nil
}

func (s *memTokens) SaveOAuthToken(_ context.Context, id int64, refresh string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[id] = refresh
	s.saves++
	return nil
}

func (s *memTokens) get(id int64) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[id]
}

// oauthProvider is a token endpoint that rotates the refresh token on every
// grant and hands out one access token per grant.
type oauthProvider struct {
	mu      sync.Mutex
	refresh string          // the only refresh token currently valid
	access  map[string]bool // issued access tokens
	grants  int
	n       int
	life    int // access token lifetime in seconds; 0: 3600
}

func (p *oauthProvider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	id, secret, _ := r.BasicAuth()
	if id == "" {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if r.PostForm.Get("grant_type") != "refresh_token" || id != "client" || secret != "client-secret" ||
		r.PostForm.Get("refresh_token") != p.refresh {
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant"})
		return
	}
	p.n++
	p.grants++
	access := "access-" + strings.Repeat("x", p.n)
	p.access[access] = true
	p.refresh = "refresh-rotated-" + strings.Repeat("r", p.n)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"access_token": access, "token_type": "Bearer", "expires_in": cmp.Or(p.life, 3600), "refresh_token": p.refresh,
	})
}

func (p *oauthProvider) valid(token string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.access[token]
}

func TestXOAuth2WithRotatedRefreshToken(t *testing.T) {
	t.Parallel()
	prov := &oauthProvider{refresh: "refresh-stored", access: make(map[string]bool)}
	endpoint := httptest.NewServer(prov)
	t.Cleanup(endpoint.Close)
	srv := startMem(t, &imaptest.MemOptions{XOAuth2: func(user, token string) bool {
		return user == "u" && prov.valid(token)
	}})
	if err := srv.Append("u", "INBOX", mail(1, "via oauth")); err != nil {
		t.Fatal(err)
	}
	// The store already holds a rotated token; the configured one is stale.
	tokens := &memTokens{m: map[int64]string{1: "refresh-stored"}}
	proxy := imaptest.StartProxy(t, srv.Addr)
	sink := newSink(t)
	h := newHarness(t, sink, tokens)
	cfg := memConfig(1, proxy.Host, proxy.Port)
	cfg.Auth, cfg.Password = AuthXOAuth2, ""
	cfg.OAuth = &OAuthConfig{TokenURL: endpoint.URL, ClientID: "client", ClientSecret: "client-secret",
		RefreshToken: "refresh-configured-stale", Scopes: []string{"https://mail.example.com/"}}
	before := time.Now()
	h.set(cfg)
	waitFor(t, sink, patience, "delivery over XOAUTH2", func() bool { return sink.count(1) == 1 })
	if got := tokens.get(1); got != "refresh-rotated-r" {
		t.Errorf("stored refresh token %q, want the rotated one", got)
	}
	exp := h.metric("postdesk_imap_oauth_token_expiry_timestamp_seconds", "1")
	if lo, hi := float64(before.Add(3590*time.Second).Unix()), float64(time.Now().Add(3601*time.Second).Unix()); exp < lo || exp > hi {
		t.Errorf("token expiry gauge %v, want about now+1h", exp)
	}
	for _, secret := range []string{"refresh-", "access-x", "client-secret"} {
		if strings.Contains(h.log.String(), secret) {
			t.Errorf("log contains %q", secret)
		}
	}

	// A reconnect reuses the cached access token: no second grant.
	proxy.Cut()
	if err := srv.Append("u", "INBOX", mail(2, "second")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, sink, patience, "second delivery", func() bool { return sink.count(1) == 2 })
	prov.mu.Lock()
	grants := prov.grants
	prov.mu.Unlock()
	if grants != 1 || proxy.Accepted() < 2 {
		t.Errorf("%d token grants over %d connections, want 1 grant and a reconnect", grants, proxy.Accepted())
	}
}

func TestXOAuth2RejectedTokenEndpoint(t *testing.T) {
	t.Parallel()
	prov := &oauthProvider{refresh: "something-else", access: make(map[string]bool)}
	endpoint := httptest.NewServer(prov)
	t.Cleanup(endpoint.Close)
	srv := startMem(t, &imaptest.MemOptions{XOAuth2: func(string, string) bool { return true }})
	h := newHarness(t, newSink(t), &memTokens{m: map[int64]string{}})
	cfg := memConfig(1, srv.Host, srv.Port)
	cfg.Auth = AuthXOAuth2
	cfg.OAuth = &OAuthConfig{TokenURL: endpoint.URL, ClientID: "client", ClientSecret: "client-secret", RefreshToken: "revoked"}
	h.set(cfg)
	waitFor(t, h.sink, patience, "auth failures", func() bool {
		return h.metric("postdesk_imap_auth_failures_total", "1") >= 2
	})
	if st := h.status(1); !strings.Contains(st.LastError, "oauth token endpoint") {
		t.Errorf("LastError = %q", st.LastError)
	}
}

// A running session renews an access token close to its expiry without
// reconnecting, so the expiry gauge stays ahead while renewal works.
func TestXOAuth2RenewedAheadOfExpiry(t *testing.T) {
	t.Parallel()
	prov := &oauthProvider{refresh: "refresh-1", access: make(map[string]bool), life: 120}
	endpoint := httptest.NewServer(prov)
	t.Cleanup(endpoint.Close)
	srv := startMem(t, &imaptest.MemOptions{XOAuth2: func(user, token string) bool { return prov.valid(token) }})
	proxy := imaptest.StartProxy(t, srv.Addr)
	sink := newSink(t)
	h := newHarness(t, sink, &memTokens{m: map[int64]string{}})
	cfg := memConfig(1, proxy.Host, proxy.Port)
	cfg.Auth, cfg.Password = AuthXOAuth2, ""
	cfg.OAuth = &OAuthConfig{TokenURL: endpoint.URL, ClientID: "client", ClientSecret: "client-secret", RefreshToken: "refresh-1"}
	h.set(cfg)
	for i := range 2 {
		if err := srv.Append("u", "INBOX", mail(i, "renew")); err != nil {
			t.Fatal(err)
		}
		waitFor(t, sink, patience, "delivery", func() bool { return sink.count(1) == i+1 })
	}
	waitFor(t, sink, patience, "a renewal within the session", func() bool {
		prov.mu.Lock()
		defer prov.mu.Unlock()
		return prov.grants >= 2
	})
	if n := proxy.Accepted(); n != 1 {
		t.Errorf("%d connections: renewal must not need a reconnect", n)
	}
}
