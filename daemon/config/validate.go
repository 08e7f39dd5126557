package config

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/postdesk/postdesk/imap"
)

// subjectTagRE is what import.subject_tag may look like: it is matched
// literally in subjects as "<tag>: <number>".
var subjectTagRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,31}$`)

// Bounds of checked values.
const (
	minPollInterval = time.Second
	minIdleRecheck  = imap.MinIdleRecheck
	maxBatchSize    = 1000
	// A command timeout below a few seconds would cut healthy servers
	// under load; above ten minutes a stalled server goes unnoticed.
	minCommandTimeout = 5 * time.Second
	maxCommandTimeout = 10 * time.Minute
)

// validate returns every problem of a decoded, defaulted configuration.
func (c *Config) validate() []error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}

	if _, port, err := net.SplitHostPort(c.HTTP.Listen); err != nil {
		bad("http.listen", "%q is not host:port", c.HTTP.Listen)
	} else if !validPort(port, true) {
		bad("http.listen", "port %q is not a number from 0 to 65535", port)
	}
	if u, err := url.Parse(c.HTTP.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("http.public_url", "%q is not an http:// or https:// URL", c.HTTP.PublicURL)
	}
	if c.Store.Path == "" {
		bad("store.path", "must not be empty")
	}

	if c.API.SlowThreshold <= 0 {
		bad("api.slow_threshold", "must be positive, got %s", c.API.SlowThreshold)
	}
	if c.API.MaxBodySize <= 0 {
		bad("api.max_body_size", "must be positive, got %s", c.API.MaxBodySize)
	}
	if !strings.Contains(c.API.TicketURL, "{id}") {
		bad("api.ticket_url", "%q must contain {id}", c.API.TicketURL)
	} else if u, err := url.Parse(strings.ReplaceAll(c.API.TicketURL, "{id}", "1")); err != nil || u.Scheme == "" && !strings.HasPrefix(u.Path, "/") {
		bad("api.ticket_url", "%q is not a URL", c.API.TicketURL)
	}
	for i, t := range c.API.AppTokens {
		if strings.TrimSpace(t) == "" {
			bad(fmt.Sprintf("api.app_tokens[%d]", i), "must not be empty")
		}
	}

	if c.Import.SenderCap == 0 {
		bad("import.sender_cap", "must not be 0 (a negative number disables the cap)")
	}
	if c.Import.MaxSize <= 0 {
		bad("import.max_size", "must be positive, got %s", c.Import.MaxSize)
	}
	if !subjectTagRE.MatchString(c.Import.SubjectTag) {
		bad("import.subject_tag", "%q is not a word of letters, digits, _ and - starting with a letter", c.Import.SubjectTag)
	}
	if strings.TrimSpace(c.Import.LoopID) == "" {
		bad("import.loop_id", "must not be empty")
	}

	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", "%q is not one of debug, info, warn, error", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		bad("log.format", "%q is not one of text, json", c.Log.Format)
	}

	for d, name := range c.Companies {
		if d == "" || strings.ContainsAny(d, "@ ") {
			bad("companies", "%q is not an e-mail domain", d)
		}
		if strings.TrimSpace(name) == "" {
			bad("companies."+d, "company name must not be empty")
		}
	}

	if len(c.Mailboxes) == 0 {
		bad("mailboxes", "at least one mailbox is required")
	}
	seen := map[int64]int{}
	for i := range c.Mailboxes {
		errs = append(errs, c.Mailboxes[i].validate(fmt.Sprintf("mailboxes[%d]", i))...)
		id := c.Mailboxes[i].ID
		if j, dup := seen[id]; dup && id > 0 {
			bad(fmt.Sprintf("mailboxes[%d].id", i), "%d is already used by mailboxes[%d]", id, j)
		}
		seen[id] = i
	}
	return errs
}

func validPort(s string, zeroOK bool) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n <= 65535 && (n > 0 || zeroOK && n == 0)
}

// validate checks one mailbox; key is its path, e.g. "mailboxes[0]".
func (m *Mailbox) validate(key string) []error {
	var errs []error
	bad := func(k, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s.%s: %s", key, k, fmt.Sprintf(format, args...)))
	}
	if m.ID <= 0 {
		bad("id", "must be a positive number, got %d", m.ID)
	}
	switch m.Assignment {
	case AssignFixed:
	case AssignRoundRobin, AssignFewestOpen:
		if len(m.Owners) == 0 {
			bad("owners", "assignment %s needs at least one owner", m.Assignment)
		}
	default:
		bad("assignment", "%q is not one of fixed, round_robin, fewest_open", m.Assignment)
	}
	for j, r := range m.Rules {
		errs = append(errs, r.validate(fmt.Sprintf("%s.rules[%d]", key, j))...)
	}
	if m.IMAP != nil {
		errs = append(errs, m.IMAP.validate(key+".imap")...)
	}
	return errs
}

func (r *Rule) validate(key string) []error {
	var errs []error
	bad := func(k, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s.%s: %s", key, k, fmt.Sprintf(format, args...)))
	}
	if strings.TrimSpace(r.Header) == "" {
		bad("header", "must name a header field, e.g. Subject")
	}
	if r.Match == "" {
		bad("match", "must be a regular expression")
	} else if _, err := regexp.Compile(r.Match); err != nil {
		bad("match", "%v", err)
	}
	switch r.Action {
	case ActionRoute:
		if r.Category == "" && r.Priority == "" && r.Owner == "" {
			bad("action", "route needs category, priority or owner")
		}
	case ActionIgnore, ActionQuarantine:
	default:
		bad("action", "%q is not one of route, ignore, quarantine", r.Action)
	}
	return errs
}

func (im *IMAP) validate(key string) []error {
	var errs []error
	bad := func(k, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s.%s: %s", key, k, fmt.Sprintf(format, args...)))
	}
	if strings.TrimSpace(im.Host) == "" {
		bad("host", "must not be empty")
	}
	if im.Port < 1 || im.Port > 65535 {
		bad("port", "%d is not in 1-65535", im.Port)
	}
	switch im.TLS {
	case TLSImplicit, TLSStartTLS, TLSNone:
	default:
		bad("tls", "%q is not one of implicit, starttls, none", im.TLS)
	}
	if im.CAFile != "" && im.TLS == TLSNone {
		bad("ca_file", "is set but tls is none")
	}

	switch im.Auth {
	case AuthLogin, AuthPlain:
		if im.Username == "" {
			bad("username", "must not be empty")
		}
		if im.Password == "" && im.PasswordFile == "" { // a bad file is reported already
			bad("password", "set password or password_file")
		}
		if im.OAuth != nil {
			bad("oauth", "is only used with auth xoauth2, not %s", im.Auth)
		}
	case AuthXOAuth2:
		if im.Username == "" {
			bad("username", "must not be empty")
		}
		if im.OAuth == nil {
			bad("oauth", "auth xoauth2 needs an oauth block")
		} else {
			errs = append(errs, im.OAuth.validate(key+".oauth")...)
		}
		if im.Password != "" {
			bad("password", "is not used with auth xoauth2")
		}
	default:
		bad("auth", "%q is not one of login, plain, xoauth2", im.Auth)
	}

	if strings.TrimSpace(im.Folder) == "" {
		bad("folder", "must not be empty")
	}
	switch action, folder := im.AfterImportAction(); action {
	case AfterImportSeen, AfterImportDelete:
	case AfterImportMove:
		if strings.TrimSpace(folder) == "" {
			bad("after_import", "move needs a folder: move:<folder>")
		} else if folder == im.Folder {
			bad("after_import", "moves into the polled folder %q", folder)
		}
	default:
		bad("after_import", "%q is not one of seen, move:<folder>, delete", im.AfterImport)
	}
	if im.QuarantineFolder != "" && im.QuarantineFolder == im.Folder {
		bad("quarantine_folder", "is the polled folder %q", im.Folder)
	}
	if im.PollInterval < minPollInterval {
		bad("poll_interval", "%s is shorter than %s", im.PollInterval, minPollInterval)
	}
	switch r := im.IdleRecheck; {
	case r == 0:
	case r < minIdleRecheck:
		bad("idle_recheck", "%s is shorter than %s (0 turns it off)", r, minIdleRecheck)
	case r >= im.PollInterval:
		bad("idle_recheck", "%s is not shorter than poll_interval %s", r, im.PollInterval)
	case im.DisableIdle:
		bad("idle_recheck", "needs IDLE, but disable_idle is true")
	}
	if im.BatchSize < 1 || im.BatchSize > maxBatchSize {
		bad("batch_size", "%d is not in 1-%d", im.BatchSize, maxBatchSize)
	}
	if im.CommandTimeout < minCommandTimeout || im.CommandTimeout > maxCommandTimeout {
		bad("command_timeout", "%s is not between %s and %s", im.CommandTimeout, minCommandTimeout, maxCommandTimeout)
	}
	return errs
}

func (o *OAuth) validate(key string) []error {
	var errs []error
	bad := func(k, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s.%s: %s", key, k, fmt.Sprintf(format, args...)))
	}
	if u, err := url.Parse(o.TokenURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		bad("token_url", "%q is not an https:// URL", o.TokenURL)
	}
	if o.ClientID == "" {
		bad("client_id", "must not be empty")
	}
	if o.RefreshToken == "" && o.RefreshTokenFile == "" { // a bad file is reported already
		bad("refresh_token", "set refresh_token or refresh_token_file")
	}
	return errs
}
