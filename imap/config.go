package imap

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// TLS modes of Config.TLS.
const (
	TLSImplicit = "implicit"
	TLSStartTLS = "starttls"
	TLSNone     = "none"
)

// Authentication mechanisms of Config.Auth.
const (
	AuthLogin   = "login"
	AuthPlain   = "plain"
	AuthXOAuth2 = "xoauth2"
)

// Post-import actions of Config.AfterImport ("move:<folder>" carries a folder).
const (
	AfterSeen   = "seen"
	AfterDelete = "delete"
	afterMove   = "move:"
)

// Defaults for zero Config fields.
const (
	DefaultFolder       = "INBOX"
	DefaultPollInterval = 60 * time.Second
	DefaultIdleRestart  = 25 * time.Minute
	// DefaultBatchSize is UIDs per FETCH, and so per commit of the poller.
	// 200 rather than 50 drains a backlog about a quarter faster (fewer
	// round trips, fsyncs and flag updates per message; postdesk-bench
	// --only imap); a group still holds at most 32 MiB of mail, and the
	// import core commits it in runs of at most 50 (ticket.ImportBatch),
	// so other imports still wait for one run only.
	DefaultBatchSize      = 200
	DefaultMaxSize        = 25 << 20
	DefaultDialTimeout    = 15 * time.Second
	DefaultCommandTimeout = 60 * time.Second
)

// MinIdleRecheck is the shortest IdleRecheck: each recheck is two round
// trips to the server.
const MinIdleRecheck = 50 * time.Millisecond

// OAuthConfig configures XOAUTH2: an OAuth 2.0 refresh-token grant against
// TokenURL. RefreshToken is the initial token; once the provider rotates it,
// the TokenStore's copy wins.
type OAuthConfig struct {
	TokenURL     string
	ClientID     string
	ClientSecret string
	RefreshToken string
	Scopes       []string
}

// Config describes one polled mailbox. Zero values mean the documented
// defaults. Two Configs are the same worker when they are deeply equal.
type Config struct {
	MailboxID int64
	Name      string

	Host       string
	Port       int    // default 993 with implicit TLS, else 143
	TLS        string // implicit (default) | starttls | none (plaintext: only when written out)
	CAFile     string // PEM roots replacing the system pool when set
	ServerName string // TLS server name; default Host

	Auth     string // login (default) | plain | xoauth2
	Username string
	Password string
	OAuth    *OAuthConfig // required for xoauth2

	Folder           string // default INBOX
	AfterImport      string // seen (default) | move:<folder> | delete
	QuarantineFolder string // optional destination of quarantined messages

	PollInterval time.Duration // default 60s
	IdleRestart  time.Duration // default 25m
	IdleRecheck  time.Duration // end and restart IDLE this often; 0 (default): never
	DisableIdle  bool

	BatchSize int   // UIDs per FETCH, default 200
	MaxSize   int64 // default 25 MiB

	DialTimeout    time.Duration // default 15s
	CommandTimeout time.Duration // default 60s
}

// Validate reports every problem of c at once, each naming its field.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.MailboxID <= 0 {
		bad("imap: mailbox id %d: must be positive", c.MailboxID)
	}
	if c.Host == "" {
		bad("imap: host: required")
	}
	if c.Port < 0 || c.Port > 65535 {
		bad("imap: port %d: out of range", c.Port)
	}
	switch c.TLS {
	case "", TLSImplicit, TLSStartTLS, TLSNone:
	default:
		bad("imap: tls %q: want implicit, starttls or none", c.TLS)
	}
	if c.TLS == TLSNone && c.CAFile != "" {
		bad("imap: ca_file: set but tls is none")
	}
	switch c.auth() {
	case AuthLogin, AuthPlain:
		if c.Username == "" {
			bad("imap: username: required")
		}
		if c.Password == "" {
			bad("imap: password: required for auth %s", c.auth())
		}
	case AuthXOAuth2:
		if c.Username == "" {
			bad("imap: username: required")
		}
		if c.OAuth == nil {
			bad("imap: oauth: required for auth xoauth2")
		} else {
			if c.OAuth.TokenURL == "" {
				bad("imap: oauth.token_url: required")
			}
			if c.OAuth.ClientID == "" {
				bad("imap: oauth.client_id: required")
			}
		}
	default:
		bad("imap: auth %q: want login, plain or xoauth2", c.Auth)
	}
	switch a := c.AfterImport; {
	case a == "", a == AfterSeen, a == AfterDelete:
	case strings.HasPrefix(a, afterMove):
		if strings.TrimSpace(strings.TrimPrefix(a, afterMove)) == "" {
			bad("imap: after_import %q: move needs a folder", a)
		} else if strings.TrimPrefix(a, afterMove) == c.folder() {
			bad("imap: after_import %q: moves into the polled folder", a)
		}
	default:
		bad("imap: after_import %q: want seen, move:<folder> or delete", a)
	}
	if c.QuarantineFolder != "" && c.QuarantineFolder == c.folder() {
		bad("imap: quarantine_folder %q: is the polled folder", c.QuarantineFolder)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"poll_interval", c.PollInterval}, {"idle_restart", c.IdleRestart}, {"idle_recheck", c.IdleRecheck},
		{"dial_timeout", c.DialTimeout}, {"command_timeout", c.CommandTimeout}} {
		if d.v < 0 {
			bad("imap: %s %v: must not be negative", d.name, d.v)
		}
	}
	if c.IdleRestart > 29*time.Minute {
		bad("imap: idle_restart %v: must be below 29m (RFC 9051 §6.3.13)", c.IdleRestart)
	}
	if c.IdleRecheck > 0 && c.IdleRecheck < MinIdleRecheck {
		bad("imap: idle_recheck %v: must be 0 (off) or at least %v", c.IdleRecheck, MinIdleRecheck)
	}
	if c.BatchSize < 0 {
		bad("imap: batch_size %d: must not be negative", c.BatchSize)
	}
	if c.MaxSize < 0 {
		bad("imap: max_size %d: must not be negative", c.MaxSize)
	}
	return errors.Join(errs...)
}

func (c Config) auth() string {
	if c.Auth == "" {
		return AuthLogin
	}
	return strings.ToLower(c.Auth)
}

func (c Config) folder() string {
	if c.Folder == "" {
		return DefaultFolder
	}
	return c.Folder
}

// withDefaults returns c with every zero value replaced by its default.
func (c Config) withDefaults() Config {
	c.Auth = c.auth()
	c.Folder = c.folder()
	if c.TLS == "" {
		c.TLS = TLSImplicit
	}
	if c.Port == 0 {
		c.Port = 143
		if c.TLS == TLSImplicit {
			c.Port = 993
		}
	}
	if c.AfterImport == "" {
		c.AfterImport = AfterSeen
	}
	if c.ServerName == "" {
		c.ServerName = c.Host
	}
	if c.PollInterval == 0 {
		c.PollInterval = DefaultPollInterval
	}
	if c.IdleRestart == 0 {
		c.IdleRestart = DefaultIdleRestart
	}
	if c.BatchSize == 0 {
		c.BatchSize = DefaultBatchSize
	}
	if c.MaxSize == 0 {
		c.MaxSize = DefaultMaxSize
	}
	if c.DialTimeout == 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	if c.CommandTimeout == 0 {
		c.CommandTimeout = DefaultCommandTimeout
	}
	return c
}

// moveTarget returns the folder of a "move:<folder>" action, or "".
func moveTarget(action string) string {
	if f, ok := strings.CutPrefix(action, afterMove); ok {
		return f
	}
	return ""
}
