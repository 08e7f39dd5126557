// Package config loads postdesk's configuration: embedded defaults, then a
// YAML file read with viper, then POSTDESK_* environment variables, then
// secrets read from files (or from systemd's $CREDENTIALS_DIRECTORY).
//
// Load is strict: an unknown key anywhere (including inside
// mailboxes[n].imap) and every bad value is an error that names the key, and
// all problems are reported together. A *Config returned by Load is valid and
// complete; callers treat it as read-only and may share it between
// goroutines. A reload (SIGHUP) calls Load again and swaps the result in.
//
// Environment overrides: every scalar or list key has a variable named
// POSTDESK_ followed by its upper-cased path with "." replaced by "_", e.g.
// POSTDESK_HTTP_LISTEN, POSTDESK_STORE_PATH, POSTDESK_API_SLOW_THRESHOLD,
// POSTDESK_API_APP_TOKENS (comma-separated). Keys of mailbox n (counting
// from 0 in file order) are POSTDESK_MAILBOXES_<n>_<KEY>, e.g.
// POSTDESK_MAILBOXES_0_IMAP_PASSWORD or POSTDESK_MAILBOXES_1_OWNERS
// (comma-separated); an index past the end of the file's list adds a
// mailbox. The maps companies and names and the list mailboxes[n].rules
// cannot be set from the environment. A variable that is set but empty sets
// the key to its zero value. Any other POSTDESK_* variable is an error,
// except POSTDESK_CONFIG, which is left to the command line.
package config

import (
	"strings"
	"time"
)

// Config is postdesk's complete configuration.
type Config struct {
	HTTP   HTTP   `mapstructure:"http"`
	Store  Store  `mapstructure:"store"`
	API    API    `mapstructure:"api"`
	Import Import `mapstructure:"import"`
	Log    Log    `mapstructure:"log"`

	// Companies maps e-mail domains (lower case) to company names.
	Companies map[string]string `mapstructure:"companies"`
	// FreeMailDomains never yield a company; empty means the built-in list
	// of the ticket package.
	FreeMailDomains []string `mapstructure:"free_mail_domains"`
	// Names holds translations of category and priority names:
	// Names["technical support"]["de"] = "Technischer Support". viper folds
	// map keys to lower case, so look names up with LocalName.
	Names map[string]map[string]string `mapstructure:"names"`

	Mailboxes []Mailbox `mapstructure:"mailboxes"`
}

// HTTP configures the HTTP server (API, /metrics, /healthz, /readyz).
type HTTP struct {
	Listen string `mapstructure:"listen"` // host:port; default 127.0.0.1:8080
	// PublicURL is the base of links handed out (TicketUrl), without a
	// trailing slash; default "http://" + Listen.
	PublicURL string `mapstructure:"public_url"`
	// PProf serves Go's runtime profiles (net/http/pprof) at /debug/pprof/
	// to admin callers; default off.
	PProf bool `mapstructure:"pprof"`
}

// Store configures the SQLite database.
type Store struct {
	// Path of the SQLite file; default postdesk.db in $STATE_DIRECTORY
	// under systemd, else in the working directory.
	Path string `mapstructure:"path"`
}

// API configures the HTTP API.
type API struct {
	// SlowThreshold marks calls that take longer as slow (NsApiSlow);
	// default 5s.
	SlowThreshold time.Duration `mapstructure:"slow_threshold"`
	// MaxBodySize bounds a request body; default 40MiB (a 25 MiB mail
	// grows by a third in JSON or base64).
	MaxBodySize ByteSize `mapstructure:"max_body_size"`
	// AppTokens are the accepted SO-AppToken values; empty means the
	// header is not required. AppTokensFile adds one token per line.
	AppTokens     []string `mapstructure:"app_tokens"`
	AppTokensFile string   `mapstructure:"app_tokens_file"`
	// TicketURL is the TicketUrl template. Load expands "{public_url}";
	// "{id}" stays for the ticket id. Default "{public_url}/ticket/{id}".
	TicketURL string `mapstructure:"ticket_url"`
}

// Import configures the import core (package ticket).
type Import struct {
	// SenderCap is the number of new tickets one sender may open per hour;
	// default 50, negative disables the cap.
	SenderCap int `mapstructure:"sender_cap"`
	// MaxSize is the largest message imported; default 25MiB.
	MaxSize ByteSize `mapstructure:"max_size"`
	// SubjectTag is the follow-up key in subjects ("ejTag: 1234").
	SubjectTag string `mapstructure:"subject_tag"`
	// LoopID is the value of postdesk's own X-Loop header.
	LoopID string `mapstructure:"loop_id"`
}

// Log configures the slog handler.
type Log struct {
	Level  string `mapstructure:"level"`  // debug, info, warn, error; default info
	Format string `mapstructure:"format"` // text or json; default text
}

// Assignment methods of Mailbox.Assignment (see ticket.Assignment).
const (
	AssignFixed      = "fixed"
	AssignRoundRobin = "round_robin"
	AssignFewestOpen = "fewest_open"
)

// Mailbox is one configured mailbox. Without an IMAP block it receives mail
// only by manual import (HTTP API, CLI, deliver).
type Mailbox struct {
	ID       int64  `mapstructure:"id"` // stable MailboxId, > 0, unique
	Name     string `mapstructure:"name"`
	Address  string `mapstructure:"address"`
	Category string `mapstructure:"category"`
	Priority string `mapstructure:"priority"`
	Owner    string `mapstructure:"owner"`

	Assignment string   `mapstructure:"assignment"` // fixed (default), round_robin, fewest_open
	Owners     []string `mapstructure:"owners"`     // candidates for round_robin, fewest_open

	NewTicketOnClosed bool `mapstructure:"new_ticket_on_closed"`
	NoNewPersons      bool `mapstructure:"no_new_persons"`

	Rules []Rule `mapstructure:"rules"` // ordered; the first match wins
	IMAP  *IMAP  `mapstructure:"imap"`  // nil: manual import only
}

// Rule actions.
const (
	ActionRoute      = "route"
	ActionIgnore     = "ignore"
	ActionQuarantine = "quarantine"
)

// Rule routes mail whose header matches a regular expression (RE2 syntax).
type Rule struct {
	Name     string `mapstructure:"name"`
	Header   string `mapstructure:"header"` // e.g. Subject, From, To
	Match    string `mapstructure:"match"`  // regular expression
	Action   string `mapstructure:"action"` // route (default), ignore, quarantine
	Category string `mapstructure:"category"`
	Priority string `mapstructure:"priority"`
	Owner    string `mapstructure:"owner"`
}

// TLS modes of IMAP.TLS.
const (
	TLSImplicit = "implicit"
	TLSStartTLS = "starttls"
	TLSNone     = "none"
)

// Authentication methods of IMAP.Auth.
const (
	AuthLogin   = "login"
	AuthPlain   = "plain"
	AuthXOAuth2 = "xoauth2"
)

// Post-import actions of IMAP.AfterImport (besides "move:<folder>").
const (
	AfterImportSeen   = "seen"
	AfterImportDelete = "delete"
	AfterImportMove   = "move"
)

// IMAP configures polling of one mailbox. After Load every default is
// filled in and Password (or OAuth's secrets) hold the secrets read from
// their files.
type IMAP struct {
	Host   string `mapstructure:"host"`
	Port   int    `mapstructure:"port"` // default 993 for implicit TLS, else 143
	TLS    string `mapstructure:"tls"`  // implicit (default), starttls, none
	CAFile string `mapstructure:"ca_file"`

	Auth         string `mapstructure:"auth"` // login, plain, xoauth2; default xoauth2 with an oauth block, else login
	Username     string `mapstructure:"username"`
	Password     string `mapstructure:"password"`
	PasswordFile string `mapstructure:"password_file"`
	OAuth        *OAuth `mapstructure:"oauth"`

	Folder           string        `mapstructure:"folder"`            // default INBOX
	AfterImport      string        `mapstructure:"after_import"`      // seen (default), move:<folder>, delete
	QuarantineFolder string        `mapstructure:"quarantine_folder"` // "" leaves failed mail in place
	PollInterval     time.Duration `mapstructure:"poll_interval"`     // default 60s
	DisableIdle      bool          `mapstructure:"disable_idle"`
	// IdleRecheck ends and restarts IDLE this often, so that the server
	// looks for new mail at once; for servers that hold IDLE
	// notifications back (Dovecot 2.3: 500 ms). 0 (default): never.
	IdleRecheck time.Duration `mapstructure:"idle_recheck"`
	BatchSize   int           `mapstructure:"batch_size"` // messages per FETCH; default 200
	// CommandTimeout bounds every IMAP command and every stretch of a
	// FETCH without bytes; it is also how long a silent, stalled server
	// takes to be noticed during IDLE. Default 60s.
	CommandTimeout time.Duration `mapstructure:"command_timeout"`
}

// AfterImportAction splits AfterImport into the action (seen, move,
// delete) and the folder of a move.
func (i *IMAP) AfterImportAction() (action, folder string) {
	if f, ok := strings.CutPrefix(i.AfterImport, AfterImportMove+":"); ok {
		return AfterImportMove, f
	}
	return i.AfterImport, ""
}

// OAuth configures XOAUTH2 with a refresh token (Microsoft 365, Gmail).
type OAuth struct {
	TokenURL         string   `mapstructure:"token_url"`
	ClientID         string   `mapstructure:"client_id"`
	ClientSecret     string   `mapstructure:"client_secret"`
	ClientSecretFile string   `mapstructure:"client_secret_file"`
	RefreshToken     string   `mapstructure:"refresh_token"`
	RefreshTokenFile string   `mapstructure:"refresh_token_file"`
	Scopes           []string `mapstructure:"scopes"`
}

// LocalName returns the translation of a category or priority name into
// lang (a language tag such as "de" or "de-CH"; the base language is tried
// second), or name itself when none is configured.
func (c *Config) LocalName(name, lang string) string {
	tr := c.Names[strings.ToLower(name)]
	if len(tr) == 0 || lang == "" {
		return name
	}
	lang = strings.ToLower(strings.ReplaceAll(lang, "_", "-"))
	if s, ok := tr[lang]; ok && s != "" {
		return s
	}
	if base, _, ok := strings.Cut(lang, "-"); ok {
		if s, ok := tr[base]; ok && s != "" {
			return s
		}
	}
	return name
}
