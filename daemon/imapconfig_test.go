package daemon

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/postdesk/postdesk/daemon/config"
)

// Every imap key of the configuration file reaches the poller's
// configuration, command_timeout included.
func TestIMAPConfigsFromTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "postdesk.yaml")
	yaml := "mailboxes:\n  - {id: 7, name: support, imap: {host: imap.example.com, username: u, password: p, " +
		"folder: Support, after_import: 'move:Done', poll_interval: 30s, idle_recheck: 250ms, batch_size: 20, command_timeout: 7s}}\n"
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	ics := imapConfigs(cfg)
	if len(ics) != 1 {
		t.Fatalf("%d poller configurations, want 1", len(ics))
	}
	ic := ics[0]
	if ic.MailboxID != 7 || ic.Host != "imap.example.com" || ic.Folder != "Support" || ic.AfterImport != "move:Done" ||
		ic.PollInterval != 30*time.Second || ic.IdleRecheck != 250*time.Millisecond || ic.BatchSize != 20 || ic.CommandTimeout != 7*time.Second {
		t.Errorf("poller configuration %+v does not carry the file's settings", ic)
	}
	if err := ic.Validate(); err != nil {
		t.Errorf("the poller refuses it: %v", err)
	}
}
