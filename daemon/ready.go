package daemon

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/postdesk/postdesk/daemon/config"
	"github.com/postdesk/postdesk/imap"
)

// storeFaultWindow is how long a failed write keeps /readyz at 503 when no
// write succeeds after it (with no traffic at all, readiness falls back to
// the ping).
const storeFaultWindow = time.Minute

// ready is /readyz: the store takes writes and every polled mailbox has
// polled successfully recently. The error names the mailboxes that have not.
func (d *Daemon) ready(ctx context.Context) error {
	if err := d.store.Ping(ctx); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if at, err := d.store.RecentFault(storeFaultWindow); err != nil {
		return fmt.Errorf("store: a write failed %s ago and none has succeeded since: %w",
			time.Since(at).Round(time.Second), err)
	}
	cfg := d.config()
	intervals := map[int64]time.Duration{}
	for _, mb := range cfg.Mailboxes {
		if mb.IMAP != nil {
			intervals[mb.ID] = mb.IMAP.PollInterval
		}
	}
	now := time.Now()
	var stale []string
	for _, st := range d.pool.Status() {
		limit := d.opts.StaleAfter
		if limit <= 0 {
			limit = max(3*intervals[st.MailboxID], 5*time.Minute)
		}
		last := st.LastSuccess
		if last.IsZero() {
			last = d.started
		}
		if now.Sub(last) > limit {
			reason := "never polled successfully"
			if !st.LastSuccess.IsZero() {
				reason = "last successful poll " + now.Sub(st.LastSuccess).Round(time.Second).String() + " ago"
			}
			if st.LastError != "" {
				reason += ": " + st.LastError
			}
			stale = append(stale, fmt.Sprintf("mailbox %d (%s) %s", st.MailboxID, st.Name, reason))
		}
	}
	if len(stale) > 0 {
		return fmt.Errorf("%s", strings.Join(stale, "; "))
	}
	return nil
}

// imapConfigs maps the configured IMAP blocks onto poller configurations.
func imapConfigs(cfg *config.Config) []imap.Config {
	var out []imap.Config
	for _, mb := range cfg.Mailboxes {
		c := mb.IMAP
		if c == nil {
			continue
		}
		ic := imap.Config{
			MailboxID:        mb.ID,
			Name:             mb.Name,
			Host:             c.Host,
			Port:             c.Port,
			TLS:              c.TLS,
			CAFile:           c.CAFile,
			Auth:             c.Auth,
			Username:         c.Username,
			Password:         c.Password,
			Folder:           c.Folder,
			AfterImport:      c.AfterImport,
			QuarantineFolder: c.QuarantineFolder,
			PollInterval:     c.PollInterval,
			DisableIdle:      c.DisableIdle,
			IdleRecheck:      c.IdleRecheck,
			BatchSize:        c.BatchSize,
			MaxSize:          int64(cfg.Import.MaxSize),
			CommandTimeout:   c.CommandTimeout,
		}
		if o := c.OAuth; o != nil {
			ic.OAuth = &imap.OAuthConfig{TokenURL: o.TokenURL, ClientID: o.ClientID, ClientSecret: o.ClientSecret, RefreshToken: o.RefreshToken, Scopes: o.Scopes}
		}
		out = append(out, ic)
	}
	return out
}
