package config

import (
	"net"
	"path/filepath"
	"strings"

	"github.com/postdesk/postdesk/imap"
)

// Defaults filled in by Load where the configuration leaves a key empty.
const (
	DefaultStoreFile = "postdesk.db"
	// The poller's own defaults (see package imap for why).
	DefaultFolder         = imap.DefaultFolder
	DefaultPollInterval   = imap.DefaultPollInterval
	DefaultBatchSize      = imap.DefaultBatchSize
	DefaultCommandTimeout = imap.DefaultCommandTimeout
	DefaultImplicitPort   = 993
	DefaultPlainPort      = 143
)

// fillDefaults completes c after decoding; env supplies STATE_DIRECTORY.
func (c *Config) fillDefaults(env map[string]string) {
	// systemd's StateDirectory= may list several directories,
	// colon-separated; the first is ours.
	stateDir, _, _ := strings.Cut(env["STATE_DIRECTORY"], ":")
	if c.Store.Path == "" {
		c.Store.Path = DefaultStoreFile
	}
	if stateDir != "" && !filepath.IsAbs(c.Store.Path) {
		c.Store.Path = filepath.Join(stateDir, c.Store.Path)
	}

	if c.HTTP.PublicURL == "" {
		c.HTTP.PublicURL = "http://" + reachableAddr(c.HTTP.Listen)
	}
	c.HTTP.PublicURL = strings.TrimRight(c.HTTP.PublicURL, "/")
	c.API.TicketURL = strings.ReplaceAll(c.API.TicketURL, "{public_url}", c.HTTP.PublicURL)

	for i := range c.Mailboxes {
		if c.Mailboxes[i].Assignment == "" {
			c.Mailboxes[i].Assignment = AssignFixed
		}
		for j := range c.Mailboxes[i].Rules {
			if c.Mailboxes[i].Rules[j].Action == "" {
				c.Mailboxes[i].Rules[j].Action = ActionRoute
			}
		}
		if im := c.Mailboxes[i].IMAP; im != nil {
			im.fillDefaults()
		}
	}
}

func (im *IMAP) fillDefaults() {
	if im.TLS == "" {
		im.TLS = TLSImplicit
	}
	if im.Port == 0 {
		im.Port = DefaultPlainPort
		if im.TLS == TLSImplicit {
			im.Port = DefaultImplicitPort
		}
	}
	if im.Auth == "" {
		im.Auth = AuthLogin
		if im.OAuth != nil {
			im.Auth = AuthXOAuth2
		}
	}
	if im.Folder == "" {
		im.Folder = DefaultFolder
	}
	if im.AfterImport == "" {
		im.AfterImport = AfterImportSeen
	}
	if im.PollInterval == 0 {
		im.PollInterval = DefaultPollInterval
	}
	if im.BatchSize == 0 {
		im.BatchSize = DefaultBatchSize
	}
	if im.CommandTimeout == 0 {
		im.CommandTimeout = DefaultCommandTimeout
	}
}

// reachableAddr turns a listen address into one a browser can reach: a
// wildcard or empty host becomes localhost.
func reachableAddr(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	switch host {
	case "", "0.0.0.0", "::":
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}
