package imap

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"golang.org/x/oauth2"
)

// xoauth2Client is the SASL XOAUTH2 client (Google's and Microsoft's
// mechanism; go-sasl only ships OAUTHBEARER). The initial response is
// "user=" u "^Aauth=Bearer " token "^A^A".
type xoauth2Client struct {
	username, token string
}

var _ sasl.Client = xoauth2Client{}

func (c xoauth2Client) Start() (string, []byte, error) {
	return "XOAUTH2", []byte("user=" + c.username + "\x01auth=Bearer " + c.token + "\x01\x01"), nil
}

// Next answers the server's error challenge (a base64 JSON status) with an
// empty response, after which the server fails the command with NO.
func (c xoauth2Client) Next(challenge []byte) ([]byte, error) {
	return []byte{}, nil
}

// errTokenEndpoint marks a failure to obtain an access token.
var errTokenEndpoint = errors.New("oauth token endpoint")

// tokenSource obtains access tokens by the refresh-token grant, caches them
// until shortly before expiry and persists rotated refresh tokens. It is
// used by one worker at a time but guarded anyway.
type tokenSource struct {
	mailboxID int64
	conf      *oauth2.Config
	initial   string
	store     TokenStore // may be nil: rotated tokens then live in memory only
	timeout   time.Duration
	onExpiry  func(time.Time)

	mu      sync.Mutex
	refresh string // current refresh token, "" until first loaded
	access  *oauth2.Token
	unsaved bool // refresh was rotated and not yet persisted
}

func newTokenSource(cfg Config, store TokenStore, onExpiry func(time.Time)) *tokenSource {
	o := cfg.OAuth
	return &tokenSource{
		mailboxID: cfg.MailboxID,
		conf: &oauth2.Config{
			ClientID:     o.ClientID,
			ClientSecret: o.ClientSecret,
			Endpoint:     oauth2.Endpoint{TokenURL: o.TokenURL},
			Scopes:       o.Scopes,
		},
		initial:  o.RefreshToken,
		store:    store,
		timeout:  cfg.CommandTimeout,
		onExpiry: onExpiry,
	}
}

// Token returns a valid access token, refreshing it when needed.
func (s *tokenSource) Token(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.access.Valid() { // Valid includes oauth2's expiry margin
		if err := s.saveLocked(ctx); err != nil {
			return "", err
		}
		return s.access.AccessToken, nil
	}
	if s.refresh == "" {
		s.refresh = s.initial
		if s.store != nil {
			saved, err := s.store.OAuthToken(ctx, s.mailboxID)
			if err != nil {
				return "", fmt.Errorf("load refresh token: %w", err)
			}
			if saved != "" {
				s.refresh = saved
			}
		}
	}
	if s.refresh == "" {
		return "", fmt.Errorf("%w: no refresh token configured", errTokenEndpoint)
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	tok, err := s.conf.TokenSource(ctx, &oauth2.Token{RefreshToken: s.refresh}).Token()
	if err != nil {
		return "", fmt.Errorf("%w: %w", errTokenEndpoint, err)
	}
	s.access = tok
	if !tok.Expiry.IsZero() && s.onExpiry != nil {
		s.onExpiry(tok.Expiry)
	}
	if tok.RefreshToken != "" && tok.RefreshToken != s.refresh {
		// Rotated: the old token may be invalid from now on, so keep the new
		// one in memory whatever happens and persist it before going on.
		s.refresh = tok.RefreshToken
		s.unsaved = true
	}
	if err := s.saveLocked(ctx); err != nil {
		return "", err
	}
	return tok.AccessToken, nil
}

// tokenRenewAhead is how long before its expiry an access token is renewed
// while a session is running.
const tokenRenewAhead = 5 * time.Minute

// RenewBefore refreshes the access token when it expires within d (or is
// not known yet).
func (s *tokenSource) RenewBefore(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	if s.access != nil && (s.access.Expiry.IsZero() || time.Until(s.access.Expiry) > d) {
		s.mu.Unlock()
		return nil
	}
	s.access = nil
	s.mu.Unlock()
	_, err := s.Token(ctx)
	return err
}

// Invalidate drops the cached access token after the server rejected it.
func (s *tokenSource) Invalidate() {
	s.mu.Lock()
	s.access = nil
	s.mu.Unlock()
}

// saveLocked persists a rotated refresh token not yet saved.
func (s *tokenSource) saveLocked(ctx context.Context) error {
	if !s.unsaved || s.store == nil {
		return nil
	}
	if err := s.store.SaveOAuthToken(ctx, s.mailboxID, s.refresh); err != nil {
		return fmt.Errorf("save rotated refresh token: %w", err)
	}
	s.unsaved = false
	return nil
}
