package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/postdesk/postdesk/imap/imaptest"
)

// smokeMail is a synthetic corpus mail: plain, HTML or with an attachment.
func smokeMail(i int) string {
	head := fmt.Sprintf("From: Customer %d <c%d@customer.example>\r\nTo: support@bench.postdesk.invalid\r\n"+
		"Subject: Printer %d\r\nDate: Thu, 26 Nov 2026 10:00:00 +0000\r\nMessage-ID: <smoke-%d@customer.example>\r\nMIME-Version: 1.0\r\n", i, i, i, i)
	switch i % 3 {
	case 0:
		return head + "Content-Type: text/plain; charset=utf-8\r\n\r\nMy printer is on fire.\r\n"
	case 1:
		return head + "Content-Type: text/html; charset=utf-8\r\n\r\n<p onclick=\"x()\">My <b>printer</b> is on fire.</p><script>x()</script>\r\n"
	default:
		return head + "Content-Type: multipart/mixed; boundary=\"B\"\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nThe log is attached.\r\n" +
			"--B\r\nContent-Type: application/octet-stream; name=\"log.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\nAAECAwQFBgcICQ==\r\n--B--\r\n"
	}
}

// TestQuickRunSmoke runs the bench program on a small synthetic corpus
// against the real binary: every row it runs must be measured, not
// skipped (the IMAP rows only where Dovecot can run), and the profiles of
// the child daemon must arrive. It guards the bench's plumbing (the child's
// configuration, /metrics, /debug/pprof, Dovecot), not its figures.
func TestQuickRunSmoke(t *testing.T) {
	corpus, bin := smokeSetup(t)

	dovecot := true
	if _, err := os.Stat(imaptest.DovecotBinary); err != nil || os.Geteuid() != 0 {
		dovecot = false
		t.Logf("Dovecot not installed or not root: the IMAP rows must say skipped")
	}
	profiles := t.TempDir()
	httpProf, imapProf := filepath.Join(profiles, "http.prof"), filepath.Join(profiles, "imap.prof")
	out, stderr := mustRun(t, "--quick", "--only", "http,imap,idle,mixed", "--duration", "300ms", "--floor-mails", "200",
		"--imap-messages", "30", "--idle-deliveries", "2", "--corpus", corpus, "--bin", bin,
		"--http-cpuprofile", httpProf, "--imap-cpuprofile", imapProf)
	rows := 0
	for _, line := range tableRows(out) {
		rows++
		imapRow := strings.Contains(line, "IMAP") || strings.Contains(line, "IDLE")
		switch {
		case imapRow && !dovecot:
			if !strings.Contains(line, "skipped") && !strings.Contains(line, "in-process server") {
				t.Errorf("an IMAP row without Dovecot is not skipped:\n%s", line)
			}
		case strings.Contains(line, "skipped"):
			t.Errorf("row skipped:\n%s\nstderr:\n%s", line, stderr)
		case strings.Contains(line, "HTTP: CreateTicketFromMailData") && !strings.Contains(line, " 0 errors; server CPU "):
			t.Errorf("HTTP row with errors or without the server's CPU:\n%s", line)
		case strings.Contains(line, "idle_recheck") && !strings.Contains(line, " rechecks/s, daemon CPU "):
			t.Errorf("the idle_recheck row does not say what the rechecks cost:\n%s", line)
		}
	}
	// Floor, cold start, four HTTP steps, IMAP drain, three IDLE rows, mixed.
	if rows != 11 {
		t.Errorf("%d rows, want 11:\n%s", rows, out)
	}
	for _, p := range []string{httpProf, imapProf} {
		if p == imapProf && !dovecot {
			continue
		}
		if st, err := os.Stat(p); err != nil || st.Size() == 0 {
			t.Errorf("profile %s of postdesk serve missing or empty (%v)\nstderr:\n%s", filepath.Base(p), err, stderr)
		}
	}
}

// smokeSetup writes the synthetic corpus and builds the real binary, as
// the e2e tests build theirs (with -race under -race), so the compiled
// packages come from the build cache.
func smokeSetup(t *testing.T) (corpus, bin string) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs the bench program: skipped in -short mode")
	}
	corpus = t.TempDir()
	if err := os.MkdirAll(filepath.Join(corpus, "zammad"), 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range 6 {
		if err := os.WriteFile(filepath.Join(corpus, "zammad", fmt.Sprintf("m%d.box", i)), []byte(smokeMail(i)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bin = filepath.Join(t.TempDir(), "postdesk")
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	cmd := exec.Command("go", append(args, "../postdesk")...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return corpus, bin
}

// TestCompareSmoke runs --compare with the same binary on both sides:
// every step of both builds measured in every round, with no errors, and
// each figure a number.
func TestCompareSmoke(t *testing.T) {
	corpus, bin := smokeSetup(t)
	out, stderr := mustRun(t, "--compare", bin, "--bin", bin, "--rounds", "2", "--duration", "300ms", "--floor-mails", "200",
		"--corpus", corpus)
	rows := 0
	for _, line := range tableRows(out) {
		rows++
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		if len(cells) != 5 { // step, build, two rounds, median
			t.Errorf("%d cells, want 5: %s", len(cells), line)
			continue
		}
		for _, c := range cells[2:] {
			if _, err := strconv.ParseFloat(strings.TrimSuffix(c, "×"), 64); err != nil {
				t.Errorf("figure %q is not a number: %s", c, line)
			}
		}
	}
	// The floor; per step two rates, B/A, two CPU and two p99 rows; at 32
	// the two builds against the floor.
	if want := 1 + 3*7 + 2; rows != want {
		t.Errorf("%d rows, want %d", rows, want)
	}
	if !strings.Contains(out, "Errors: A 0, B 0.") {
		t.Errorf("errors in the steps:\n%s\nstderr:\n%s", out, stderr)
	}
}

// TestCompareFlags: --compare takes no --only, needs a round, and names a
// binary that is not there.
func TestCompareFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"--compare", "/bin/true", "--only", "http"}, 2, "--compare runs the HTTP load steps only"},
		{[]string{"--compare", "/bin/true", "--rounds", "0"}, 2, "--compare runs the HTTP load steps only"},
		{[]string{"--compare", "/nonexistent/postdesk"}, 2, "--compare: stat /nonexistent/postdesk: no such file or directory"},
		{[]string{"--compare", "."}, 2, "--compare: . is a directory"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(tc.args, &stdout, &stderr)
		if code != tc.code || !strings.Contains(stderr.String(), tc.msg) {
			t.Errorf("%q: exit %d, stderr %q; want exit %d with %q", tc.args, code, stderr.String(), tc.code, tc.msg)
		}
	}
}

// mustRun runs the bench program with args, failing the test unless it
// exits 0, and returns its output.
func mustRun(t *testing.T, args ...string) (stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run(args, &out, &errb); code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out.String(), errb.String())
	}
	t.Logf("bench output:\n%s", out.String())
	return out.String(), errb.String()
}

// tableRows returns the markdown table rows of out, without the header
// and separator rows.
func tableRows(out string) []string {
	var rows []string
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "| ") && !strings.HasPrefix(line, "| #") && !strings.HasPrefix(line, "| step") {
			rows = append(rows, line)
		}
	}
	return rows
}
