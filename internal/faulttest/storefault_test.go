package faulttest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// mountTmpfs mounts a tmpfs of size bytes at a fresh directory and
// unmounts it when the test ends (after everything registered later). It
// skips the test when mounting is not allowed (not root, no CAP_SYS_ADMIN).
func mountTmpfs(t *testing.T, size int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tmpfs")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d", size), "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs for the disk-full test (needs root): %v %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", dir, err, out)
		}
	})
	return dir
}

// fill writes a file until the file system is full.
func fill(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := bytes.Repeat([]byte{0xa5}, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("fill: %v", err)
			}
			return
		}
	}
}

// bigMail is a mail of about size bytes: it needs fresh pages to store.
func bigMail(id string, size int) []byte {
	raw := testMail(id, "store fault "+id, "disk@acme.example")
	return append(raw, []byte(strings.Repeat("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\r\n", size/65))...)
}

// TestStoreDiskFull puts the database on a small tmpfs and fills it while
// the daemon runs: HTTP imports answer 503, IMAP mail stays unacknowledged
// (not \Seen), and once space is freed everything is imported once.
func TestStoreDiskFull(t *testing.T) {
	t.Parallel()
	mnt := mountTmpfs(t, 24<<20)
	e := &netEnv{t: t, srv: startFaultServer(t), sent: map[string]string{}}
	e.srv.addUser(t, "u1", "p1")
	e.srv.addUser(t, "u2", "p2")
	e.td = startDaemon(t, daemonConfig{
		StorePath: filepath.Join(mnt, "postdesk.db"),
		Mailboxes: fmt.Sprintf("  - {id: 607, name: support, imap: {host: %s, port: %d, tls: none, username: u1, password: p1, poll_interval: 1s}}\n", e.srv.Host, e.srv.Port),
	})
	e.td.healthy("start")

	fill(t, filepath.Join(mnt, "filler"))
	httpIDs := []string{"full-http-1@faulttest.example", "full-http-2@faulttest.example"}
	refused := 0
	for _, id := range httpIDs {
		code, body := e.td.postMail(607, bigMail(id, 2<<20))
		if code != 503 {
			t.Errorf("import on a full disk answered %d %.300s, want 503", code, body)
		} else {
			refused++
		}
	}
	e.send("u1", "INBOX", 3, 1<<20)
	waitUntil(t, 20*time.Second, "failed IMAP deliveries", func() (bool, error) {
		return e.metric("postdesk_imap_polls_total", "result", "error") >= 2, nil
	})
	if s, n := e.seen("u1", "INBOX"); s != 0 || n != 3 {
		t.Errorf("on a full disk %d of %d IMAP mails were acknowledged", s, n)
	}
	if code, _ := e.td.do("GET", "/readyz", "", nil, nil); code != 503 {
		t.Errorf("/readyz on a full disk: %d, want 503", code)
	}
	e.logged("imap delivery failed")

	if err := os.Remove(filepath.Join(mnt, "filler")); err != nil {
		t.Fatal(err)
	}
	e.waitAllSeen("u1", "INBOX", 60*time.Second)
	for _, id := range httpIDs {
		e.sent[id] = "http"
		if code, body := e.td.postMail(607, bigMail(id, 2<<20)); code != 200 {
			t.Errorf("import after the disk was freed answered %d %.300s", code, body)
		}
	}
	e.td.healthy("disk full")
	e.finish("store: disk full (tmpfs)")
	record(t, "store: HTTP imports refused 503 on full disk", len(httpIDs), refused, 0, 0)
}
