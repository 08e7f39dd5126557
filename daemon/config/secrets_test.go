package config

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestSecretFiles(t *testing.T) {
	confDir := t.TempDir()
	credDir := t.TempDir()
	writeFile(t, confDir, "imap.pw", "next-to-config\n")
	writeFile(t, credDir, "imap.pw", "from-credentials\n")
	abs := writeFile(t, t.TempDir(), "abs.pw", "absolute")
	writeFile(t, confDir, "empty.pw", "\n")
	cfg := writeFile(t, confDir, "postdesk.yaml", `
mailboxes:
  - {id: 2, imap: {host: h, username: u, password_file: imap.pw}}
  - {id: 3, imap: {host: h, username: u, password_file: `+abs+`}}
`)
	c := mustLoad(t, cfg, []string{"CREDENTIALS_DIRECTORY=" + credDir})
	if got := c.Mailbox(2).IMAP; got.Password != "from-credentials" || got.PasswordFile != filepath.Join(credDir, "imap.pw") {
		t.Errorf("with CREDENTIALS_DIRECTORY: password %q from %q", got.Password, got.PasswordFile)
	}
	if got := c.Mailbox(3).IMAP.Password; got != "absolute" {
		t.Errorf("absolute password_file: %q", got)
	}
	c = mustLoad(t, cfg, nil)
	if got := c.Mailbox(2).IMAP.Password; got != "next-to-config" {
		t.Errorf("without CREDENTIALS_DIRECTORY: password %q, want the file next to the config", got)
	}

	for _, tc := range []struct{ yaml, want string }{
		{"mailboxes: [{id: 2, imap: {host: h, username: u, password_file: missing.pw}}]", "mailboxes[0].imap.password_file:"},
		{"mailboxes: [{id: 2, imap: {host: h, username: u, password_file: empty.pw}}]", "mailboxes[0].imap.password_file: " + filepath.Join(confDir, "empty.pw") + " is empty"},
		{"mailboxes: [{id: 2, imap: {host: h, username: u, password: p, password_file: imap.pw}}]", "set only one of them"},
		{"mailboxes: [{id: 2, imap: {host: h, username: u, oauth: {token_url: 'https://t', client_id: c, refresh_token_file: nope}}}]", "mailboxes[0].imap.oauth.refresh_token_file:"},
		{"mailboxes: [{id: 2, imap: {host: h, username: u, oauth: {token_url: 'https://t', client_id: c, refresh_token: r, client_secret_file: nope}}}]", "mailboxes[0].imap.oauth.client_secret_file:"},
		{"api: {app_tokens_file: empty.pw}", "api.app_tokens_file:"},
	} {
		_, err := Load(writeFile(t, confDir, "bad.yaml", tc.yaml), nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to contain %q", tc.yaml, err, tc.want)
		}
	}
}
