package store

import (
	"context"
	"crypto/pbkdf2"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/postdesk/postdesk/ticket"
)

// testHashIterations keeps PBKDF2 cheap where a test is about the logic,
// not the work factor (a full hash costs about a second under -race).
const testHashIterations = 4096

func openAuthStore(t *testing.T, path string) *Store {
	t.Helper()
	return openAuthStoreIter(t, path, testHashIterations)
}

// openAuthStoreIter opens a store hashing with iter PBKDF2 iterations
// (0: the production default).
func openAuthStoreIter(t *testing.T, path string, iter int) *Store {
	t.Helper()
	s, err := Open(path, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), HashIterations: iter})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestUserLifecycle(t *testing.T) {
	ctx := context.Background()
	s := openAuthStore(t, filepath.Join(t.TempDir(), "p.db"))

	if err := s.CreateUser(ctx, "alice", RoleAdmin, "correct horse"); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	if err := s.CreateUser(ctx, "ALICE", RoleImport, "x"); !errors.Is(err, ErrExists) {
		t.Fatalf("CreateUser duplicate (other case) = %v, want ErrExists", err)
	}
	if err := s.CreateUser(ctx, "bob", RoleImport, "battery staple"); err != nil {
		t.Fatalf("CreateUser bob: %v", err)
	}
	for _, bad := range []struct {
		name, pass string
		role       Role
	}{{"a:b", "p", RoleAdmin}, {"", "p", RoleAdmin}, {"with space", "p", RoleAdmin}, {"carol", "", RoleAdmin}, {"carol", "p", "root"}} {
		if err := s.CreateUser(ctx, bad.name, bad.role, bad.pass); err == nil {
			t.Errorf("CreateUser(%q, %q, %q) succeeded", bad.name, bad.role, bad.pass)
		}
	}

	users, err := s.ListUsers(ctx)
	if err != nil {
		t.Fatalf("ListUsers: %v", err)
	}
	if len(users) != 2 || users[0].Name != "alice" || users[0].Role != RoleAdmin || users[1].Name != "bob" || users[1].Role != RoleImport {
		t.Fatalf("ListUsers = %+v", users)
	}
	if users[0].CreatedAt.IsZero() || time.Since(users[0].CreatedAt) > time.Minute {
		t.Errorf("CreatedAt = %v", users[0].CreatedAt)
	}

	p, err := s.AuthenticatePassword(ctx, "alice", "correct horse")
	if err != nil || p != (Principal{Name: "alice", Role: RoleAdmin, Kind: "basic"}) {
		t.Fatalf("AuthenticatePassword = %+v, %v", p, err)
	}
	for _, c := range [][2]string{{"alice", "Correct horse"}, {"alice", ""}, {"nobody", "correct horse"}, {"bob", "correct horse"}} {
		if _, err := s.AuthenticatePassword(ctx, c[0], c[1]); !errors.Is(err, ErrBadCredentials) {
			t.Errorf("AuthenticatePassword(%q, %q) = %v, want ErrBadCredentials", c[0], c[1], err)
		}
	}

	// A changed password takes effect at once, even though the old one is
	// cached.
	if err := s.SetPassword(ctx, "alice", "new secret"); err != nil {
		t.Fatalf("SetPassword: %v", err)
	}
	if _, err := s.AuthenticatePassword(ctx, "alice", "correct horse"); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("old password after SetPassword: %v", err)
	}
	if _, err := s.AuthenticatePassword(ctx, "alice", "new secret"); err != nil {
		t.Errorf("new password: %v", err)
	}
	if err := s.SetPassword(ctx, "nobody", "x"); !errors.Is(err, ticket.ErrNotFound) {
		t.Errorf("SetPassword(nobody) = %v, want ErrNotFound", err)
	}

	if err := s.RemoveUser(ctx, "alice"); err != nil {
		t.Fatalf("RemoveUser: %v", err)
	}
	if _, err := s.AuthenticatePassword(ctx, "alice", "new secret"); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("removed user authenticated: %v", err)
	}
	if err := s.RemoveUser(ctx, "alice"); !errors.Is(err, ticket.ErrNotFound) {
		t.Errorf("RemoveUser twice = %v, want ErrNotFound", err)
	}
}

var hashFormat = regexp.MustCompile(`^\$pbkdf2-sha256\$i=310000\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)

func TestSecretsStoredOnlyAsSaltedSlowHashes(t *testing.T) {
	ctx := context.Background()
	s := openAuthStoreIter(t, filepath.Join(t.TempDir(), "p.db"), 0) // the production work factor
	for _, n := range []string{"u1", "u2"} {
		if err := s.CreateUser(ctx, n, RoleAdmin, "same password"); err != nil {
			t.Fatal(err)
		}
	}
	secret, err := s.CreateToken(ctx, "ci", TokenBearer, RoleImport, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var h1, h2, th string
	if err := s.DB().QueryRow(`SELECT password_hash FROM users WHERE name = 'u1'`).Scan(&h1); err != nil {
		t.Fatal(err)
	}
	if err := s.DB().QueryRow(`SELECT password_hash FROM users WHERE name = 'u2'`).Scan(&h2); err != nil {
		t.Fatal(err)
	}
	if err := s.DB().QueryRow(`SELECT secret_hash FROM api_tokens WHERE name = 'ci'`).Scan(&th); err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{h1, h2, th} {
		if !hashFormat.MatchString(h) {
			t.Errorf("stored hash %q does not have the PBKDF2 format", h)
		}
		if strings.Contains(h, "same password") || strings.Contains(h, secret) {
			t.Errorf("stored hash %q contains the secret", h)
		}
	}
	if h1 == h2 {
		t.Error("equal passwords gave equal hashes: no per-secret salt")
	}
}

var tokenFormat = regexp.MustCompile(`^pdt_[0-9]+_[A-Za-z0-9_-]{43}$`)

func TestTokenLifecycle(t *testing.T) {
	ctx := context.Background()
	s := openAuthStore(t, filepath.Join(t.TempDir(), "p.db"))

	bearer, err := s.CreateToken(ctx, "ci", TokenBearer, RoleImport, time.Now().Add(90*24*time.Hour))
	if err != nil {
		t.Fatalf("CreateToken: %v", err)
	}
	soticket, err := s.CreateToken(ctx, "crm", "SOTicket", RoleAdmin, time.Time{})
	if err != nil {
		t.Fatalf("CreateToken soticket: %v", err)
	}
	for _, sec := range []string{bearer, soticket} {
		if !tokenFormat.MatchString(sec) {
			t.Errorf("token %q does not look like pdt_<id>_<base64url>", sec)
		}
	}
	if _, err := s.CreateToken(ctx, "ci", TokenBearer, RoleAdmin, time.Time{}); !errors.Is(err, ErrExists) {
		t.Errorf("second active token named ci: %v, want ErrExists", err)
	}
	if _, err := s.CreateToken(ctx, "x", "cookie", RoleAdmin, time.Time{}); err == nil {
		t.Error("unknown kind accepted")
	}
	if _, err := s.CreateToken(ctx, "x", TokenBearer, RoleAdmin, time.Now().Add(-time.Hour)); err == nil {
		t.Error("expiry in the past accepted")
	}

	p, err := s.AuthenticateToken(ctx, "Bearer", bearer)
	if err != nil || p != (Principal{Name: "ci", Role: RoleImport, Kind: TokenBearer}) {
		t.Fatalf("AuthenticateToken bearer = %+v, %v", p, err)
	}
	p, err = s.AuthenticateToken(ctx, TokenSOTicket, soticket)
	if err != nil || p.Role != RoleAdmin || p.Kind != TokenSOTicket {
		t.Fatalf("AuthenticateToken soticket = %+v, %v", p, err)
	}
	id, _ := parseTokenID(bearer)
	for name, c := range map[string][2]string{
		"wrong scheme":     {TokenSOTicket, bearer},
		"tampered":         {TokenBearer, bearer[:len(bearer)-2] + "AA"},
		"other id":         {TokenBearer, strings.Replace(bearer, fmt.Sprintf("pdt_%d_", id), "pdt_999_", 1)},
		"no prefix":        {TokenBearer, "hello"},
		"empty":            {TokenBearer, ""},
		"secret of other":  {TokenBearer, soticket},
		"truncated random": {TokenBearer, fmt.Sprintf("pdt_%d_", id)},
	} {
		if _, err := s.AuthenticateToken(ctx, c[0], c[1]); !errors.Is(err, ErrBadCredentials) {
			t.Errorf("%s: AuthenticateToken = %v, want ErrBadCredentials", name, err)
		}
	}

	if err := s.RevokeToken(ctx, "ci"); err != nil {
		t.Fatalf("RevokeToken: %v", err)
	}
	if _, err := s.AuthenticateToken(ctx, TokenBearer, bearer); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("revoked token (cached before) authenticated: %v", err)
	}
	if err := s.RevokeToken(ctx, "ci"); !errors.Is(err, ticket.ErrNotFound) {
		t.Errorf("RevokeToken twice = %v, want ErrNotFound", err)
	}
	if _, err := s.CreateToken(ctx, "ci", TokenBearer, RoleImport, time.Time{}); err != nil {
		t.Errorf("new token under a revoked name: %v", err)
	}
	tokens, err := s.ListTokens(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(tokens) != 3 || tokens[0].Name != "ci" || !tokens[0].Revoked || tokens[0].ExpiresAt.IsZero() ||
		tokens[1].Kind != TokenSOTicket || tokens[1].Revoked || !tokens[1].ExpiresAt.IsZero() || tokens[2].Revoked {
		t.Errorf("ListTokens = %+v", tokens)
	}
}

func TestExpiredTokenRejected(t *testing.T) {
	ctx := context.Background()
	s := openAuthStore(t, filepath.Join(t.TempDir(), "p.db"))
	sec, err := s.CreateToken(ctx, "old", TokenBearer, RoleAdmin, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	// Let the hour pass in the database rather than on the clock.
	if _, err := s.DB().Exec(`UPDATE api_tokens SET expires_at = ? WHERE name = 'old'`, time.Now().Add(-time.Second).UnixNano()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AuthenticateToken(ctx, TokenBearer, sec); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("expired token: %v, want ErrBadCredentials", err)
	}
}

// Two Stores on one file stand for the daemon and the CLI: a revocation by
// one is honoured by the other on its next check despite its cache.
func TestRevocationSeenAcrossProcesses(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "p.db")
	daemon := openAuthStore(t, path)
	cli := openAuthStore(t, path)
	sec, err := cli.CreateToken(ctx, "ci", TokenBearer, RoleAdmin, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if err := cli.CreateUser(ctx, "alice", RoleAdmin, "pw"); err != nil {
		t.Fatal(err)
	}
	if _, err := daemon.AuthenticateToken(ctx, TokenBearer, sec); err != nil {
		t.Fatalf("first use: %v", err)
	}
	if _, err := daemon.AuthenticatePassword(ctx, "alice", "pw"); err != nil {
		t.Fatalf("first login: %v", err)
	}
	if err := cli.RevokeToken(ctx, "ci"); err != nil {
		t.Fatal(err)
	}
	if err := cli.RemoveUser(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := daemon.AuthenticateToken(ctx, TokenBearer, sec); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("token revoked by another process still accepted: %v", err)
	}
	if _, err := daemon.AuthenticatePassword(ctx, "alice", "pw"); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("user removed by another process still accepted: %v", err)
	}
}

// A bump of auth_generation by another process, seen through a read of
// the counter at most authGenFresh old: a cached credential is checked
// again (here it fails: its hash is gone) once that time has passed.
func TestAuthGenerationReadAtMostFreshAgo(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "p.db")
	s := openAuthStore(t, path)
	sec, err := s.CreateToken(ctx, "ci", TokenBearer, RoleAdmin, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AuthenticateToken(ctx, TokenBearer, sec); err != nil {
		t.Fatal(err)
	}
	other, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.Exec(`UPDATE api_tokens SET secret_hash = 'gone'`); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Exec(`UPDATE auth_generation SET generation = generation + 1`); err != nil {
		t.Fatal(err)
	}
	time.Sleep(authGenFresh)
	if _, err := s.AuthenticateToken(ctx, TokenBearer, sec); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("%v after a bump by another process: %v, want ErrBadCredentials", authGenFresh, err)
	}
}

// The cache answers repeated checks without a slow hash.
func TestVerifiedCredentialsCached(t *testing.T) {
	ctx := context.Background()
	s := openAuthStore(t, filepath.Join(t.TempDir(), "p.db"))
	if err := s.CreateUser(ctx, "alice", RoleAdmin, "pw"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AuthenticatePassword(ctx, "alice", "pw"); err != nil {
		t.Fatal(err)
	}
	// With the stored hash destroyed, only the cache can still say yes.
	if _, err := s.DB().Exec(`UPDATE users SET password_hash = 'x'`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AuthenticatePassword(ctx, "alice", "pw"); err != nil {
		t.Errorf("cached credential not used: %v", err)
	}
	if _, err := s.AuthenticatePassword(ctx, "alice", "other"); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("wrong password accepted: %v", err)
	}
	c := s.authCache()
	c.mu.Lock()
	for k := range c.entries {
		if strings.Contains(string(k[:]), "pw") {
			t.Error("cache key contains the password")
		}
	}
	c.mu.Unlock()
}

// Hashes with fewer iterations (an older default) still verify and are
// upgraded on the next successful login.
func TestWeakHashUpgradedOnLogin(t *testing.T) {
	ctx := context.Background()
	s := openAuthStoreIter(t, filepath.Join(t.TempDir(), "p.db"), 0)
	if err := s.CreateUser(ctx, "alice", RoleAdmin, "pw"); err != nil {
		t.Fatal(err)
	}
	salt := []byte("0123456789abcdef")
	dk, err := pbkdf2.Key(sha256.New, "pw", salt, 1000, 32)
	if err != nil {
		t.Fatal(err)
	}
	old := "$pbkdf2-sha256$i=1000$" + base64.RawStdEncoding.EncodeToString(salt) + "$" + base64.RawStdEncoding.EncodeToString(dk)
	if _, err := s.DB().Exec(`UPDATE users SET password_hash = ?`, old); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AuthenticatePassword(ctx, "alice", "pw"); err != nil {
		t.Fatalf("login with old hash: %v", err)
	}
	var now string
	if err := s.DB().QueryRow(`SELECT password_hash FROM users`).Scan(&now); err != nil {
		t.Fatal(err)
	}
	if !hashFormat.MatchString(now) {
		t.Errorf("hash not upgraded: %q", now)
	}
}

// Concurrent first uses of one credential share one slow verification:
// whoever comes while it runs waits for it, whoever comes after finds the
// cache (filled before the waiters are released), so exactly one check
// runs however the goroutines are scheduled.
func TestConcurrentVerificationsCoalesce(t *testing.T) {
	ctx := context.Background()
	s := openAuthStore(t, filepath.Join(t.TempDir(), "p.db"))
	c := s.authCache()
	k := c.key("bearer", "", "secret")
	var checks atomic.Int32
	release := make(chan struct{})
	check := func() (Principal, time.Time, error) {
		checks.Add(1)
		<-release
		return Principal{Name: "ci", Role: RoleImport, Kind: "bearer"}, time.Time{}, nil
	}
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for range 32 {
		wg.Go(func() {
			p, err := c.verify(ctx, k, 1, check)
			if err == nil && p.Name != "ci" {
				err = fmt.Errorf("principal %+v", p)
			}
			errs <- err
		})
	}
	for checks.Load() == 0 {
		runtime.Gosched()
	}
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if n := checks.Load(); n != 1 {
		t.Errorf("%d slow checks for one credential, want 1", n)
	}

	// The real path: 16 concurrent first uses of a new token all succeed.
	secret, err := s.CreateToken(ctx, "burst", TokenBearer, RoleImport, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	errs = make(chan error, 16)
	for range 16 {
		wg.Go(func() {
			_, err := s.AuthenticateToken(ctx, "Bearer", secret)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent AuthenticateToken: %v", err)
		}
	}
}
