package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/postdesk/postdesk/daemon"
	"github.com/postdesk/postdesk/store"
)

const (
	bigTarget     = "peak RSS < 150 MiB"
	idleRSSTarget = "< 40 MiB"
	// bigSize is the size of the large message: 25 MiB less 1 KiB, under
	// the default 25 MiB limit, counted with CRLF line ends as IMAP and
	// HTTP carry it.
	bigSize = 25<<20 - 1024
)

// bigMail returns a bigSize message: a short text part and a base64
// attachment of incompressible bytes.
func bigMail() []byte {
	var b bytes.Buffer
	b.WriteString("From: Big Sender <big@customer.example>\r\nTo: support@bench.postdesk.invalid\r\n" +
		"Subject: A 25 MiB attachment\r\nDate: Thu, 26 Nov 2026 10:00:00 +0000\r\n" +
		"Message-ID: <big-25mib@bench.postdesk.invalid>\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"BIG\"\r\n\r\n" +
		"--BIG\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe log file is attached.\r\n" +
		"--BIG\r\nContent-Type: application/octet-stream; name=\"trace.bin\"\r\n" +
		"Content-Disposition: attachment; filename=\"trace.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	const end = "--BIG--\r\n"
	rng := rand.New(rand.NewPCG(25, 1))
	chunk := make([]byte, 57)
	line := make([]byte, 76)
	for b.Len()+78+len(end) <= bigSize {
		for i := range chunk {
			chunk[i] = byte(rng.Uint32())
		}
		base64.StdEncoding.Encode(line, chunk)
		b.Write(line)
		b.WriteString("\r\n")
	}
	// Pad with a text line to the exact size.
	if pad := bigSize - b.Len() - len(end); pad >= 2 {
		b.WriteString("--" + strings.Repeat("x", max(0, pad-4)) + "\r\n")
	}
	b.WriteString(end)
	return b.Bytes()
}

// child is a running "postdesk serve". Its standard output and error go
// to a file (a file, not a pipe into the bench: at INFO it logs a line per
// HTTP import, which the load generator should not have to copy).
type child struct {
	cmd  *exec.Cmd
	log  string
	done chan error
	base string
}

// logTail returns the end of the child's log, for error messages.
func (c *child) logTail() string {
	b, err := os.ReadFile(c.log)
	if err != nil {
		return fmt.Sprintf("(postdesk serve's log: %v)", err)
	}
	const keep = 8 << 10
	if len(b) > keep {
		b = b[len(b)-keep:]
	}
	return string(b)
}

// procStatus reads a kB field (VmRSS, VmHWM) of /proc/PID/status in bytes.
func procStatus(pid int, field string) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("/proc/%d/status: no %s", pid, field)
}

// buildBinary builds bin/postdesk as the Makefile does, into b.dir.
func buildBinary(b *bench) (string, error) {
	if b.bin != "" {
		return b.bin, nil
	}
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	bin := filepath.Join(b.dir, "postdesk")
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, "./cmd/postdesk")
	cmd.Dir = filepath.Dir(strings.TrimSpace(string(gomod)))
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %w\n%s", err, out)
	}
	b.bin = bin
	return bin, nil
}

// childGC is the garbage collector environment of the measured daemon:
// GOGC and GOMEMLIMIT as in the bench's environment when set there
// (GOMEMLIMIT=off measures without a limit), else the daemon's own
// defaults, which systemd/postdesk.service sets too: the memory rows
// measure the binary as it is deployed.
func childGC() []string {
	env := []string{fmt.Sprintf("GOGC=%d", daemon.DefaultGOGC), fmt.Sprintf("GOMEMLIMIT=%dMiB", daemon.DefaultMemoryLimit>>20)}
	for i, k := range []string{"GOGC", "GOMEMLIMIT"} {
		if v, ok := os.LookupEnv(k); ok && v != "" {
			env[i] = k + "=" + v
		}
	}
	return env
}

// startChild runs "postdesk serve" on the configuration text yaml (with
// the listen address filled in), with env added to the environment, and
// waits until /healthz answers.
func startChild(bin, dir, yaml string, env ...string) (*child, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	conf := filepath.Join(dir, "postdesk.yaml")
	if err := os.WriteFile(conf, []byte("http:\n  listen: "+addr+"\n"+yaml), 0o600); err != nil {
		return nil, err
	}
	c := &child{cmd: exec.Command(bin, "serve", "--config", conf), log: filepath.Join(dir, "serve.log"),
		done: make(chan error, 1), base: "http://" + addr}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "POSTDESK_") && !strings.HasPrefix(kv, "NOTIFY_SOCKET=") {
			c.cmd.Env = append(c.cmd.Env, kv)
		}
	}
	c.cmd.Env = append(append(c.cmd.Env, childGC()...), env...)
	logf, err := os.Create(c.log)
	if err != nil {
		return nil, err
	}
	c.cmd.Stdout, c.cmd.Stderr = logf, logf
	err = c.cmd.Start()
	logf.Close() // the child has its own descriptor
	if err != nil {
		return nil, err
	}
	go func() { c.done <- c.cmd.Wait() }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(c.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return c, nil
			}
		}
		select {
		case err := <-c.done:
			return nil, fmt.Errorf("postdesk serve exited: %v\n%s", err, c.logTail())
		default:
		}
		if time.Now().After(deadline) {
			c.stop()
			return nil, fmt.Errorf("postdesk serve not healthy within 60s\n%s", c.logTail())
		}
		time.Sleep(20 * time.Millisecond) // polling the port
	}
}

func (c *child) pid() int { return c.cmd.Process.Pid }

// cpu returns the CPU time (user and system) the child has used so far,
// from /proc/PID/stat, in clock ticks of 10 ms.
func (c *child) cpu() (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", c.pid()))
	if err != nil {
		return 0, err
	}
	// Fields after the command name, which is in parentheses and may
	// contain spaces: state is field 3, utime 14 and stime 15.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", c.pid(), len(f))
	}
	var ticks int64
	for _, v := range f[11:13] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/%d/stat: %w", c.pid(), err)
		}
		ticks += n
	}
	return time.Duration(ticks) * 10 * time.Millisecond, nil
}

// runTime returns the time the child's live threads have run on a CPU, in
// nanoseconds (the first field of /proc/PID/task/*/schedstat): precise
// where cpu's clock ticks are too coarse, as for an idle daemon.
func (c *child) runTime() (time.Duration, error) {
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", c.pid()))
	if err != nil || len(tasks) == 0 {
		return 0, fmt.Errorf("no /proc/%d/task/*/schedstat: %v", c.pid(), err)
	}
	var ns int64
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue // a thread that ended meanwhile
		}
		f := strings.Fields(string(b))
		if len(f) == 0 {
			continue
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", t, err)
		}
		ns += n
	}
	return time.Duration(ns), nil
}

// stop sends SIGTERM and waits (SIGKILL after 30 s).
func (c *child) stop() {
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(30 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
}

// runMemory measures the real binary: idle RSS, and peak RSS (VmHWM) of a
// fresh process importing one bigSize message over HTTP and over IMAP.
func runMemory(ctx context.Context, b *bench) []row {
	httpName := "Memory: peak RSS (VmHWM) of postdesk serve importing one 25 MiB message via HTTP (JSON)"
	imapName := "Memory: peak RSS (VmHWM) of postdesk serve importing one 25 MiB message via IMAP"
	idleName := "Memory: RSS of the idle daemon (postdesk serve, 2 s after /healthz)"
	bin, err := buildBinary(b)
	if err != nil {
		return []row{skipped("memory", httpName, bigTarget, err.Error()), skipped("memory", imapName, bigTarget, err.Error()),
			skipped("memory", idleName, idleRSSTarget, err.Error())}
	}
	big := bigMail()
	var rows []row

	// HTTP, and the idle RSS before the import.
	hr, ir := memHTTP(b, bin, big, httpName, idleName)
	rows = append(rows, hr)
	if ctx.Err() != nil {
		return append(rows, ir)
	}
	rows = append(rows, memIMAP(b, bin, big, imapName), ir)
	return rows
}

func memHTTP(b *bench, bin string, big []byte, name, idleName string) (row, row) {
	dir, err := os.MkdirTemp(b.dir, "mem-http-")
	if err != nil {
		return skipped("memory", name, bigTarget, err.Error()), skipped("memory", idleName, idleRSSTarget, err.Error())
	}
	path := filepath.Join(dir, "postdesk.db")
	st, err := store.Open(path, store.Options{Logger: quietLogger()})
	if err != nil {
		return skipped("memory", name, bigTarget, err.Error()), skipped("memory", idleName, idleRSSTarget, err.Error())
	}
	token, err := st.CreateToken(context.Background(), "bench", store.TokenBearer, store.RoleImport, time.Time{})
	st.Close()
	if err != nil {
		return skipped("memory", name, bigTarget, err.Error()), skipped("memory", idleName, idleRSSTarget, err.Error())
	}
	c, err := startChild(bin, dir, "store:\n  path: "+path+"\nmailboxes:\n  - id: 1\n    name: bench\n")
	if err != nil {
		return skipped("memory", name, bigTarget, err.Error()), skipped("memory", idleName, idleRSSTarget, err.Error())
	}
	defer c.stop()
	time.Sleep(2 * time.Second) // let start-up garbage be collected before the idle reading
	idle, err := procStatus(c.pid(), "VmRSS")
	idleRow := skipped("memory", idleName, idleRSSTarget, fmt.Sprint(err))
	if err == nil {
		idleRow = row{Group: "memory", Name: idleName, Result: mib(idle), Target: idleRSSTarget, Met: metStr(idle < 40<<20)}
	}
	body, err := json.Marshal(map[string]any{"MailboxId": 1, "Data": string(big)})
	if err != nil {
		return skipped("memory", name, bigTarget, err.Error()), idleRow
	}
	client := newLoadClient(c.base, createPath, token, 1)
	client.timeout = 5 * time.Minute
	defer client.closeIdle()
	start := time.Now()
	if err := client.post(body); err != nil {
		return skipped("memory", name, bigTarget, fmt.Sprintf("import: %v", err)), idleRow
	}
	el := time.Since(start)
	peak, err := procStatus(c.pid(), "VmHWM")
	if err != nil {
		return skipped("memory", name, bigTarget, err.Error()), idleRow
	}
	return row{Group: "memory", Name: name,
		Result: fmt.Sprintf("%s (message %s, request body %s, imported in %s; %s)", mib(peak), mib(int64(len(big))), mib(int64(len(body))), el.Round(time.Millisecond), strings.Join(childGC(), " ")),
		Ratio:  fmt.Sprintf("%.1f× message", float64(peak)/float64(len(big))), Target: bigTarget, Met: metStr(peak < 150<<20)}, idleRow
}

func memIMAP(b *bench, bin string, big []byte, name string) row {
	d, stop, err := startDovecot()
	if err != nil {
		return skipped("memory", name, bigTarget, err.Error())
	}
	defer stop()
	if err := d.DeliverMaildir([][]byte{big}); err != nil {
		return skipped("memory", name, bigTarget, fmt.Sprintf("deliver: %v", err))
	}
	dir, err := os.MkdirTemp(b.dir, "mem-imap-")
	if err != nil {
		return skipped("memory", name, bigTarget, err.Error())
	}
	path := filepath.Join(dir, "postdesk.db")
	cur, err := openCursor(path)
	if err != nil {
		return skipped("memory", name, bigTarget, err.Error())
	}
	defer cur.db.Close()
	start := time.Now()
	c, err := startChild(bin, dir, "store:\n  path: "+path+"\n"+imapYAML(dovecotEndpoint(d)))
	if err != nil {
		return skipped("memory", name, bigTarget, err.Error())
	}
	defer c.stop()
	if err := cur.waitCursor(context.Background(), 1, 5*time.Minute); err != nil {
		return skipped("memory", name, bigTarget, fmt.Sprintf("import: %v\n%s", err, c.logTail()))
	}
	el := time.Since(start)
	peak, err := procStatus(c.pid(), "VmHWM")
	if err != nil {
		return skipped("memory", name, bigTarget, err.Error())
	}
	return row{Group: "memory", Name: name,
		Result: fmt.Sprintf("%s (message %s, start to commit %s; %s)", mib(peak), mib(int64(len(big))), el.Round(time.Millisecond), strings.Join(childGC(), " ")),
		Ratio:  fmt.Sprintf("%.1f× message", float64(peak)/float64(len(big))), Target: bigTarget, Met: metStr(peak < 150<<20)}
}
