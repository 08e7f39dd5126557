package config

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// examplePath is the operators' example, kept valid by these tests.
const examplePath = "../../configs/postdesk.yaml"

// writeFile writes content to name in dir and returns its path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// writeConfig writes a configuration file into a fresh directory.
func writeConfig(t *testing.T, yaml string) string {
	t.Helper()
	return writeFile(t, t.TempDir(), "postdesk.yaml", yaml)
}

// exampleCredentials creates the secret files the example refers to and
// returns the environment pointing CREDENTIALS_DIRECTORY at them.
func exampleCredentials(t *testing.T) []string {
	t.Helper()
	dir := t.TempDir()
	writeFile(t, dir, "imap.pw", "s3cret\n")
	writeFile(t, dir, "app-tokens", "# SO-AppToken values\napptoken-1\n\napptoken-2\n")
	writeFile(t, dir, "m365-client-secret", "client-secret")
	writeFile(t, dir, "m365-refresh-token", "refresh-token\r\n")
	return []string{"CREDENTIALS_DIRECTORY=" + dir, "STATE_DIRECTORY=/var/lib/postdesk"}
}

func TestExampleConfigLoads(t *testing.T) {
	c, err := Load(examplePath, exampleCredentials(t))
	if err != nil {
		t.Fatalf("the example configuration must stay valid:\n%v", err)
	}
	if c.HTTP.PublicURL != "https://helpdesk.example.com" {
		t.Errorf("public_url = %q", c.HTTP.PublicURL)
	}
	if got, want := c.API.TicketURL, "https://helpdesk.example.com/ticket/{id}"; got != want {
		t.Errorf("ticket_url = %q, want %q", got, want)
	}
	if !slices.Equal(c.API.AppTokens, []string{"apptoken-1", "apptoken-2"}) {
		t.Errorf("app tokens = %q", c.API.AppTokens)
	}
	if c.Companies["example.com"] != "Example Inc." {
		t.Errorf("companies = %v (a dotted domain must stay one key)", c.Companies)
	}
	if got := c.LocalName("Technical Support", "de-CH"); got != "Technischer Support" {
		t.Errorf("LocalName(Technical Support, de-CH) = %q", got)
	}
	if len(c.Mailboxes) != 3 {
		t.Fatalf("%d mailboxes, want 3", len(c.Mailboxes))
	}

	support := c.Mailbox(607)
	if support == nil || support.IMAP == nil {
		t.Fatalf("mailbox 607 with imap missing: %+v", support)
	}
	im := support.IMAP
	if im.Password != "s3cret" || im.Port != 993 || im.TLS != TLSImplicit || im.PollInterval != time.Minute {
		t.Errorf("mailbox 607 imap = %+v", im)
	}
	if len(support.Rules) != 4 || support.Rules[1].Action != ActionRoute {
		t.Errorf("rules = %+v (the second rule defaults to route)", support.Rules)
	}

	billing := c.Mailbox(608)
	if billing == nil || billing.IMAP == nil || billing.IMAP.OAuth == nil {
		t.Fatalf("mailbox 608 with oauth missing: %+v", billing)
	}
	o := billing.IMAP.OAuth
	if billing.IMAP.Auth != AuthXOAuth2 || billing.IMAP.Port != 993 || o.ClientSecret != "client-secret" || o.RefreshToken != "refresh-token" {
		t.Errorf("mailbox 608 imap = %+v oauth = %+v", billing.IMAP, o)
	}
	if action, folder := billing.IMAP.AfterImportAction(); action != AfterImportMove || folder != "Archive/postdesk" {
		t.Errorf("after_import = %s %q", action, folder)
	}
	if m := c.Mailbox(1); m == nil || m.IMAP != nil {
		t.Errorf("mailbox 1 must be manual-import only: %+v", m)
	}

	tms, err := c.TicketMailboxes()
	if err != nil {
		t.Fatal(err)
	}
	if !tms[0].Rules[0].Pattern.MatchString("Server DOWN since 5am") {
		t.Errorf("rule outage does not match")
	}
}

// TestExampleConfigHasEveryKey keeps the example complete: every key the
// configuration knows appears in it, except those listed with a reason.
func TestExampleConfigHasEveryKey(t *testing.T) {
	data, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	commentedOut := map[string]string{
		"ca_file":       "needs a real file; shown commented out",
		"password":      "the example shows password_file",
		"client_secret": "the example shows client_secret_file",
		"refresh_token": "the example shows refresh_token_file",
	}
	var paths [][]string
	paths = append(paths, leafPaths(reflect.TypeFor[Config](), nil, nil)...)
	paths = append(paths, leafPaths(reflect.TypeFor[Mailbox](), []string{"mailboxes"}, nil)...)
	paths = append(paths, leafPaths(reflect.TypeFor[Rule](), []string{"mailboxes", "rules"}, nil)...)
	for _, p := range paths {
		key := p[len(p)-1]
		if _, ok := commentedOut[key]; ok {
			continue
		}
		if !strings.Contains(text, key+":") {
			t.Errorf("configs/postdesk.yaml does not show key %s", strings.Join(p, "."))
		}
	}
}

func TestEmbeddedDefaults(t *testing.T) {
	for name, c := range map[string]*Config{"Default": Default(), "Load": mustLoad(t, "", nil)} {
		t.Run(name, func(t *testing.T) {
			if c.HTTP.Listen != "127.0.0.1:8080" || c.HTTP.PublicURL != "http://127.0.0.1:8080" {
				t.Errorf("http = %+v", c.HTTP)
			}
			if c.Store.Path != "postdesk.db" {
				t.Errorf("store.path = %q, want postdesk.db in the working directory", c.Store.Path)
			}
			if c.API.SlowThreshold != 5*time.Second || c.API.TicketURL != "http://127.0.0.1:8080/ticket/{id}" {
				t.Errorf("api = %+v", c.API)
			}
			if c.Import.MaxSize != 25<<20 || c.Import.SenderCap != 50 || c.Import.SubjectTag != "ejTag" || c.Import.LoopID != "postdesk" {
				t.Errorf("import = %+v", c.Import)
			}
			if c.Log.Level != "info" || c.Log.Format != "text" {
				t.Errorf("log = %+v", c.Log)
			}
			if len(c.Mailboxes) != 1 || c.Mailboxes[0].ID != 1 || c.Mailboxes[0].IMAP != nil {
				t.Errorf("mailboxes = %+v, want one manual-import mailbox with id 1", c.Mailboxes)
			}
		})
	}
}

func TestStoreUnderStateDirectory(t *testing.T) {
	for _, tc := range []struct{ env, file, want string }{
		{"/var/lib/postdesk", "", "/var/lib/postdesk/postdesk.db"},
		{"/var/lib/postdesk:/var/lib/other", "", "/var/lib/postdesk/postdesk.db"},
		{"/var/lib/postdesk", "store: {path: tickets.db}", "/var/lib/postdesk/tickets.db"},
		{"/var/lib/postdesk", "store: {path: /srv/pd.db}", "/srv/pd.db"},
		{"", "store: {path: tickets.db}", "tickets.db"},
	} {
		path := ""
		if tc.file != "" {
			path = writeConfig(t, tc.file)
		}
		c := mustLoad(t, path, []string{"STATE_DIRECTORY=" + tc.env})
		if c.Store.Path != tc.want {
			t.Errorf("STATE_DIRECTORY=%q, %q: store.path = %q, want %q", tc.env, tc.file, c.Store.Path, tc.want)
		}
	}
}

func TestPublicURLDefault(t *testing.T) {
	for listen, want := range map[string]string{
		"127.0.0.1:9000": "http://127.0.0.1:9000",
		":8080":          "http://localhost:8080",
		"[::]:8080":      "http://localhost:8080",
		"[::1]:8080":     "http://[::1]:8080",
	} {
		c := mustLoad(t, "", []string{"POSTDESK_HTTP_LISTEN=" + listen})
		if c.HTTP.PublicURL != want {
			t.Errorf("listen %q: public_url = %q, want %q", listen, c.HTTP.PublicURL, want)
		}
	}
}

func mustLoad(t *testing.T, path string, env []string) *Config {
	t.Helper()
	c, err := Load(path, env)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRedacted(t *testing.T) {
	c, err := Load(examplePath, append(exampleCredentials(t), "POSTDESK_API_APP_TOKENS=inline-token"))
	if err != nil {
		t.Fatal(err)
	}
	r := c.Redacted()
	if r.Mailbox(607).IMAP.Password != Redacted {
		t.Errorf("password shown: %q", r.Mailbox(607).IMAP.Password)
	}
	if o := r.Mailbox(608).IMAP.OAuth; o.ClientSecret != Redacted || o.RefreshToken != Redacted {
		t.Errorf("oauth secrets shown: %+v", o)
	}
	for _, tok := range r.API.AppTokens {
		if tok != Redacted {
			t.Errorf("app token shown: %q", tok)
		}
	}
	if !strings.HasSuffix(r.Mailbox(607).IMAP.PasswordFile, "imap.pw") {
		t.Errorf("password_file should stay visible, got %q", r.Mailbox(607).IMAP.PasswordFile)
	}
	// The original is untouched.
	if c.Mailbox(607).IMAP.Password != "s3cret" || c.Mailbox(608).IMAP.OAuth.RefreshToken != "refresh-token" || c.API.AppTokens[0] != "inline-token" {
		t.Errorf("Redacted changed the original")
	}
	if r.Mailbox(1).IMAP != nil {
		t.Errorf("a manual mailbox grew an imap block")
	}
}
