package store

// Users and API tokens of the HTTP API.
//
// Passwords and token secrets are stored only as PBKDF2-SHA256 hashes
// (per-secret random salt, parameters encoded in the stored string so they
// can be raised later). Because one slow hash per request would cap the API
// at a few requests per second per core, verified credentials are cached in
// memory for authCacheTTL, keyed by an HMAC of the presented credential under
// a random per-process key (the cache never holds a secret). The cache is
// emptied on every revocation, removal and password change made through this
// Store, and each hit is checked against auth_generation, a counter that every
// such change bumps in the database. A read of the counter answers for
// authGenFresh (one read per 100 ms rather than one per request, which cost
// 2.5 % of the daemon's CPU under load), and a change waits that long after
// its commit before it returns: when "postdesk token revoke" (another
// process) returns, no daemon on the same file accepts the token any more.
// Failed verifications are never cached.

import (
	"context"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/mattn/go-sqlite3"

	"github.com/postdesk/postdesk/ticket"
)

// Role is what an authenticated caller may do.
type Role string

// Roles.
const (
	// RoleAdmin imports mail, reads tickets and has full rights.
	RoleAdmin Role = "admin"
	// RoleImport may only call CreateTicketFromMailData; it reads nothing
	// beyond the TicketInfo that call returns.
	RoleImport Role = "import"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleAdmin || r == RoleImport }

// Token kinds (the Authorization scheme they are presented with).
const (
	TokenBearer   = "bearer"
	TokenSOTicket = "soticket"
)

// Sentinel errors of the auth API.
var (
	// ErrExists: a user or active token with that name already exists.
	ErrExists = errors.New("already exists")
	// ErrBadCredentials: unknown name, wrong password, or a token that is
	// unknown, revoked, expired or presented with the wrong scheme.
	ErrBadCredentials = errors.New("bad credentials")
)

// User is an API user (Basic authentication).
type User struct {
	Name      string
	Role      Role
	CreatedAt time.Time
}

// Token is an issued API token; the secret itself is never stored.
type Token struct {
	ID        int64
	Name      string
	Kind      string // TokenBearer or TokenSOTicket
	Role      Role
	CreatedAt time.Time
	ExpiresAt time.Time // zero: never
	Revoked   bool
}

// Principal is an authenticated caller.
type Principal struct {
	Name string // user or token name
	Role Role
	Kind string // "basic", TokenBearer or TokenSOTicket
}

const (
	pbkdf2Iterations = 310_000 // OWASP 2023 minimum for PBKDF2-HMAC-SHA256
	pbkdf2MaxIter    = 10_000_000
	saltLen          = 16
	hashLen          = 32
	hashScheme       = "pbkdf2-sha256"
	tokenPrefix      = "pdt_"
	tokenRandomLen   = 32
	maxSecretLen     = 4096

	authCacheTTL        = 60 * time.Second
	authCacheMaxEntries = 10_000
)

// CreateUser adds a user with a password; ErrExists when the name is taken.
func (s *Store) CreateUser(ctx context.Context, name string, role Role, password string) error {
	if err := checkName(name); err != nil {
		return err
	}
	if !role.Valid() {
		return fmt.Errorf("create user %q: unknown role %q (admin, import)", name, role)
	}
	if err := checkSecret(password); err != nil {
		return fmt.Errorf("create user %q: %w", name, err)
	}
	h, err := s.hashSecret(password)
	if err != nil {
		return fmt.Errorf("create user %q: %w", name, err)
	}
	_, err = s.db.ExecContext(ctx,
		`INSERT INTO users (name, role, password_hash, created_at) VALUES (?, ?, ?, ?)`,
		name, string(role), h, time.Now().UnixNano())
	if isUniqueViolation(err) {
		return fmt.Errorf("create user %q: %w", name, ErrExists)
	}
	if err != nil {
		return fmt.Errorf("create user %q: %w", name, err)
	}
	return nil
}

// ListUsers returns every user ordered by name.
func (s *Store) ListUsers(ctx context.Context) ([]User, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name, role, created_at FROM users ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var us []User
	for rows.Next() {
		var u User
		var created int64
		if err := rows.Scan(&u.Name, &u.Role, &created); err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		u.CreatedAt = time.Unix(0, created).UTC()
		us = append(us, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return us, nil
}

// RemoveUser deletes a user (ticket.ErrNotFound when there is none).
func (s *Store) RemoveUser(ctx context.Context, name string) error {
	return s.authChange(ctx, "remove user "+strconv.Quote(name),
		`DELETE FROM users WHERE name = ?`, name)
}

// SetPassword replaces a user's password (ticket.ErrNotFound when there is
// no such user).
func (s *Store) SetPassword(ctx context.Context, name, password string) error {
	if err := checkSecret(password); err != nil {
		return fmt.Errorf("set password of %q: %w", name, err)
	}
	h, err := s.hashSecret(password)
	if err != nil {
		return fmt.Errorf("set password of %q: %w", name, err)
	}
	return s.authChange(ctx, "set password of "+strconv.Quote(name),
		`UPDATE users SET password_hash = ? WHERE name = ?`, h, name)
}

// CreateToken issues a token of kind (TokenBearer or TokenSOTicket) and
// returns its secret, which is shown only this once. A zero expires means
// the token never expires. ErrExists when an active token has that name.
func (s *Store) CreateToken(ctx context.Context, name, kind string, role Role, expires time.Time) (string, error) {
	if err := checkName(name); err != nil {
		return "", err
	}
	kind = strings.ToLower(kind)
	if kind != TokenBearer && kind != TokenSOTicket {
		return "", fmt.Errorf("create token %q: unknown kind %q (bearer, soticket)", name, kind)
	}
	if !role.Valid() {
		return "", fmt.Errorf("create token %q: unknown role %q (admin, import)", name, role)
	}
	now := time.Now()
	if !expires.IsZero() && !expires.After(now) {
		return "", fmt.Errorf("create token %q: expiry %s is in the past", name, expires.Format(time.RFC3339))
	}
	var exp int64
	if !expires.IsZero() {
		exp = expires.UnixNano()
	}
	random := make([]byte, tokenRandomLen)
	if _, err := rand.Read(random); err != nil {
		return "", fmt.Errorf("create token %q: %w", name, err)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return "", fmt.Errorf("create token %q: %w", name, err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx,
		`INSERT INTO api_tokens (name, kind, role, secret_hash, created_at, expires_at) VALUES (?, ?, ?, '', ?, ?)`,
		name, kind, string(role), now.UnixNano(), exp)
	if isUniqueViolation(err) {
		return "", fmt.Errorf("create token %q: %w", name, ErrExists)
	}
	if err != nil {
		return "", fmt.Errorf("create token %q: %w", name, err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return "", fmt.Errorf("create token %q: %w", name, err)
	}
	secret := tokenPrefix + strconv.FormatInt(id, 10) + "_" + base64.RawURLEncoding.EncodeToString(random)
	h, err := s.hashSecret(secret)
	if err != nil {
		return "", fmt.Errorf("create token %q: %w", name, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE api_tokens SET secret_hash = ? WHERE id = ?`, h, id); err != nil {
		return "", fmt.Errorf("create token %q: %w", name, err)
	}
	if err := tx.Commit(); err != nil {
		return "", fmt.Errorf("create token %q: %w", name, err)
	}
	return secret, nil
}

// RevokeToken revokes the active token with that name (ticket.ErrNotFound
// when there is none).
func (s *Store) RevokeToken(ctx context.Context, name string) error {
	return s.authChange(ctx, "revoke token "+strconv.Quote(name),
		`UPDATE api_tokens SET revoked_at = ? WHERE name = ? AND revoked_at = 0`, time.Now().UnixNano(), name)
}

// ListTokens returns every token, revoked ones included, ordered by id.
func (s *Store) ListTokens(ctx context.Context) ([]Token, error) {
	rows, err := s.db.QueryContext(ctx,
		`SELECT id, name, kind, role, created_at, expires_at, revoked_at FROM api_tokens ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	defer rows.Close()
	var ts []Token
	for rows.Next() {
		var t Token
		var created, expires, revoked int64
		if err := rows.Scan(&t.ID, &t.Name, &t.Kind, &t.Role, &created, &expires, &revoked); err != nil {
			return nil, fmt.Errorf("list tokens: %w", err)
		}
		t.CreatedAt = time.Unix(0, created).UTC()
		if expires != 0 {
			t.ExpiresAt = time.Unix(0, expires).UTC()
		}
		t.Revoked = revoked != 0
		ts = append(ts, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return ts, nil
}

// AuthenticatePassword checks a user's password (ErrBadCredentials). Unknown
// names cost the same slow hash as known ones. A stored hash with fewer
// iterations than the current default is upgraded on success.
func (s *Store) AuthenticatePassword(ctx context.Context, name, password string) (Principal, error) {
	c := s.authCache()
	key := c.key("basic", name, password)
	gen, err := s.authGeneration(ctx)
	if err != nil {
		return Principal{}, err
	}
	return c.verify(ctx, key, gen, func() (Principal, time.Time, error) {
		return s.verifyPassword(ctx, name, password)
	})
}

// verifyPassword is AuthenticatePassword's slow path: the row and the hash.
func (s *Store) verifyPassword(ctx context.Context, name, password string) (Principal, time.Time, error) {
	var role Role
	var stored string
	err := s.db.QueryRowContext(ctx, `SELECT name, role, password_hash FROM users WHERE name = ?`, name).
		Scan(&name, &role, &stored)
	if errors.Is(err, sql.ErrNoRows) {
		verifySecret(s.dummyHash, password)
		return Principal{}, time.Time{}, fmt.Errorf("user %q: %w", name, ErrBadCredentials)
	}
	if err != nil {
		return Principal{}, time.Time{}, fmt.Errorf("authenticate user %q: %w", name, err)
	}
	ok, iter := verifySecret(stored, password)
	if !ok {
		return Principal{}, time.Time{}, fmt.Errorf("user %q: %w", name, ErrBadCredentials)
	}
	if iter < s.hashIter {
		if h, err := s.hashSecret(password); err == nil {
			// Best effort: a failed upgrade leaves the old, valid hash.
			_, _ = s.db.ExecContext(ctx, `UPDATE users SET password_hash = ? WHERE name = ? AND password_hash = ?`, h, name, stored)
		}
	}
	return Principal{Name: name, Role: role, Kind: "basic"}, time.Time{}, nil
}

// AuthenticateToken checks a token secret presented with scheme kind
// (TokenBearer or TokenSOTicket, case-insensitive). Unknown, revoked and
// expired tokens and a wrong kind are ErrBadCredentials.
func (s *Store) AuthenticateToken(ctx context.Context, kind, secret string) (Principal, error) {
	kind = strings.ToLower(kind)
	id, ok := parseTokenID(secret)
	if !ok || len(secret) > maxSecretLen {
		return Principal{}, fmt.Errorf("malformed token: %w", ErrBadCredentials)
	}
	c := s.authCache()
	key := c.key(kind, "", secret)
	gen, err := s.authGeneration(ctx)
	if err != nil {
		return Principal{}, err
	}
	return c.verify(ctx, key, gen, func() (Principal, time.Time, error) {
		return s.verifyToken(ctx, kind, id, secret)
	})
}

// verifyToken is AuthenticateToken's slow path: the row and the hash.
func (s *Store) verifyToken(ctx context.Context, kind string, id int64, secret string) (Principal, time.Time, error) {
	var t Token
	var stored string
	var expires, revoked int64
	err := s.db.QueryRowContext(ctx,
		`SELECT name, kind, role, secret_hash, expires_at, revoked_at FROM api_tokens WHERE id = ?`, id).
		Scan(&t.Name, &t.Kind, &t.Role, &stored, &expires, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		verifySecret(s.dummyHash, secret)
		return Principal{}, time.Time{}, fmt.Errorf("token %d: %w", id, ErrBadCredentials)
	}
	if err != nil {
		return Principal{}, time.Time{}, fmt.Errorf("authenticate token %d: %w", id, err)
	}
	if ok, _ := verifySecret(stored, secret); !ok {
		return Principal{}, time.Time{}, fmt.Errorf("token %d: %w", id, ErrBadCredentials)
	}
	switch {
	case revoked != 0:
		return Principal{}, time.Time{}, fmt.Errorf("token %d revoked: %w", id, ErrBadCredentials)
	case expires != 0 && time.Now().UnixNano() >= expires:
		return Principal{}, time.Time{}, fmt.Errorf("token %d expired: %w", id, ErrBadCredentials)
	case t.Kind != kind:
		return Principal{}, time.Time{}, fmt.Errorf("token %d is a %s token, presented as %s: %w", id, t.Kind, kind, ErrBadCredentials)
	}
	var exp time.Time
	if expires != 0 {
		exp = time.Unix(0, expires)
	}
	return Principal{Name: t.Name, Role: t.Role, Kind: t.Kind}, exp, nil
}

// authChange runs a revoking statement, bumps auth_generation in the same
// transaction and empties this process's cache.
func (s *Store) authChange(ctx context.Context, what, query string, args ...any) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	} else if n == 0 {
		return fmt.Errorf("%s: %w", what, ticket.ErrNotFound)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE auth_generation SET generation = generation + 1 WHERE id = 1`); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	// This process's own checks see the change at once; other processes
	// within authGenFresh of the commit, so wait that out.
	s.genSeen.Store(&genRead{})
	s.authCache().clear()
	time.Sleep(authGenFresh)
	return nil
}

const qAuthGeneration = `SELECT generation FROM auth_generation WHERE id = 1`

// authGenFresh is how long a read of auth_generation answers for.
const authGenFresh = 100 * time.Millisecond

// genRead is one read of auth_generation; at is when it began.
type genRead struct {
	gen int64
	at  time.Time
}

// authGeneration returns auth_generation as read less than authGenFresh
// ago, or reads it. A read that began before a change made here is not
// kept (the change replaced genSeen, so the swap fails).
func (s *Store) authGeneration(ctx context.Context) (int64, error) {
	seen := s.genSeen.Load()
	if seen != nil && !seen.at.IsZero() && time.Since(seen.at) < authGenFresh {
		return seen.gen, nil
	}
	at := time.Now()
	var gen int64
	if err := s.authGen.QueryRowContext(ctx).Scan(&gen); err != nil {
		return 0, fmt.Errorf("read auth generation: %w", err)
	}
	s.genSeen.CompareAndSwap(seen, &genRead{gen: gen, at: at})
	return gen, nil
}

func checkName(name string) error {
	if name == "" || len(name) > 128 {
		return fmt.Errorf("name %q: must be 1 to 128 bytes", name)
	}
	for _, r := range name {
		if r == ':' || unicode.IsControl(r) || unicode.IsSpace(r) {
			return fmt.Errorf("name %q: no colons, spaces or control characters", name)
		}
	}
	return nil
}

func checkSecret(secret string) error {
	if secret == "" || len(secret) > maxSecretLen {
		return fmt.Errorf("password must be 1 to %d bytes", maxSecretLen)
	}
	return nil
}

func isUniqueViolation(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && (se.ExtendedCode == sqlite3.ErrConstraintUnique || se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey)
}

// parseTokenID returns the id of a "pdt_<id>_<random>" secret.
func parseTokenID(secret string) (int64, bool) {
	rest, ok := strings.CutPrefix(secret, tokenPrefix)
	if !ok {
		return 0, false
	}
	idText, random, ok := strings.Cut(rest, "_")
	if !ok || random == "" {
		return 0, false
	}
	id, err := strconv.ParseInt(idText, 10, 64)
	return id, err == nil && id > 0
}

// initAuth sets up the hashing parameters and the credential cache of s.
func (s *Store) initAuth(iterations int) {
	if iterations <= 0 {
		iterations = pbkdf2Iterations
	}
	s.hashIter = min(iterations, pbkdf2MaxIter)
	// dummyHash is verified against when the name or token id is unknown,
	// so that failures cost the same time either way.
	s.dummyHash = "$" + hashScheme + "$i=" + strconv.Itoa(s.hashIter) + "$" +
		base64.RawStdEncoding.EncodeToString(make([]byte, saltLen)) + "$" +
		base64.RawStdEncoding.EncodeToString(make([]byte, hashLen))
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err)) // rand.Read never fails on supported platforms
	}
	s.auth = &credCache{hmacKey: k, entries: map[[sha256.Size]byte]cacheEntry{}}
}

// hashSecret returns "$pbkdf2-sha256$i=N$<salt>$<hash>" (unpadded base64).
func (s *Store) hashSecret(secret string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("salt: %w", err)
	}
	dk, err := pbkdf2.Key(sha256.New, secret, salt, s.hashIter, hashLen)
	if err != nil {
		return "", fmt.Errorf("pbkdf2: %w", err)
	}
	return fmt.Sprintf("$%s$i=%d$%s$%s", hashScheme, s.hashIter,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(dk)), nil
}

// verifySecret reports whether secret matches encoded, and the iteration
// count encoded there.
func verifySecret(encoded, secret string) (ok bool, iter int) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 5 || parts[0] != "" || parts[1] != hashScheme {
		return false, 0
	}
	iterText, found := strings.CutPrefix(parts[2], "i=")
	iter, err := strconv.Atoi(iterText)
	if !found || err != nil || iter < 1 || iter > pbkdf2MaxIter {
		return false, 0
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[3])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[4])
	if err1 != nil || err2 != nil || len(want) < 16 {
		return false, 0
	}
	got, err := pbkdf2.Key(sha256.New, secret, salt, iter, len(want))
	if err != nil {
		return false, 0
	}
	return subtle.ConstantTimeCompare(got, want) == 1, iter
}

// credCache holds verified credentials, keyed by HMAC-SHA256 of the
// presented credential under a random per-process key.
type credCache struct {
	hmacKey []byte
	mu      sync.Mutex
	entries map[[sha256.Size]byte]cacheEntry
	// inflight coalesces concurrent verifications of one credential: a
	// client that opens 32 connections with the same token pays for one
	// slow hash, not 32 on two cores.
	inflight map[[sha256.Size]byte]*verification
}

// verification is one slow check in progress; done closes when p and err
// are set.
type verification struct {
	done chan struct{}
	p    Principal
	err  error
}

// verify answers from the cache, joins a verification of the same
// credential in progress, or runs check (the slow path) and caches a
// success until the TTL or the returned expiry, whichever is first.
func (c *credCache) verify(ctx context.Context, k [sha256.Size]byte, gen int64, check func() (Principal, time.Time, error)) (Principal, error) {
	for {
		if p, ok := c.get(k, gen); ok {
			return p, nil
		}
		c.mu.Lock()
		v, joined := c.inflight[k]
		if !joined {
			// A leader may have finished between get and Lock: it fills
			// the cache before it leaves inflight, so look again.
			if p, ok := c.getLocked(k, gen); ok {
				c.mu.Unlock()
				return p, nil
			}
			v = &verification{done: make(chan struct{}), err: errVerificationAborted}
			if c.inflight == nil {
				c.inflight = map[[sha256.Size]byte]*verification{}
			}
			c.inflight[k] = v
		}
		c.mu.Unlock()
		if !joined {
			return c.lead(k, gen, v, check)
		}
		select {
		case <-v.done:
		case <-ctx.Done():
			return Principal{}, ctx.Err()
		}
		// The leader's own request may have been cancelled or failed
		// half-way: that is no answer for this one, which checks again.
		if v.err == nil || errors.Is(v.err, ErrBadCredentials) {
			return v.p, v.err
		}
		if err := ctx.Err(); err != nil {
			return Principal{}, err
		}
	}
}

// errVerificationAborted is what joiners see when the leading check ended
// without an answer (a panic); they check again.
var errVerificationAborted = errors.New("credential verification aborted")

// lead runs check for everyone waiting on v.
func (c *credCache) lead(k [sha256.Size]byte, gen int64, v *verification, check func() (Principal, time.Time, error)) (Principal, error) {
	defer func() {
		c.mu.Lock()
		delete(c.inflight, k)
		c.mu.Unlock()
		close(v.done)
	}()
	p, exp, err := check()
	if err == nil {
		c.put(k, p, gen, exp)
	}
	v.p, v.err = p, err
	return p, err
}

type cacheEntry struct {
	p          Principal
	gen        int64
	validUntil time.Time
}

func (s *Store) authCache() *credCache { return s.auth }

func (c *credCache) key(kind, name, secret string) [sha256.Size]byte {
	m := hmac.New(sha256.New, c.hmacKey)
	m.Write([]byte(kind))
	m.Write([]byte{0})
	m.Write([]byte(name))
	m.Write([]byte{0})
	m.Write([]byte(secret))
	var k [sha256.Size]byte
	m.Sum(k[:0])
	return k
}

func (c *credCache) get(k [sha256.Size]byte, gen int64) (Principal, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.getLocked(k, gen)
}

// getLocked is get with c.mu held.
func (c *credCache) getLocked(k [sha256.Size]byte, gen int64) (Principal, bool) {
	e, ok := c.entries[k]
	if !ok {
		return Principal{}, false
	}
	if e.gen != gen || !time.Now().Before(e.validUntil) {
		delete(c.entries, k)
		return Principal{}, false
	}
	return e.p, true
}

// put caches p until the TTL elapses or expires, whichever is first.
func (c *credCache) put(k [sha256.Size]byte, p Principal, gen int64, expires time.Time) {
	now := time.Now()
	until := now.Add(authCacheTTL)
	if !expires.IsZero() && expires.Before(until) {
		until = expires
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= authCacheMaxEntries {
		for k, e := range c.entries {
			if !now.Before(e.validUntil) {
				delete(c.entries, k)
			}
		}
		if len(c.entries) >= authCacheMaxEntries {
			clear(c.entries)
		}
	}
	c.entries[k] = cacheEntry{p: p, gen: gen, validUntil: until}
}

func (c *credCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.entries)
}
