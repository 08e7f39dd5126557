package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The end-to-end tests build the real binary once and drive it like an
// operator would: CLI, config file, HTTP.

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func postdeskBin(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test: skipped in -short mode")
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "postdesk-e2e-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "postdesk")
		args := []string{"build", "-ldflags", "-X main.version=e2e-test"}
		if raceEnabled {
			args = append(args, "-race")
		}
		out, err := exec.Command("go", append(args, "-o", binPath, ".")...).CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

type result struct {
	code           int
	stdout, stderr string
}

// pd runs the binary to completion.
func pd(t *testing.T, stdin []byte, args ...string) result {
	t.Helper()
	return pdEnv(t, nil, stdin, args...)
}

// pdEnv runs the binary with extra environment variables.
func pdEnv(t *testing.T, env []string, stdin []byte, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, postdeskBin(t), args...)
	cmd.Env = append(cleanEnv(), env...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run postdesk %v: %v", args, err)
	}
	return result{code, out.String(), errOut.String()}
}

// cleanEnv keeps POSTDESK_* settings of the developer's shell out.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "POSTDESK_") && !strings.HasPrefix(kv, "NOTIFY_SOCKET=") {
			env = append(env, kv)
		}
	}
	return env
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// writeConfig writes a configuration with mailbox 607 and returns its path.
func writeConfig(t *testing.T, dir, listen, extra string) string {
	t.Helper()
	cfg := fmt.Sprintf(`http:
  listen: %s
store:
  path: %s
mailboxes:
  - id: 607
    name: support
    address: support@example.com
    category: Technical Support
    priority: Medium
    owner: Sarah Johnson
%s`, listen, filepath.Join(dir, "postdesk.db"), extra)
	path := filepath.Join(dir, "postdesk.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// daemonProc is a running "postdesk serve".
type daemonProc struct {
	cmd  *exec.Cmd
	base string
	logs *syncBuffer
	done chan error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startServe(t *testing.T, configPath, listen string) *daemonProc {
	t.Helper()
	cmd := exec.Command(postdeskBin(t), "serve", "--config", configPath)
	cmd.Env = cleanEnv()
	p := &daemonProc{cmd: cmd, base: "http://" + listen, logs: &syncBuffer{}, done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = p.logs, p.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("daemon log:\n%s", p.logs.String())
		}
	})
	waitHealthy(t, p.base, p.done, p.logs)
	return p
}

// stop sends SIGTERM and waits for a clean exit.
func (p *daemonProc) stop(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		p.done <- err
		if err != nil {
			t.Fatalf("daemon exit after SIGTERM: %v\n%s", err, p.logs.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("daemon did not stop within 30s of SIGTERM")
	}
}

const sampleMail = "From: Ann Customer <ann@acme.example>\r\nTo: support@example.com\r\n" +
	"Subject: Printer on fire\r\nDate: Thu, 26 Nov 2026 10:00:00 +0000\r\nMessage-ID: <e2e-1@acme.example>\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n\r\nThe printer on floor 3 is on fire.\r\n"

func do(t *testing.T, method, url, ctype string, body []byte, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func basic(user, pw string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pw))
}

// createToken runs "postdesk token create NAME ARGS..." and returns the
// secret, which it prints last.
func createToken(t *testing.T, name string, args ...string) string {
	t.Helper()
	tok := pd(t, nil, append([]string{"token", "create", name}, args...)...)
	if tok.code != 0 {
		t.Fatalf("token create: %d %s", tok.code, tok.stderr)
	}
	lines := strings.Split(strings.TrimSpace(tok.stdout), "\n")
	return lines[len(lines)-1]
}

func TestE2EServeCreateTicketFromMailData(t *testing.T) {
	dir := t.TempDir()
	listen := freePort(t)
	cfg := writeConfig(t, dir, listen, "")
	if r := pd(t, []byte("s3cret-pass\n"), "user", "add", "admin", "--role", "admin", "--password-stdin", "--config", cfg); r.code != 0 {
		t.Fatalf("user add: %d %s", r.code, r.stderr)
	}
	secret := createToken(t, "mta", "--kind", "bearer", "--expires", "90d", "--config", cfg)

	p := startServe(t, cfg, listen)
	url := p.base + "/api/v1/Agents/CustomerService/CreateTicketFromMailData"

	// The request of SuperOffice's reference page, with a real mail as Data.
	body, _ := json.Marshal(map[string]any{"MailboxId": 607, "Data": sampleMail, "PersonId": 0})
	resp, b := do(t, "POST", url, "application/json", body, "Authorization", basic("admin", "s3cret-pass"))
	if resp.StatusCode != 200 {
		t.Fatalf("POST: %d %s", resp.StatusCode, b)
	}
	var info map[string]any
	if err := json.Unmarshal(b, &info); err != nil {
		t.Fatalf("response %s: %v", b, err)
	}
	for k, want := range map[string]any{"Title": "Printer on fire", "CategoryName": "Technical Support", "PriorityName": "Medium", "OwnerName": "Sarah Johnson", "PersonName": "Ann Customer"} {
		if info[k] != want {
			t.Errorf("%s = %v, want %v (%s)", k, info[k], want, b)
		}
	}
	for _, k := range []string{"TicketId", "TicketUrl", "ContactName", "TableRight", "FieldProperties"} {
		if _, ok := info[k]; !ok {
			t.Errorf("field %s missing: %s", k, b)
		}
	}
	id := int64(info["TicketId"].(float64))

	// TicketUrl leads to a real page behind the same authentication.
	ticketURL, _ := info["TicketUrl"].(string)
	if !strings.HasSuffix(ticketURL, fmt.Sprintf("/ticket/%d", id)) {
		t.Fatalf("TicketUrl %q", ticketURL)
	}
	if resp, _ := do(t, "GET", ticketURL, "", nil); resp.StatusCode != 401 {
		t.Errorf("ticket page without credentials: %d", resp.StatusCode)
	}
	resp, b = do(t, "GET", ticketURL, "", nil, "Authorization", basic("admin", "s3cret-pass"))
	if resp.StatusCode != 200 || !bytes.Contains(b, []byte("Printer on fire")) {
		t.Errorf("ticket page: %d %.200s", resp.StatusCode, b)
	}

	// curl --data-binary @mail.eml with a Bearer token; a resend is a duplicate.
	resp, b = do(t, "POST", url+"?MailboxId=607", "message/rfc822", []byte(sampleMail), "Authorization", "Bearer "+secret)
	if resp.StatusCode != 200 || !bytes.Contains(b, []byte(fmt.Sprintf(`"TicketId":%d`, id))) {
		t.Fatalf("message/rfc822 resend: %d %s", resp.StatusCode, b)
	}
	// Not mail: 400, no ticket.
	body, _ = json.Marshal(map[string]any{"mailboxId": 607, "data": "autem"})
	if resp, b := do(t, "POST", url, "application/json", body, "Authorization", basic("admin", "s3cret-pass")); resp.StatusCode != 400 {
		t.Fatalf("autem: %d %s", resp.StatusCode, b)
	}

	// deliver: the MTA pipe's exit codes.
	tokFile := filepath.Join(dir, "deliver.token")
	os.WriteFile(tokFile, []byte(secret+"\n"), 0o600)
	second := strings.Replace(sampleMail, "e2e-1@", "e2e-2@", 1)
	if r := pd(t, []byte(second), "deliver", "--mailbox", "607", "--token-file", tokFile, "--url", p.base); r.code != 0 {
		t.Fatalf("deliver: %d %s %s", r.code, r.stdout, r.stderr)
	}
	if r := pd(t, []byte("autem"), "deliver", "--mailbox", "607", "--token-file", tokFile, "--url", p.base); r.code != exitDataErr {
		t.Fatalf("deliver of non-mail: exit %d, want 65 (%s)", r.code, r.stderr)
	}
	os.WriteFile(filepath.Join(dir, "bad.token"), []byte("pdt_1_wrong\n"), 0o600)
	if r := pd(t, []byte(second), "deliver", "--mailbox", "607", "--token-file", filepath.Join(dir, "bad.token"), "--url", p.base); r.code != exitTempFail {
		t.Fatalf("deliver with a bad token: exit %d, want 75 (%s)", r.code, r.stderr)
	}

	// /metrics: the slow threshold is exported, names pass promtool.
	resp, metrics := do(t, "GET", p.base+"/metrics", "", nil)
	if resp.StatusCode != 200 || !bytes.Contains(metrics, []byte(`postdesk_api_slow_threshold_seconds{method="CreateTicketFromMailData"} 5`)) {
		t.Fatalf("metrics: %d\n%s", resp.StatusCode, metrics)
	}
	if promtool, err := exec.LookPath("promtool"); err == nil {
		cmd := exec.Command(promtool, "check", "metrics")
		cmd.Stdin = bytes.NewReader(metrics)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool check metrics: %v\n%s", err, out)
		}
	} else {
		t.Log("promtool not installed (Debian package prometheus): skipping promtool check metrics")
	}

	// Revocations by the CLI hold in the running daemon once the command
	// has returned, though the daemon has both credentials cached.
	// (The token has the import role: the ticket page is 403 to it, not 401.)
	for auth, want := range map[string]int{"Bearer " + secret: 403, basic("admin", "s3cret-pass"): 200} {
		if resp, b := do(t, "GET", ticketURL, "", nil, "Authorization", auth); resp.StatusCode != want {
			t.Fatalf("ticket page before the revocation: %d, want %d: %.200s", resp.StatusCode, want, b)
		}
	}
	if r := pd(t, nil, "token", "revoke", "mta", "--config", cfg); r.code != 0 {
		t.Fatalf("token revoke: %d %s", r.code, r.stderr)
	}
	if resp, _ := do(t, "GET", ticketURL, "", nil, "Authorization", "Bearer "+secret); resp.StatusCode != 401 {
		t.Errorf("revoked token, right after token revoke returned: %d, want 401", resp.StatusCode)
	}
	if r := pd(t, nil, "user", "remove", "admin", "--config", cfg); r.code != 0 {
		t.Fatalf("user remove: %d %s", r.code, r.stderr)
	}
	if resp, _ := do(t, "GET", ticketURL, "", nil, "Authorization", basic("admin", "s3cret-pass")); resp.StatusCode != 401 {
		t.Errorf("removed user, right after user remove returned: %d, want 401", resp.StatusCode)
	}

	p.stop(t)
	// The daemon is down: deliver must ask the MTA to retry, not bounce.
	if r := pd(t, []byte(second), "deliver", "--mailbox", "607", "--token-file", tokFile, "--url", p.base); r.code != exitTempFail {
		t.Fatalf("deliver with the daemon down: exit %d, want 75", r.code)
	}
	// The store holds exactly the two tickets, each with its Message-ID.
	r := pd(t, nil, "tickets", "list", "--json", "--config", cfg)
	if got := strings.Count(r.stdout, "\n"); got != 2 || !strings.Contains(r.stdout, "e2e-1@acme.example") || !strings.Contains(r.stdout, "e2e-2@acme.example") {
		t.Fatalf("tickets list: %s", r.stdout)
	}
	// No secret reaches the logs.
	for _, s := range []string{"s3cret-pass", secret} {
		if strings.Contains(p.logs.String(), s) {
			t.Fatalf("a secret is in the daemon log")
		}
	}
}

func TestE2EImportCorpusTwice(t *testing.T) {
	files, _ := filepath.Glob("../../../shared/corpora/zammad/*.box")
	if len(files) == 0 {
		t.Skip("../shared/corpora/zammad is absent: skipping the corpus import")
	}
	dir := t.TempDir()
	cfg := writeConfig(t, dir, freePort(t), "")
	r := pd(t, nil, append([]string{"import", "--config", cfg, "--mailbox", "607"}, files...)...)
	if r.code != 0 || !strings.Contains(r.stdout, "imported 106 mails") || !strings.Contains(r.stdout, "0 failed") {
		t.Fatalf("first import: %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	first := pd(t, nil, "tickets", "list", "--json", "--config", cfg)
	r = pd(t, nil, append([]string{"import", "--config", cfg, "--mailbox", "607"}, files...)...)
	if r.code != 0 || !strings.Contains(r.stdout, "0 created, 0 appended, 106 duplicates") {
		t.Fatalf("second import must add nothing: %s", r.stdout)
	}
	if again := pd(t, nil, "tickets", "list", "--json", "--config", cfg); again.stdout != first.stdout {
		t.Fatal("the second import changed the tickets")
	}
	sc := bufio.NewScanner(strings.NewReader(first.stdout))
	n := 0
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		for _, k := range []string{"TicketId", "Title", "MailboxId", "Status", "MessageCount", "MessageIds"} {
			if _, ok := line[k]; !ok {
				t.Fatalf("line %q lacks %s", sc.Text(), k)
			}
		}
		if len(line) != 6 {
			t.Fatalf("line %q has extra keys", sc.Text())
		}
		n++
	}
	if n == 0 {
		t.Fatal("no tickets")
	}
}

func TestE2EImportMboxAndMaildir(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, freePort(t), "")
	var mbox strings.Builder
	for i := range 3 {
		fmt.Fprintf(&mbox, "From ann@acme.example Thu Nov 26 10:00:0%d 2026\n", i)
		fmt.Fprintf(&mbox, "From: ann@acme.example\nSubject: mbox %d\nMessage-ID: <mbox-%d@x>\n\n>From the start\n\n", i, i)
	}
	os.WriteFile(filepath.Join(dir, "old.mbox"), []byte(mbox.String()), 0o600)
	md := filepath.Join(dir, "Maildir")
	for _, sub := range []string{"cur", "new", "tmp"} {
		os.MkdirAll(filepath.Join(md, sub), 0o700)
	}
	os.WriteFile(filepath.Join(md, "cur", "1.host:2,S"), []byte("From: b@acme.example\nSubject: maildir\nMessage-ID: <md-1@x>\n\nhi\n"), 0o600)
	os.WriteFile(filepath.Join(md, "new", "2.host"), []byte("From: b@acme.example\nSubject: maildir 2\nMessage-ID: <md-2@x>\n\nhi\n"), 0o600)
	r := pd(t, []byte("From: c@acme.example\nSubject: stdin\n\nhi\n"), "import", "--config", cfg, "--mailbox", "607", filepath.Join(dir, "old.mbox"), md, "-")
	if r.code != 0 || !strings.Contains(r.stdout, "imported 6 mails into mailbox 607: 6 created") {
		t.Fatalf("import: %d %s %s", r.code, r.stdout, r.stderr)
	}
	show := pd(t, nil, "tickets", "show", "1", "--config", cfg)
	if !strings.Contains(show.stdout, "From the start") || strings.Contains(show.stdout, ">From") {
		t.Fatalf("mboxrd unescaping: %s", show.stdout)
	}
}

// TestE2EImportKeepsOrderAcrossChunks imports threads whose replies follow
// their parents, across the chunks the import hands the core (200 mails):
// every reply finds the ticket of the mail before it.
func TestE2EImportKeepsOrderAcrossChunks(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, freePort(t), "")
	var mbox strings.Builder
	const n = 2*importChunkMails + 50
	for i := range n {
		fmt.Fprintf(&mbox, "From t%d@acme.example Thu Nov 26 10:00:00 2026\n", i/3)
		fmt.Fprintf(&mbox, "From: t%d@acme.example\nSubject: thread %d\nMessage-ID: <chunk-%d@x>\n", i/3, i/3, i)
		if i%3 != 0 {
			fmt.Fprintf(&mbox, "In-Reply-To: <chunk-%d@x>\n", i-1)
		}
		fmt.Fprintf(&mbox, "\nmail %d\n\n", i)
	}
	os.WriteFile(filepath.Join(dir, "threads.mbox"), []byte(mbox.String()), 0o600)
	r := pd(t, nil, "import", "--config", cfg, "--mailbox", "607", filepath.Join(dir, "threads.mbox"))
	want := fmt.Sprintf("imported %d mails into mailbox 607: %d created, %d appended, 0 duplicates", n, (n+2)/3, n-(n+2)/3)
	if r.code != 0 || !strings.Contains(r.stdout, want) {
		t.Fatalf("import: exit %d\n%s\nwant %q\n%s", r.code, r.stdout, want, r.stderr)
	}
}

// TestE2EImportNoSenderCap imports an archive with one regular
// correspondent: the sender cap (50 new tickets an hour) quarantines the
// rest of the sender's mail; the same import with --no-sender-cap stores
// it, and the quarantine items leave as their mails are stored.
func TestE2EImportNoSenderCap(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, freePort(t), "")
	var mbox strings.Builder
	const n = 60
	for i := range n {
		fmt.Fprintf(&mbox, "From ann@acme.example Thu Nov 26 10:00:00 2026\nFrom: ann@acme.example\nSubject: order %d\nMessage-ID: <cap-%d@x>\n\nmail %d\n\n", i, i, i)
	}
	archive := filepath.Join(dir, "archive.mbox")
	os.WriteFile(archive, []byte(mbox.String()), 0o600)
	r := pd(t, nil, "import", "-q", "--config", cfg, "--mailbox", "607", archive)
	if want := "imported 60 mails into mailbox 607: 50 created, 0 appended, 0 duplicates, 0 ignored, 10 quarantined, 0 failed\n"; r.code != 0 || r.stdout != want {
		t.Fatalf("import with the cap: exit %d, %q, want %q\n%s", r.code, r.stdout, want, r.stderr)
	}
	if r := pd(t, nil, "quarantine", "list", "--config", cfg); strings.Count(r.stdout, "sender over its cap") != 10 {
		t.Fatalf("quarantine list: %s", r.stdout)
	}
	r = pd(t, nil, "import", "-q", "--no-sender-cap", "--config", cfg, "--mailbox", "607", archive)
	if want := "imported 60 mails into mailbox 607: 10 created, 0 appended, 50 duplicates, 0 ignored, 0 quarantined, 0 failed\n"; r.code != 0 || r.stdout != want {
		t.Fatalf("import --no-sender-cap: exit %d, %q, want %q\n%s", r.code, r.stdout, want, r.stderr)
	}
	if r := pd(t, nil, "quarantine", "list", "--config", cfg); r.code != 0 || !strings.Contains(r.stdout, "The quarantine is empty.") {
		t.Fatalf("quarantine list after the second import: exit %d\n%s", r.code, r.stdout)
	}
}

// TestE2EQuarantineGaugeSeesTheCLI: the operator deals with the quarantine
// through the CLI while the daemon runs; the daemon's
// postdesk_quarantine_messages, which the alerts read, follows at the next
// scrape.
func TestE2EQuarantineGaugeSeesTheCLI(t *testing.T) {
	dir := t.TempDir()
	listen := freePort(t)
	cfg := writeConfig(t, dir, listen, "import:\n  sender_cap: 1\n")
	secret := createToken(t, "mta", "--kind", "bearer", "--role", "import", "--config", cfg)
	p := startServe(t, cfg, listen)
	url := p.base + "/api/v1/Agents/CustomerService/CreateTicketFromMailData?MailboxId=607"
	gauge := func() string {
		t.Helper()
		resp, b := do(t, "GET", p.base+"/metrics", "", nil)
		if resp.StatusCode != 200 {
			t.Fatalf("/metrics: %d", resp.StatusCode)
		}
		for line := range strings.Lines(string(b)) {
			if v, ok := strings.CutPrefix(line, "postdesk_quarantine_messages "); ok {
				return strings.TrimSpace(v)
			}
		}
		t.Fatalf("no postdesk_quarantine_messages in /metrics")
		return ""
	}
	for i, want := range []int{200, 429, 429} {
		mail := fmt.Sprintf("From: ann@acme.example\r\nSubject: s%d\r\nMessage-ID: <gauge-%d@x>\r\n\r\nhi\r\n", i, i)
		if resp, b := do(t, "POST", url, "message/rfc822", []byte(mail), "Authorization", "Bearer "+secret); resp.StatusCode != want {
			t.Fatalf("mail %d: %d, want %d: %s", i, resp.StatusCode, want, b)
		}
	}
	if g := gauge(); g != "2" {
		t.Fatalf("postdesk_quarantine_messages %s after two mails over the cap, want 2", g)
	}
	if r := pd(t, nil, "quarantine", "drop", "1", "--config", cfg); r.code != 0 {
		t.Fatalf("quarantine drop: %d %s", r.code, r.stderr)
	}
	if g := gauge(); g != "1" {
		t.Fatalf("postdesk_quarantine_messages %s after postdesk quarantine drop, want 1", g)
	}
	if r := pd(t, nil, "quarantine", "retry", "2", "--config", cfg); r.code != 0 {
		t.Fatalf("quarantine retry: %d %s", r.code, r.stderr)
	}
	if g := gauge(); g != "0" {
		t.Fatalf("postdesk_quarantine_messages %s after postdesk quarantine retry, want 0", g)
	}
}

// TestE2ERawMessageKept gets an imported mail back byte for byte with
// "tickets raw", its attachment's base64 rebuilt from the stored blob.
func TestE2ERawMessageKept(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, freePort(t), "")
	data := make([]byte, 4000)
	for i := range data {
		data[i] = byte(i * 13)
	}
	enc := base64.StdEncoding.EncodeToString(data)
	var b strings.Builder
	b.WriteString("From: ann@acme.example\nSubject: with a file\nMessage-ID: <raw-1@x>\nMIME-Version: 1.0\n" +
		"Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nsee file\n--b\n" +
		"Content-Type: application/octet-stream; name=f.bin\nContent-Transfer-Encoding: base64\n\n")
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\n--b--\n")
	mail := []byte(b.String())
	os.WriteFile(filepath.Join(dir, "m.eml"), mail, 0o600)
	if r := pd(t, nil, "import", "--config", cfg, "--mailbox", "607", filepath.Join(dir, "m.eml")); r.code != 0 || !strings.Contains(r.stdout, "1 created") {
		t.Fatalf("import: %d %s %s", r.code, r.stdout, r.stderr)
	}
	if r := pd(t, nil, "tickets", "raw", "1", "--config", cfg); r.code != 0 || r.stdout != string(mail) {
		t.Fatalf("tickets raw 1: exit %d, %d bytes, want the %d imported (%s)", r.code, len(r.stdout), len(mail), r.stderr)
	}
	if r := pd(t, nil, "tickets", "raw", "2", "--config", cfg); r.code == 0 || !strings.Contains(r.stderr, "not found") {
		t.Fatalf("tickets raw of a missing message: exit %d, %s", r.code, r.stderr)
	}
	for _, cmd := range []string{"show", "raw"} {
		for _, bad := range []string{"0", "x1", "#", "99999999999999999999"} {
			if r := pd(t, nil, "tickets", cmd, bad, "--config", cfg); r.code != 2 || !strings.Contains(r.stderr, "is not an id") {
				t.Errorf("tickets %s %s: exit %d, %s", cmd, bad, r.code, r.stderr)
			}
		}
	}
}

func TestE2EConfigErrorsExit2(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bad.yaml")
	os.WriteFile(path, []byte("http:\n  listne: 127.0.0.1:1\n"), 0o600)
	r := pd(t, nil, "check-config", "--config", path)
	if r.code != 2 || !strings.Contains(r.stderr, "listne") {
		t.Fatalf("unknown key: exit %d, %s", r.code, r.stderr)
	}
	r = pd(t, nil, "serve", "--config", path)
	if r.code != 2 {
		t.Fatalf("serve with a bad config: exit %d", r.code)
	}
	if r := pd(t, nil, "frobnicate"); r.code != 2 {
		t.Fatalf("unknown command: exit %d", r.code)
	}
	// The example's secret files come from systemd's credentials directory.
	creds := t.TempDir()
	for _, f := range []string{"app-tokens", "imap.pw", "m365-client-secret", "m365-refresh-token"} {
		os.WriteFile(filepath.Join(creds, f), []byte("not-a-real-secret\n"), 0o600)
	}
	if r := pdEnv(t, []string{"CREDENTIALS_DIRECTORY=" + creds}, nil, "check-config", "--config", "../../configs/postdesk.yaml"); r.code != 0 {
		t.Fatalf("the example configuration: exit %d %s", r.code, r.stderr)
	}
	show := pdEnv(t, []string{"CREDENTIALS_DIRECTORY=" + creds}, nil, "check-config", "--show", "--config", "../../configs/postdesk.yaml")
	if show.code != 0 || strings.Contains(show.stdout, "not-a-real-secret") || !strings.Contains(show.stdout, "password: '***'") || !strings.Contains(show.stdout, "slow_threshold: 5s") {
		t.Fatalf("check-config --show must print file key names with secrets redacted:\n%s", show.stdout)
	}
	if r := pd(t, nil, "version"); r.code != 0 || !strings.Contains(r.stdout, "postdesk e2e-test") {
		t.Fatalf("version: %d %s", r.code, r.stdout)
	}
}

func TestE2EQuarantineRetry(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, freePort(t), "    rules:\n      - {name: hold, header: Subject, match: '^HOLD', action: quarantine}\n")
	os.WriteFile(filepath.Join(dir, "m.eml"), []byte("From: a@acme.example\nSubject: HOLD me\nMessage-ID: <q1@x>\n\nhi\n"), 0o600)
	r := pd(t, nil, "import", "--config", cfg, "--mailbox", "607", filepath.Join(dir, "m.eml"))
	if r.code != 0 || !strings.Contains(r.stdout, "1 quarantined") {
		t.Fatalf("import: %s %s", r.stdout, r.stderr)
	}
	l := pd(t, nil, "quarantine", "list", "--config", cfg)
	if !strings.Contains(l.stdout, `quarantined by rule "hold"`) {
		t.Fatalf("list: %s", l.stdout)
	}
	if s := pd(t, nil, "quarantine", "show", "--raw", "1", "--config", cfg); !strings.Contains(s.stdout, "Subject: HOLD me") {
		t.Fatalf("show --raw: %s", s.stdout)
	}
	// The fix: drop the rule, then retry imports the mail once.
	writeConfig(t, dir, freePort(t), "")
	if r := pd(t, nil, "quarantine", "retry", "1", "--config", cfg); r.code != 0 || !strings.Contains(r.stdout, "created, ticket 1") {
		t.Fatalf("retry: %d %s %s", r.code, r.stdout, r.stderr)
	}
	if r := pd(t, nil, "quarantine", "retry", "1", "--config", cfg); r.code == 0 {
		t.Fatalf("second retry must fail: %s", r.stdout)
	}
	if l := pd(t, nil, "quarantine", "list", "--config", cfg); !strings.Contains(l.stdout, "empty") {
		t.Fatalf("list after retry: %s", l.stdout)
	}
}

func TestE2EDemo(t *testing.T) {
	r := pd(t, nil, "demo", "--once", "--listen", freePort(t))
	if r.code != 0 || !strings.Contains(r.stdout, "all 5 sample mails imported") || !strings.Contains(r.stdout, "(2 messages") {
		t.Fatalf("demo: %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}

func TestE2EServeOnEmbeddedDefaults(t *testing.T) {
	dir := t.TempDir()
	listen := freePort(t)
	cmd := exec.Command(postdeskBin(t), "serve")
	cmd.Dir = dir
	cmd.Env = append(cleanEnv(), "POSTDESK_HTTP_LISTEN="+listen)
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		if err := <-done; err != nil {
			t.Errorf("exit: %v\n%s", err, logs.String())
		}
	}()
	waitHealthy(t, "http://"+listen, done, logs)
	if _, err := os.Stat(filepath.Join(dir, "postdesk.db")); err != nil {
		t.Fatalf("no postdesk.db in the working directory: %v", err)
	}
	// Mailbox 1 exists: an unauthenticated import is refused with 401, not 404.
	resp, _ := do(t, "POST", "http://"+listen+"/api/v1/Agents/CustomerService/CreateTicketFromMailData?MailboxId=1", "message/rfc822", []byte(sampleMail))
	if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") == "" {
		t.Fatalf("unauthenticated import: %d %v", resp.StatusCode, resp.Header)
	}
}

func waitHealthy(t *testing.T, base string, done chan error, logs *syncBuffer) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if resp, err := http.Get(base + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		select {
		case err := <-done:
			done <- err
			t.Fatalf("daemon exited: %v\n%s", err, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("not healthy after 30s\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
