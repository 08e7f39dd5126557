package imap

import (
	"strings"
	"testing"
	"time"
)

func validConfig() Config {
	return Config{MailboxID: 1, Host: "imap.example.com", Port: 993, TLS: TLSImplicit, Username: "u", Password: "p"}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		mutate func(*Config)
		want   []string // substrings of the error; none = valid
	}{
		{"valid", func(*Config) {}, nil},
		{"move", func(c *Config) { c.AfterImport = "move:Archive" }, nil},
		{"xoauth2", func(c *Config) {
			c.Auth, c.Password = "xoauth2", ""
			c.OAuth = &OAuthConfig{TokenURL: "https://login.example.com/token", ClientID: "id"}
		}, nil},
		{"tls and port default", func(c *Config) { c.TLS, c.Port = "", 0 }, nil},
		{"everything wrong at once", func(c *Config) {
			c.MailboxID, c.Host, c.Port, c.TLS = 0, "", 70000, "ssl"
		}, []string{"mailbox id", "host", "port", `tls "ssl"`}},
		{"password", func(c *Config) { c.Password = "" }, []string{"password"}},
		{"auth", func(c *Config) { c.Auth = "cram-md5" }, []string{`auth "cram-md5"`}},
		{"oauth missing", func(c *Config) { c.Auth = "xoauth2" }, []string{"oauth: required"}},
		{"oauth fields", func(c *Config) { c.Auth = "xoauth2"; c.OAuth = &OAuthConfig{} }, []string{"token_url", "client_id"}},
		{"move without folder", func(c *Config) { c.AfterImport = "move:" }, []string{"needs a folder"}},
		{"move into itself", func(c *Config) { c.AfterImport = "move:INBOX" }, []string{"polled folder"}},
		{"unknown action", func(c *Config) { c.AfterImport = "archive" }, []string{`after_import "archive"`}},
		{"quarantine is the folder", func(c *Config) { c.Folder, c.QuarantineFolder = "Support", "Support" }, []string{"quarantine_folder"}},
		{"ca without tls", func(c *Config) { c.TLS, c.CAFile = TLSNone, "/etc/ca.pem" }, []string{"ca_file"}},
		{"negative", func(c *Config) { c.PollInterval, c.BatchSize, c.MaxSize = -time.Second, -1, -1 }, []string{"poll_interval", "batch_size", "max_size"}},
		{"idle too long", func(c *Config) { c.IdleRestart = 30 * time.Minute }, []string{"idle_restart"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := validConfig()
			tc.mutate(&c)
			err := c.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("Validate = %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Validate accepted an invalid config")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	c := Config{MailboxID: 1, Host: "imap.example.com", Username: "u", Password: "p"}.withDefaults()
	if c.TLS != TLSImplicit || c.Port != 993 {
		t.Errorf("TLS %q port %d, want implicit on 993", c.TLS, c.Port)
	}
	if p := (Config{TLS: TLSStartTLS}).withDefaults().Port; p != 143 {
		t.Errorf("starttls port %d, want 143", p)
	}
	if c.Folder != "INBOX" || c.AfterImport != "seen" || c.Auth != "login" || c.ServerName != "imap.example.com" ||
		c.PollInterval != time.Minute || c.IdleRestart != 25*time.Minute || c.BatchSize != 200 ||
		c.MaxSize != 25<<20 || c.DialTimeout != 15*time.Second || c.CommandTimeout != time.Minute {
		t.Errorf("defaults = %+v", c)
	}
}
