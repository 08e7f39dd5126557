package faulttest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/postdesk/postdesk/imap/imaptest"
	"github.com/postdesk/postdesk/store"
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

// TestStoreReadOnly runs the real binary as an unprivileged user (uid
// 65534) on a database file that user may not write: owned by root, as
// after a restore or a "sudo sqlite3" on the live file. The daemon starts
// anyway; HTTP imports answer 503, IMAP mail stays unacknowledged, /readyz
// says why; once the file is given back, everything is imported once,
// without a restart.
func TestStoreReadOnly(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the daemon runs as uid 65534 on a root-owned database, which root itself could write")
	}
	t.Parallel()
	const uid, gid = 65534, 65534
	srv := startFaultServer(t)
	srv.addUser(t, "u1", "p1")

	dir, err := os.MkdirTemp("", "postdesk-readonly-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	// The directory is the daemon's (it creates -wal and -shm there); the
	// database file is root's and only readable.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, uid, gid); err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(dir, "postdesk.db")
	cfgPath := filepath.Join(dir, "postdesk.yaml")
	listen := freeAddr(t)
	cfg := fmt.Sprintf("http:\n  listen: %s\nstore:\n  path: %s\nlog:\n  level: debug\nimport:\n  sender_cap: -1\nmailboxes:\n"+
		"  - {id: 607, name: support, imap: {host: %s, port: %d, tls: none, username: u1, password: p1, poll_interval: 1s}}\n",
		listen, dbPath, srv.Host, srv.Port)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(dbPath, store.Options{Logger: discardLog()})
	if err != nil {
		t.Fatal(err)
	}
	token, err := st.CreateToken(context.Background(), "readonly", store.TokenBearer, store.RoleAdmin, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dbPath, 0o644); err != nil {
		t.Fatal(err)
	}
	// Store.Close checkpoints and removes -wal and -shm; whatever is left
	// must not be root's, or only the main file would be the fault.
	for _, f := range []string{dbPath + "-wal", dbPath + "-shm"} {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
	}

	sent := map[string]string{}
	deliver := func(n int) {
		for range n {
			id := fmt.Sprintf("readonly-imap-%d@faulttest.example", len(sent)+1)
			sent[id] = "imap"
			srv.deliver(t, "u1", "INBOX", testMail(id, "read-only store "+id, "ro@acme.example"))
		}
	}
	seen := func() (seen, total int) {
		msgs, err := imaptest.List(srv.Addr, "u1", "p1", "INBOX")
		if err != nil {
			t.Fatalf("list INBOX: %v", err)
		}
		for _, m := range msgs {
			if m.Seen() {
				seen++
			}
		}
		return seen, len(msgs)
	}
	deliver(3)

	logs := &syncBuffer{}
	p := startServeAs(t, &syscall.Credential{Uid: uid, Gid: gid}, cfgPath, listen, logs)
	td := &testDaemon{t: t, base: p.base, token: token, logs: logs}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("daemon log:\n%s", tail(logs.String(), 8000))
		}
	})

	httpIDs := []string{"readonly-http-1@faulttest.example", "readonly-http-2@faulttest.example"}
	refused := 0
	for _, id := range httpIDs {
		code, body := td.postMail(607, testMail(id, "read-only store "+id, "ro-http@acme.example"))
		if code != 503 {
			t.Errorf("import on a read-only store answered %d %.300s, want 503", code, body)
		} else {
			refused++
		}
	}
	waitUntil(t, 20*time.Second, "failed IMAP deliveries", func() (bool, error) {
		return td.metric("postdesk_imap_polls_total", "mailbox", "607", "result", "error") >= 2, nil
	})
	if s, n := seen(); s != 0 || n != 3 {
		t.Errorf("on a read-only store %d of %d IMAP mails were acknowledged", s, n)
	}
	if code, body := td.do("GET", "/readyz", "", nil, nil); code != 503 || !strings.Contains(string(body), "readonly") {
		t.Errorf("/readyz on a read-only store: %d %q, want 503 naming the read-only database", code, body)
	}
	if !strings.Contains(logs.String(), "attempt to write a readonly database") {
		t.Error("the daemon did not log the read-only database")
	}

	// The fault clears: the file is the daemon's again.
	if err := os.Chown(dbPath, uid, gid); err != nil {
		t.Fatal(err)
	}
	deliver(2)
	waitUntil(t, 60*time.Second, "every IMAP mail \\Seen", func() (bool, error) {
		s, n := seen()
		return n == 5 && s == n, nil
	})
	for _, id := range httpIDs {
		sent[id] = "http"
		if code, body := td.postMail(607, testMail(id, "read-only store "+id, "ro-http@acme.example")); code != 200 {
			t.Errorf("import after the fault cleared answered %d %.300s", code, body)
		}
	}
	if code, body := td.do("GET", "/readyz", "", nil, nil); code != 200 {
		t.Errorf("/readyz after the fault cleared: %d %q", code, body)
	}
	p.stop(t)

	ids, q := storeContents(t, dbPath)
	lost, dup := lostAndDuplicated(t, ids, slices.Collect(maps.Keys(sent)))
	if q != 0 {
		t.Errorf("quarantine holds %d mails", q)
	}
	record(t, "store: database file read-only", len(sent), len(sent)-lost-dup, lost, dup)
	record(t, "store: HTTP imports answered 503 on a read-only file", len(httpIDs), refused, 0, 0)
}

// TestCLIImportDiskFull runs "postdesk import" of a Maildir onto a store
// on a nearly full tmpfs. The chunk's commit fails; the mails are then
// tried one at a time, so every mail has its own outcome (created or
// failed, each failure on its own line) and nothing is half-written.
// Once space is freed, the same import adds exactly the mails that failed.
func TestCLIImportDiskFull(t *testing.T) {
	t.Parallel()
	mnt := mountTmpfs(t, 64<<20)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "postdesk.yaml")
	conf := fmt.Sprintf("store:\n  path: %s\nimport:\n  sender_cap: -1\nmailboxes:\n  - {id: 607, name: support}\n", filepath.Join(mnt, "postdesk.db"))
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	const n = 12
	md := filepath.Join(dir, "Maildir")
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := os.MkdirAll(filepath.Join(md, sub), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		raw := bigMail(fmt.Sprintf("cli-full-%d@faulttest.example", i), 1<<20)
		if err := os.WriteFile(filepath.Join(md, "cur", fmt.Sprintf("%d.host:2,S", 1700000000+i)), raw, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	runCLI(t, nil, "user", "list", "--config", cfg) // creates the store
	// Leave some 6 MiB: room for a few of the mails, not for the chunk.
	filler := filepath.Join(mnt, "filler")
	fill(t, filler)
	fi, err := os.Stat(filler)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(filler, max(fi.Size()-6<<20, 0)); err != nil {
		t.Fatal(err)
	}

	type summary struct{ created, appended, dups, ignored, quarantined, failed int }
	importOnce := func() (summary, int, string) {
		cmd := exec.Command(postdesk.get(t), "import", "-q", "--config", cfg, "--mailbox", "607", md)
		cmd.Env = cleanEnv()
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		code := 0
		if err := cmd.Run(); err != nil {
			var ee *exec.ExitError
			if !errors.As(err, &ee) {
				t.Fatalf("postdesk import: %v", err)
			}
			code = ee.ExitCode()
		}
		var s summary
		var total, mailbox int
		if _, err := fmt.Sscanf(out.String(), "imported %d mails into mailbox %d: %d created, %d appended, %d duplicates, %d ignored, %d quarantined, %d failed",
			&total, &mailbox, &s.created, &s.appended, &s.dups, &s.ignored, &s.quarantined, &s.failed); err != nil || total != n {
			t.Fatalf("postdesk import: exit %d, summary %q (%v)\n%s", code, out.String(), err, tail(errOut.String(), 2000))
		}
		return s, code, errOut.String()
	}

	first, code, stderr := importOnce()
	t.Logf("on a nearly full disk: %+v, exit %d", first, code)
	if first.failed == 0 || code == 0 {
		t.Fatalf("on a nearly full disk: %+v, exit %d; want failures and a non-zero exit\n%s", first, code, tail(stderr, 2000))
	}
	if got := first.created + first.failed; got != n || first.appended+first.dups+first.ignored+first.quarantined != 0 {
		t.Fatalf("on a nearly full disk: %+v: %d of %d mails accounted for", first, got, n)
	}
	if lines := strings.Count(stderr, filepath.Join(md, "cur")); lines != first.failed {
		t.Errorf("%d failure lines for %d failed mails:\n%s", lines, first.failed, tail(stderr, 2000))
	}
	tickets, _ := listTickets(t, cfg)
	if len(tickets) != first.created {
		t.Errorf("%d tickets stored, the import said %d created", len(tickets), first.created)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	second, code, stderr := importOnce()
	if code != 0 || second.created != first.failed || second.dups != first.created || second.failed != 0 {
		t.Fatalf("after the disk was freed: %+v, exit %d; want %d created, %d duplicates\n%s", second, code, first.failed, first.created, tail(stderr, 2000))
	}
	tickets, ids := listTickets(t, cfg)
	if len(tickets) != n || len(ids) != n {
		t.Errorf("after both imports: %d tickets, %d Message-IDs; want %d each", len(tickets), len(ids), n)
	}
}
