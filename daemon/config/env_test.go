package config

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestEnvOverrides(t *testing.T) {
	path := writeConfig(t, `
http: {listen: "127.0.0.1:8080"}
mailboxes:
  - id: 607
    imap: {host: imap.example.com, username: support@example.com, password_file: /nonexistent}
`)
	c, err := Load(path, []string{
		"HOME=/root",
		"POSTDESK_CONFIG=/etc/postdesk/postdesk.yaml",
		"POSTDESK_HTTP_LISTEN=0.0.0.0:9090",
		"POSTDESK_STORE_PATH=/srv/tickets.db",
		"POSTDESK_API_SLOW_THRESHOLD=2500ms",
		"POSTDESK_API_APP_TOKENS=tok-a, tok-b",
		"POSTDESK_IMPORT_MAX_SIZE=10MB",
		"POSTDESK_IMPORT_SENDER_CAP=-1",
		"POSTDESK_LOG_LEVEL=debug",
		"POSTDESK_FREE_MAIL_DOMAINS=gmail.com,web.de",
		// An empty value clears the file's key, so the password may
		// come from the environment instead.
		"POSTDESK_MAILBOXES_0_IMAP_PASSWORD_FILE=",
		"POSTDESK_MAILBOXES_0_IMAP_PASSWORD=from-env",
		"POSTDESK_MAILBOXES_0_IMAP_POLL_INTERVAL=5m",
		"POSTDESK_MAILBOXES_0_IMAP_DISABLE_IDLE=true",
		// An index past the file's list adds a mailbox.
		"POSTDESK_MAILBOXES_1_ID=9",
		"POSTDESK_MAILBOXES_1_ASSIGNMENT=round_robin",
		"POSTDESK_MAILBOXES_1_OWNERS=Ann,Bob",
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTP.Listen != "0.0.0.0:9090" || c.HTTP.PublicURL != "http://localhost:9090" {
		t.Errorf("http = %+v", c.HTTP)
	}
	if c.Store.Path != "/srv/tickets.db" || c.API.SlowThreshold != 2500*time.Millisecond || c.Log.Level != "debug" {
		t.Errorf("store %q, slow threshold %s, log level %q", c.Store.Path, c.API.SlowThreshold, c.Log.Level)
	}
	if !slices.Equal(c.API.AppTokens, []string{"tok-a", "tok-b"}) || !slices.Equal(c.FreeMailDomains, []string{"gmail.com", "web.de"}) {
		t.Errorf("lists: app tokens %q, free mail %q", c.API.AppTokens, c.FreeMailDomains)
	}
	if c.Import.MaxSize != 10_000_000 || c.Import.SenderCap != -1 {
		t.Errorf("import = %+v", c.Import)
	}
	im := c.Mailbox(607).IMAP
	if im.Password != "from-env" || im.PollInterval != 5*time.Minute || !im.DisableIdle || im.Host != "imap.example.com" {
		t.Errorf("mailbox 607 imap = %+v", im)
	}
	if m := c.Mailbox(9); m == nil || m.Assignment != AssignRoundRobin || !slices.Equal(m.Owners, []string{"Ann", "Bob"}) {
		t.Errorf("mailbox 9 = %+v", m)
	}
}

func TestEnvUnknownVariableIsNamed(t *testing.T) {
	for _, v := range []string{
		"POSTDESK_HTTP_LISTN=x",
		"POSTDESK_MAILBOXES_0_IMAP_PASWORD=x",
		"POSTDESK_MAILBOXES_X_ID=3",
		"POSTDESK_MAILBOXES_01_ID=3",
		"POSTDESK_COMPANIES_EXAMPLE_COM=x",
		"POSTDESK_MAILBOXES_0_RULES=x",
	} {
		_, err := Load("", []string{v})
		name, _, _ := strings.Cut(v, "=")
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: error %v, want it to name the variable", v, err)
		}
	}
}

func TestEnvBadValueNamesKey(t *testing.T) {
	_, err := Load("", []string{"POSTDESK_API_SLOW_THRESHOLD=fast", "POSTDESK_MAILBOXES_0_ID=zero"})
	for _, key := range []string{"api.slow_threshold", "mailboxes[0].id"} {
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("error %v does not name %s", err, key)
		}
	}
}

func TestEnvVarsDocumented(t *testing.T) {
	vars := EnvVars()
	for _, want := range []string{"POSTDESK_HTTP_LISTEN", "POSTDESK_STORE_PATH", "POSTDESK_API_SLOW_THRESHOLD", "POSTDESK_MAILBOXES_<n>_IMAP_PASSWORD", "POSTDESK_MAILBOXES_<n>_IMAP_OAUTH_REFRESH_TOKEN_FILE"} {
		if !slices.Contains(vars, want) {
			t.Errorf("EnvVars lacks %s", want)
		}
	}
	for _, v := range vars {
		if strings.Contains(v, "RULES") || strings.Contains(v, "COMPANIES") {
			t.Errorf("EnvVars lists %s, which cannot be set", v)
		}
	}
}
