package imaptest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// DovecotBinary is where Debian's dovecot-imapd installs the server.
const DovecotBinary = "/usr/sbin/dovecot"

// mailUID is the uid/gid mail processes run as: Dovecot refuses root.
const mailUID = 65534

// Dovecot is a private Dovecot 2.3 instance on 127.0.0.1 with plaintext
// LOGIN/PLAIN and one Maildir user. Folders Archive and Quarantine exist.
type Dovecot struct {
	Addr     string
	Host     string
	Port     int
	User     string
	Password string
	Conf     string // dovecot.conf, for doveadm -c
	Dir      string // everything of the instance lives here
	Maildir  string // the user's Maildir

	seq atomic.Int64
}

// StartDovecot starts Dovecot for the test and stops it at cleanup. It
// skips the test when the binary is not installed or the test does not run
// as root (Dovecot's master process needs it to switch users).
func StartDovecot(t testing.TB) *Dovecot {
	t.Helper()
	if _, err := os.Stat(DovecotBinary); err != nil {
		t.Skipf("imaptest: %s not installed (apt-get install dovecot-imapd): skipping Dovecot test", DovecotBinary)
	}
	if os.Geteuid() != 0 {
		t.Skip("imaptest: Dovecot tests need root (mail processes run as uid 65534)")
	}
	// Not t.TempDir(): Dovecot's UNIX sockets live under base_dir and their
	// paths must stay below 108 bytes, which long test names exceed.
	dir, err := os.MkdirTemp("", "postdesk-dovecot-")
	if err != nil {
		t.Fatalf("imaptest: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	p, err := RunDovecot(dir)
	if err != nil {
		t.Fatalf("imaptest: %v", err)
	}
	t.Cleanup(func() { p.Close() })
	return p.Dovecot
}

func (d *Dovecot) writeConfig() error {
	for _, sub := range []string{"run", "state", "home/bot/Maildir/cur", "home/bot/Maildir/new", "home/bot/Maildir/tmp"} {
		if err := os.MkdirAll(filepath.Join(d.Dir, sub), 0o755); err != nil {
			return err
		}
	}
	if err := os.Chmod(d.Dir, 0o711); err != nil {
		return err
	}
	home := filepath.Join(d.Dir, "home")
	if err := filepath.Walk(home, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Chown(p, mailUID, mailUID)
	}); err != nil {
		return err
	}
	passwd := filepath.Join(d.Dir, "passwd")
	if err := os.WriteFile(passwd, []byte(d.User+":{PLAIN}"+d.Password+"\n"), 0o644); err != nil {
		return err
	}
	conf := fmt.Sprintf(`# private test instance written by imaptest
protocols = imap
listen = 127.0.0.1
base_dir = %[1]s/run
state_dir = %[1]s/state
instance_name = postdesk-test-%[2]d
log_path = %[1]s/dovecot.log
info_log_path = %[1]s/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
first_valid_uid = %[3]d
last_valid_uid = %[3]d
first_valid_gid = %[3]d
last_valid_gid = %[3]d
mail_max_userip_connections = 50
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = %[2]d
  }
  inet_listener imaps {
    port = 0
  }
}
service stats {
  inet_listener http {
    port = 0
  }
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%%u %[4]s
}
userdb {
  driver = static
  args = uid=%[3]d gid=%[3]d home=%[1]s/home/%%u
}
namespace inbox {
  inbox = yes
  separator = /
  mailbox Archive {
    auto = create
  }
  mailbox Quarantine {
    auto = create
  }
}
`, d.Dir, d.Port, mailUID, passwd)
	return os.WriteFile(d.Conf, []byte(conf), 0o644)
}

// doveadm runs doveadm against this instance.
func (d *Dovecot) doveadm(stdin []byte, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "doveadm", append([]string{"-c", d.Conf}, args...)...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("doveadm %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// Deliver saves raw into INBOX with doveadm save (about 20 ms a message),
// which notifies IDLE clients like a real delivery.
func (d *Dovecot) Deliver(raw []byte) error {
	return d.DeliverTo("INBOX", raw)
}

// DeliverTo saves raw into folder.
func (d *Dovecot) DeliverTo(folder string, raw []byte) error {
	_, err := d.doveadm(raw, "save", "-u", d.User, "-m", folder)
	return err
}

// DeliverMaildir writes raws straight into INBOX's Maildir/new (tmp, then
// rename, as an MDA does): thousands per second, for bulk setups.
func (d *Dovecot) DeliverMaildir(raws [][]byte) error {
	host, _ := os.Hostname()
	for _, raw := range raws {
		name := fmt.Sprintf("%d.P%dQ%d.%s", time.Now().Unix(), os.Getpid(), d.seq.Add(1), host)
		tmp := filepath.Join(d.Maildir, "tmp", name)
		if err := os.WriteFile(tmp, crlf(raw), 0o600); err != nil {
			return err
		}
		if err := os.Chown(tmp, mailUID, mailUID); err != nil {
			return err
		}
		if err := os.Rename(tmp, filepath.Join(d.Maildir, "new", name)); err != nil {
			return err
		}
	}
	return nil
}

// crlf converts line ends to LF, Maildir's on-disk convention.
func crlf(raw []byte) []byte { return bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n")) }

// Search returns the UIDs in folder matching a doveadm search query such as
// "UNSEEN" or "SEEN" (empty: ALL).
func (d *Dovecot) Search(folder string, query ...string) ([]uint32, error) {
	args := append([]string{"search", "-u", d.User, "mailbox", folder}, query...)
	if len(query) == 0 {
		args = append(args, "ALL")
	}
	out, err := d.doveadm(nil, args...)
	if err != nil {
		return nil, err
	}
	var uids []uint32
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 {
			continue
		}
		u, err := strconv.ParseUint(f[1], 10, 32)
		if err != nil {
			return nil, fmt.Errorf("doveadm search: line %q: %w", line, err)
		}
		uids = append(uids, uint32(u))
	}
	return uids, nil
}

// Count returns how many messages in folder match query (see Search).
func (d *Dovecot) Count(folder string, query ...string) (int, error) {
	uids, err := d.Search(folder, query...)
	return len(uids), err
}

// Log returns Dovecot's log so far, for failure messages.
func (d *Dovecot) Log() string {
	b, _ := os.ReadFile(filepath.Join(d.Dir, "dovecot.log"))
	return string(b)
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
