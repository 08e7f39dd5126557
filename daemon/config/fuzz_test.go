package config

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad: whatever an operator writes, Load returns a valid
// configuration or an error; it never panics, and what it accepts passes
// its own checks again.
func FuzzLoad(f *testing.F) {
	if data, err := os.ReadFile(examplePath); err == nil {
		f.Add(data)
	}
	for _, s := range []string{
		"",
		"http: {listen: ':0'}\n",
		"mailboxes: [{id: 2, imap: {host: h, username: u, password: p, tls: none, after_import: 'move:Done'}}]\n",
		"mailboxes: [{id: 2, rules: [{header: Subject, match: '(?i)x', action: ignore}]}]\n",
		"names: {A.B: {de: x}}\ncompanies: {example.com: X}\n",
		"api: {max_body_size: 1.5KiB, slow_threshold: 1h}\n",
	} {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "fuzz.yaml")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := Load(path, nil)
		if err != nil {
			return
		}
		if errs := c.validate(); len(errs) > 0 {
			t.Fatalf("Load accepted a configuration that fails validation: %v", errs)
		}
		if _, err := c.TicketMailboxes(); err != nil {
			t.Fatalf("TicketMailboxes of a loaded configuration: %v", err)
		}
		_ = c.Redacted()
	})
}
