package faulttest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/postdesk/postdesk/imap/imaptest"
)

// TestNoSecretInLogs runs the real binary at debug level with IMAP
// passwords (a right and a wrong one), app tokens, a Bearer token and a
// user password, exercises every path that handles them (IMAP login and
// its failure, API calls with good and bad credentials, a reload), and
// greps the complete log output for each secret.
func TestNoSecretInLogs(t *testing.T) {
	t.Parallel()
	srv := imaptest.StartMemServer(t, nil)
	const imapPass = "imap-Secret-8f2c41"
	const wrongImapPass = "wrong-imap-Secret-77ad"
	const appToken = "app-Token-51c9e0d2"
	const userPass = "user-Pass-3b8e11"
	srv.AddUser("u1", imapPass)
	srv.AddUser("u2", "other")
	if err := srv.Append("u1", "INBOX", testMail("secret-1@faulttest.example", "hello", "ann@acme.example")); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "imap.pw")
	if err := os.WriteFile(pwFile, []byte(imapPass+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	listen := freeAddr(t)
	cfg := filepath.Join(dir, "postdesk.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`http: {listen: %s}
store: {path: %s}
log: {level: debug}
api: {app_tokens: [%s]}
mailboxes:
  - {id: 607, name: support, imap: {host: %s, port: %d, tls: none, username: u1, password_file: %s, poll_interval: 1s}}
  - {id: 608, name: sales, imap: {host: %s, port: %d, tls: none, username: u2, password: %s, poll_interval: 1s}}
`, listen, filepath.Join(dir, "postdesk.db"), appToken, srv.Host, srv.Port, pwFile, srv.Host, srv.Port, wrongImapPass)), 0o600); err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	cliOut := runCLI(t, []byte(userPass+"\n"), "user", "add", "admin", "--role", "admin", "--password-stdin", "--config", cfg)
	tokOut := strings.TrimSpace(runCLI(t, nil, "token", "create", "mta", "--kind", "bearer", "--config", cfg))
	bearer := tokOut[strings.LastIndex(tokOut, "\n")+1:]
	logs.Write([]byte(cliOut))

	p := startServe(t, cfg, listen, logs)
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("admin:"+userPass))
	badBasic := "Basic " + base64.StdEncoding.EncodeToString([]byte("admin:"+userPass+"-typo"))
	body, _ := json.Marshal(map[string]any{"MailboxId": 607, "Data": string(testMail("secret-2@faulttest.example", "via api", "bob@acme.example"))})
	for _, c := range []struct {
		auth, app string
		want      int
	}{
		{basic, appToken, 200}, {"Bearer " + bearer, appToken, 200}, {badBasic, appToken, 401},
		{"Bearer " + bearer + "x", appToken, 401}, {basic, appToken + "-bad", 401}, {basic, "", 401},
	} {
		req, _ := http.NewRequest("POST", p.base+createPath, strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", c.auth)
		if c.app != "" {
			req.Header.Set("SO-AppToken", c.app)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want && !(c.want == 401 && resp.StatusCode == 429) {
			t.Errorf("auth %q app %q: %d, want %d", c.auth[:10], c.app, resp.StatusCode, c.want)
		}
	}
	waitUntil(t, 20*time.Second, "the IMAP mail imported and the wrong password rejected", func() (bool, error) {
		m, err := scrape(p.base)
		if err != nil {
			return false, nil
		}
		return sumMetric(m, "postdesk_imports_total", "source", "imap") >= 1 &&
			sumMetric(m, "postdesk_imap_auth_failures_total", "mailbox", "608") >= 1, nil
	})
	_ = p.cmd.Process.Signal(syscall.SIGHUP)
	waitUntil(t, 10*time.Second, "the reload logged", func() (bool, error) {
		return strings.Contains(logs.String(), "reload"), nil
	})
	p.stop(t)
	out := logs.String()
	if !strings.Contains(out, "level=DEBUG") {
		t.Fatalf("no debug output: the test would prove nothing\n%s", tail(out, 2000))
	}
	secrets := map[string]string{
		"IMAP password": imapPass, "wrong IMAP password": wrongImapPass, "app token": appToken,
		"bearer token": bearer, "user password": userPass, "Basic credentials": strings.TrimPrefix(basic, "Basic "),
		"bad Basic credentials": strings.TrimPrefix(badBasic, "Basic "),
	}
	leaks := 0
	for what, s := range secrets {
		if strings.Contains(out, s) {
			leaks++
			t.Errorf("the %s appears in the log", what)
		}
	}
	t.Logf("grepped %d bytes of log for %d secrets", len(out), len(secrets))
	record(t, "security: secrets grepped in a debug log", len(secrets), len(secrets)-leaks, 0, 0)
}

// TestBruteForceThrottled fails authentication from one address until the
// daemon throttles it: then even the right credentials are refused (429)
// until the block expires.
func TestBruteForceThrottled(t *testing.T) {
	t.Parallel()
	td := startDaemon(t, daemonConfig{})
	body := func(i int) string {
		b, _ := json.Marshal(map[string]any{"MailboxId": 607, "Data": fmt.Sprintf(okMail, 1000+i)})
		return string(b)
	}
	throttledAt := 0
	for i := range 20 {
		code, _ := td.do("POST", createPath, "application/json", strings.NewReader(body(i)), map[string]string{"Authorization": "Bearer guess-" + fmt.Sprint(i)})
		if code == 429 {
			throttledAt = i + 1
			break
		}
		if code != 401 {
			t.Fatalf("attempt %d with a wrong token: %d, want 401 or 429", i+1, code)
		}
	}
	if throttledAt == 0 {
		t.Fatal("20 wrong tokens in a row were never throttled")
	}
	t.Logf("throttled after %d failures", throttledAt-1)
	if code, _ := td.do("POST", createPath, "application/json", strings.NewReader(body(99)), nil); code != 429 {
		t.Errorf("the right token while throttled: %d, want 429", code)
	}
	if v := td.metric("postdesk_api_auth_failures_total"); v < float64(throttledAt-1) {
		t.Errorf("postdesk_api_auth_failures_total = %v, want ≥ %d", v, throttledAt-1)
	}
	waitUntil(t, 20*time.Second, "the block to expire", func() (bool, error) {
		code, _ := td.do("POST", createPath, "application/json", strings.NewReader(body(100)), nil)
		return code == 200, nil
	})
	record(t, fmt.Sprintf("security: brute force throttled after %d failures", throttledAt-1), 1, 1, 0, 0)
}

// TestHTMLSanitizedOnTicketPage imports HTML with scripts, event handlers
// and remote resources and checks none survives on the ticket page.
func TestHTMLSanitizedOnTicketPage(t *testing.T) {
	t.Parallel()
	td := startDaemon(t, daemonConfig{})
	payloads := []string{
		`<script>alert("s1")</script>`,
		`<img src="x" onerror="alert('s2')">`,
		`<body onload="alert('s3')">`,
		`<a href="javascript:alert('s4')">click</a>`,
		`<iframe src="https://evil.example/frame"></iframe>`,
		`<img src="https://evil.example/track.gif">`,
		`<link rel="stylesheet" href="https://evil.example/x.css">`,
		`<div style="background:url(https://evil.example/bg.png)">bg</div>`,
		`<svg><script>alert('s9')</script></svg>`,
		`<object data="https://evil.example/x.swf"></object>`,
		`<form action="https://evil.example/phish"><input name=p></form>`,
		`<meta http-equiv="refresh" content="0;url=https://evil.example/">`,
		`<a href="https://example.com/ok" onclick="alert('s13')">ok</a>`,
	}
	html := "<html><head><style>@import url(https://evil.example/i.css);</style></head><body><p>Printer broken</p>" + strings.Join(payloads, "\n") + "</body></html>"
	raw := "From: ann@acme.example\r\nSubject: html payloads\r\nMessage-ID: <html-1@faulttest.example>\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: text/html; charset=utf-8\r\n\r\n" + html + "\r\n"
	code, body := td.postMail(607, []byte(raw))
	if code != 200 {
		t.Fatalf("import: %d %s", code, body)
	}
	var info struct {
		TicketId  int64
		TicketUrl string
	}
	if err := json.Unmarshal(body, &info); err != nil {
		t.Fatal(err)
	}
	code, page := td.do("GET", fmt.Sprintf("/ticket/%d", info.TicketId), "", nil, nil)
	if code != 200 || !strings.Contains(string(page), "Printer broken") {
		t.Fatalf("ticket page: %d %.300s", code, page)
	}
	lower := strings.ToLower(string(page))
	// The page shows the sanitized HTML in its own sandboxed srcdoc
	// iframe (escaped, so the words below would still show through).
	if n := strings.Count(lower, "<iframe"); n != 1 || !strings.Contains(lower, "<iframe sandbox=") {
		t.Errorf("the page has %d iframes; want exactly its own sandboxed one", n)
	}
	bad := []string{"<script", "onerror", "onload", "onclick", "javascript:", "evil.example", "iframe src", "<object", "<form", "http-equiv", "alert("}
	found := 0
	for _, b := range bad {
		if strings.Contains(lower, b) {
			found++
			i := strings.Index(lower, b)
			t.Errorf("ticket page contains %q: …%s…", b, lower[max(0, i-80):min(len(lower), i+80)])
		}
	}
	record(t, "security: HTML payloads on the ticket page", len(payloads)+1, len(payloads)+1-found, 0, 0)
}
