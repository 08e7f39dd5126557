package imap

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"
	"github.com/prometheus/client_golang/prometheus"
)

// errStalled reports that the server did not answer within the timeout and
// the connection was closed by the watchdog.
var errStalled = errors.New("server stalled: no answer within the timeout")

// errAuth marks an authentication failure (credentials rejected or no token).
var errAuth = errors.New("authentication failed")

// watchdog closes a connection when an armed timer expires. imapclient sets
// its own read deadlines on the net.Conn, so ours are enforced from outside:
// every network step arms the watchdog and disarms it when done.
type watchdog struct {
	conn  net.Conn
	mu    sync.Mutex
	timer *time.Timer
	fired bool
}

func newWatchdog(conn net.Conn) *watchdog { return &watchdog{conn: conn} }

// arm (re)starts the countdown.
func (w *watchdog) arm(d time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.timer == nil {
		w.timer = time.AfterFunc(d, w.fire)
		return
	}
	w.timer.Reset(d)
}

func (w *watchdog) disarm() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.timer != nil {
		w.timer.Stop()
	}
}

func (w *watchdog) fire() {
	w.mu.Lock()
	w.fired = true
	w.mu.Unlock()
	w.conn.Close()
}

func (w *watchdog) expired() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.fired
}

// session is one logged-in connection of a worker.
type session struct {
	cfg     Config
	log     *slog.Logger
	panics  prometheus.Counter
	conn    net.Conn
	c       *imapclient.Client
	wd      *watchdog
	newMail chan struct{} // signalled (non-blocking) on EXISTS
	stopCtx func() bool   // detaches the hard-stop hook

	uidValidity  uint32   // of the selected folder
	uidNext      imap.UID // at SELECT; 0 if not reported
	rescanLogged uint32   // UIDVALIDITY whose rescan was logged
	idle         bool     // IDLE offered and enabled
	move         bool     // MOVE offered
	uidPlus      bool     // UIDPLUS (UID EXPUNGE) offered
	reconciled   uint32   // UIDVALIDITY whose unacknowledged messages were acknowledged
}

// step runs fn under the watchdog with timeout d. A stalled server turns
// into errStalled; what names the step in the error.
func (s *session) step(what string, d time.Duration, fn func() error) error {
	s.wd.arm(d)
	err := fn()
	s.wd.disarm()
	if s.wd.expired() {
		return fmt.Errorf("%s: %w", what, errStalled)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// close logs out politely when possible and closes the connection.
func (s *session) close() {
	defer s.stopCtx()
	if s.c == nil {
		s.conn.Close()
		return
	}
	if !s.wd.expired() {
		_ = s.step("logout", 2*time.Second, func() error { return s.c.Logout().Wait() })
	}
	// imapclient's Close waits for its reader goroutine, which blocks for
	// good if a literal was abandoned half-read: close the socket first and
	// bound the wait, so a worker can never hang here.
	s.conn.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer s.recoverPanic()
		s.c.Close()
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
}

// recoverPanic logs and counts a panic of a helper goroutine.
func (s *session) recoverPanic() {
	if v := recover(); v != nil {
		s.panics.Inc()
		s.log.Error("imap connection close panicked", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
	}
}

// tlsConfig builds the certificate-verifying TLS configuration.
func tlsConfig(cfg Config) (*tls.Config, error) {
	tc := &tls.Config{ServerName: cfg.ServerName, MinVersion: tls.VersionTLS12}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("read ca file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ca file %s: no PEM certificates", cfg.CAFile)
		}
		tc.RootCAs = pool
	}
	return tc, nil
}

// dialSession connects, secures and authenticates. ctx bounds the whole
// attempt; hard cancels the connection at any later time.
func (w *worker) dialSession(ctx, hard context.Context) (*session, error) {
	cfg := w.cfg
	addr := net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port))
	dctx, cancel := context.WithTimeout(ctx, cfg.DialTimeout)
	defer cancel()
	conn, err := w.dial(dctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	var tc *tls.Config
	if cfg.TLS != TLSNone {
		if tc, err = tlsConfig(cfg); err != nil {
			conn.Close()
			return nil, err
		}
	}
	if cfg.TLS == TLSImplicit {
		tconn := tls.Client(conn, tc)
		if err := tconn.HandshakeContext(dctx); err != nil {
			conn.Close()
			return nil, fmt.Errorf("tls handshake with %s: %w", addr, err)
		}
		conn = tconn
	}
	s := &session{cfg: cfg, log: w.log, panics: w.m.panics, conn: conn, wd: newWatchdog(conn), newMail: make(chan struct{}, 1)}
	s.stopCtx = context.AfterFunc(hard, func() { conn.Close() })
	opts := &imapclient.Options{
		TLSConfig: tc,
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			Mailbox: func(d *imapclient.UnilateralDataMailbox) {
				if d.NumMessages != nil {
					select {
					case s.newMail <- struct{}{}:
					default:
					}
				}
			},
		},
	}
	err = s.step("greeting", cfg.DialTimeout, func() error {
		if cfg.TLS == TLSStartTLS {
			c, err := imapclient.NewStartTLS(conn, opts)
			if err != nil {
				return fmt.Errorf("starttls: %w", err)
			}
			s.c = c
			return nil
		}
		s.c = imapclient.New(conn, opts)
		return s.c.WaitGreeting()
	})
	if err != nil {
		s.close()
		return nil, err
	}
	if err := w.authenticate(ctx, s); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

// authenticate logs in with the configured mechanism. Rejections by the
// server wrap errAuth.
func (w *worker) authenticate(ctx context.Context, s *session) error {
	cfg := w.cfg
	var err error
	switch cfg.Auth {
	case AuthPlain:
		err = s.step("authenticate plain", cfg.CommandTimeout, func() error {
			return s.c.Authenticate(sasl.NewPlainClient("", cfg.Username, cfg.Password))
		})
	case AuthXOAuth2:
		tok, terr := w.tokens.Token(ctx)
		if terr != nil {
			if errors.Is(terr, errTokenEndpoint) {
				return fmt.Errorf("%w: %w", errAuth, terr)
			}
			return terr
		}
		err = s.step("authenticate xoauth2", cfg.CommandTimeout, func() error {
			return s.c.Authenticate(xoauth2Client{username: cfg.Username, token: tok})
		})
		if isNo(err) {
			w.tokens.Invalidate()
		}
	default:
		err = s.step("login", cfg.CommandTimeout, func() error {
			return s.c.Login(cfg.Username, cfg.Password).Wait()
		})
	}
	if isNo(err) {
		return fmt.Errorf("%w: %w", errAuth, err)
	}
	return err
}

// isNo reports whether err is a tagged NO (or BAD) reply from the server.
func isNo(err error) bool {
	var ie *imap.Error
	return errors.As(err, &ie) && (ie.Type == imap.StatusResponseTypeNo || ie.Type == imap.StatusResponseTypeBad)
}
