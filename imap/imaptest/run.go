package imaptest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// DovecotProcess is a private Dovecot instance started outside a test, for
// programs such as the benchmark (cmd/postdesk-bench). It behaves like the
// instance StartDovecot gives a test; Close stops it.
type DovecotProcess struct {
	*Dovecot
	cmd    *exec.Cmd
	exited chan struct{}
	out    *bytes.Buffer
	once   sync.Once
}

// RunDovecot starts Dovecot with every file of the instance under dir
// (which must exist and be short: Dovecot's UNIX socket paths under it must
// stay below 108 bytes). It needs the binary at DovecotBinary and root.
// Close it to stop the server; dir is left to the caller.
func RunDovecot(dir string) (*DovecotProcess, error) {
	if _, err := os.Stat(DovecotBinary); err != nil {
		return nil, fmt.Errorf("dovecot not installed (apt-get install dovecot-imapd): %w", err)
	}
	if os.Geteuid() != 0 {
		return nil, errors.New("dovecot needs root (mail processes run as uid 65534)")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("dovecot port: %w", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	d := &Dovecot{
		Host: "127.0.0.1", Port: port, Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		User: "bot", Password: "secret-" + randHex(6),
		Conf: filepath.Join(dir, "dovecot.conf"), Dir: dir,
		Maildir: filepath.Join(dir, "home", "bot", "Maildir"),
	}
	if err := d.writeConfig(); err != nil {
		return nil, fmt.Errorf("dovecot config: %w", err)
	}
	p := &DovecotProcess{Dovecot: d, exited: make(chan struct{}), out: &bytes.Buffer{}}
	p.cmd = exec.Command(DovecotBinary, "-F", "-c", d.Conf)
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start dovecot: %w", err)
	}
	go func() {
		_ = p.cmd.Wait()
		close(p.exited)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", d.Addr, time.Second)
		if err == nil {
			c.Close()
			return p, nil
		}
		select {
		case <-p.exited:
			return nil, fmt.Errorf("dovecot exited: %s\n%s", p.out.String(), d.Log())
		default:
		}
		if time.Now().After(deadline) {
			p.Close()
			return nil, fmt.Errorf("dovecot did not listen on %s within 10s", d.Addr)
		}
		time.Sleep(20 * time.Millisecond) // waiting for the port
	}
}

// Close stops Dovecot (SIGTERM, then SIGKILL to its process group after
// 10 s) and waits for it to exit. It is idempotent.
func (p *DovecotProcess) Close() error {
	p.once.Do(func() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.exited
		}
	})
	return nil
}
