package imaptest

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"github.com/postdesk/postdesk/internal/memidle"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/emersion/go-sasl"
)

// MemOptions configures StartMemServer. The zero value (or nil) gives an
// IMAP4rev2 server (IDLE, MOVE, UIDPLUS…) with plaintext LOGIN and PLAIN.
type MemOptions struct {
	// Caps replaces the advertised capabilities, e.g. {IMAP4rev1: {}} for
	// a server without IDLE, MOVE and UIDPLUS.
	Caps imap.CapSet
	// XOAuth2, when set, enables AUTHENTICATE XOAUTH2 and decides whether
	// an access token is valid for username.
	XOAuth2 func(username, token string) bool
	// HideCaps removes capabilities from what the server advertises, e.g.
	// IDLE, which imapserver always offers. IMAP4rev2 implies IDLE, MOVE
	// and UIDPLUS, so a server without IDLE needs Caps {IMAP4rev1} too. The
	// filter rewrites capability lists on the wire, so it is for tests only.
	HideCaps []imap.Cap
	// TLSConfig, when set, enables STARTTLS, or implicit TLS on the
	// listener with ImplicitTLS.
	TLSConfig   *tls.Config
	ImplicitTLS bool
	// MuteIdle makes IDLE report nothing: new mail shows only in the
	// replies to later commands, DONE's included (a server that holds its
	// IDLE notifications back, as Dovecot 2.3 does for 500 ms, at the
	// extreme).
	MuteIdle bool
}

// MemServer is a running in-process IMAP server on 127.0.0.1.
type MemServer struct {
	Addr string
	Host string
	Port int

	opts MemOptions
	mem  *imapmemserver.Server

	mu    sync.Mutex
	users map[string]*imapmemserver.User
	pass  map[string]string
	fault func(command string) error
}

// SetFault installs f (nil removes it): before SELECT, FETCH, STORE, COPY,
// MOVE, EXPUNGE and SEARCH of every session the server calls f with the
// command name and, when f returns an error, fails the command with it
// (an *imap.Error gives a NO or BAD reply with its text).
func (s *MemServer) SetFault(f func(command string) error) {
	s.mu.Lock()
	s.fault = f
	s.mu.Unlock()
}

func (s *MemServer) injected(command string) error {
	s.mu.Lock()
	f := s.fault
	s.mu.Unlock()
	if f == nil {
		return nil
	}
	return f(command)
}

// StartMemServer starts an imapserver backed by imapmemserver, listening on
// a free port of 127.0.0.1, and stops it when the test ends.
func StartMemServer(t testing.TB, opts *MemOptions) *MemServer {
	t.Helper()
	if opts == nil {
		opts = &MemOptions{}
	}
	s := &MemServer{
		opts:  *opts,
		mem:   imapmemserver.New(),
		users: make(map[string]*imapmemserver.User),
		pass:  make(map[string]string),
	}
	caps := opts.Caps
	if caps == nil {
		caps = imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}}
	}
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			base := &memSession{srv: s}
			if s.opts.XOAuth2 != nil {
				return &saslSession{base}, nil, nil
			}
			return base, nil, nil
		},
		Caps:         caps,
		TLSConfig:    opts.TLSConfig,
		InsecureAuth: true,
		Logger:       discardLogger{},
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("imaptest: listen: %v", err)
	}
	if len(opts.HideCaps) > 0 {
		ln = &hideCapsListener{ln, opts.HideCaps}
	}
	if opts.ImplicitTLS && opts.TLSConfig != nil {
		ln = tls.NewListener(ln, opts.TLSConfig)
	}
	s.Addr = ln.Addr().String()
	host, port, _ := net.SplitHostPort(s.Addr)
	s.Host = host
	s.Port, _ = strconv.Atoi(port)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	t.Cleanup(func() {
		srv.Close()
		<-done
	})
	return s
}

type discardLogger struct{}

func (discardLogger) Printf(string, ...any) {}

// AddUser adds a user with an INBOX and the given extra folders.
func (s *MemServer) AddUser(username, password string, folders ...string) *imapmemserver.User {
	u := imapmemserver.NewUser(username, password)
	for _, f := range append([]string{"INBOX"}, folders...) {
		if err := u.Create(f, nil); err != nil {
			panic(fmt.Sprintf("imaptest: create %q: %v", f, err))
		}
	}
	s.mem.AddUser(u)
	s.mu.Lock()
	s.users[username] = u
	s.pass[username] = password
	s.mu.Unlock()
	return u
}

// User returns a user added by AddUser, or nil.
func (s *MemServer) User(username string) *imapmemserver.User {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.users[username]
}

// Append stores raw in folder of username, as an MTA delivery would.
func (s *MemServer) Append(username, folder string, raw []byte) error {
	u := s.User(username)
	if u == nil {
		return fmt.Errorf("imaptest: no user %q", username)
	}
	_, err := u.Append(folder, literal{bytes.NewReader(raw), int64(len(raw))}, &imap.AppendOptions{Time: time.Now()})
	return err
}

// Recreate deletes and re-creates folder, which gives it a new UIDVALIDITY
// (RFC 9051 §2.3.1.1) and empties it.
func (s *MemServer) Recreate(username, folder string) error {
	u := s.User(username)
	if u == nil {
		return fmt.Errorf("imaptest: no user %q", username)
	}
	if err := u.Delete(folder); err != nil {
		return err
	}
	return u.Create(folder, nil)
}

type literal struct {
	*bytes.Reader
	size int64
}

func (l literal) Size() int64 { return l.size }

// memSession is imapmemserver's session with our own user table.
type memSession struct {
	*imapmemserver.UserSession // nil until logged in
	srv                        *MemServer
}

func (sess *memSession) Login(username, password string) error {
	u := sess.srv.User(username)
	if u == nil {
		return imapserver.ErrAuthFailed
	}
	if err := u.Login(username, password); err != nil {
		return err
	}
	sess.UserSession = imapmemserver.NewUserSession(u)
	return nil
}

func (sess *memSession) Select(mailbox string, options *imap.SelectOptions) (*imap.SelectData, error) {
	if err := sess.srv.injected("SELECT"); err != nil {
		return nil, err
	}
	return sess.UserSession.Select(mailbox, options)
}

func (sess *memSession) Fetch(w *imapserver.FetchWriter, numSet imap.NumSet, options *imap.FetchOptions) error {
	if err := sess.srv.injected("FETCH"); err != nil {
		return err
	}
	return sess.UserSession.Fetch(w, numSet, options)
}

func (sess *memSession) Store(w *imapserver.FetchWriter, numSet imap.NumSet, flags *imap.StoreFlags, options *imap.StoreOptions) error {
	if err := sess.srv.injected("STORE"); err != nil {
		return err
	}
	return sess.UserSession.Store(w, numSet, flags, options)
}

func (sess *memSession) Copy(numSet imap.NumSet, dest string) (*imap.CopyData, error) {
	if err := sess.srv.injected("COPY"); err != nil {
		return nil, err
	}
	return sess.UserSession.Copy(numSet, dest)
}

func (sess *memSession) Move(w *imapserver.MoveWriter, numSet imap.NumSet, dest string) error {
	if err := sess.srv.injected("MOVE"); err != nil {
		return err
	}
	return sess.UserSession.Move(w, numSet, dest)
}

func (sess *memSession) Expunge(w *imapserver.ExpungeWriter, uids *imap.UIDSet) error {
	if err := sess.srv.injected("EXPUNGE"); err != nil {
		return err
	}
	return sess.UserSession.Expunge(w, uids)
}

func (sess *memSession) Search(kind imapserver.NumKind, criteria *imap.SearchCriteria, options *imap.SearchOptions) (*imap.SearchData, error) {
	if err := sess.srv.injected("SEARCH"); err != nil {
		return nil, err
	}
	return sess.UserSession.Search(kind, criteria, options)
}

// Idle reports changes that happened since the last command before idling,
// as Dovecot does; imapmemserver alone would hold them back until the next
// command (memidle.IdleWithPoll).
func (sess *memSession) Idle(w *imapserver.UpdateWriter, stop <-chan struct{}) error {
	if sess.srv.opts.MuteIdle {
		<-stop
		return nil
	}
	return memidle.IdleWithPoll(sess.UserSession, w, stop)
}

// saslSession adds XOAUTH2 (and keeps PLAIN).
type saslSession struct{ *memSession }

var _ imapserver.SessionSASL = (*saslSession)(nil)

func (sess *saslSession) AuthenticateMechanisms() []string {
	return []string{sasl.Plain, "XOAUTH2"}
}

func (sess *saslSession) Authenticate(mech string) (sasl.Server, error) {
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(identity, username, password string) error {
			if identity != "" && identity != username {
				return imapserver.ErrAuthFailed
			}
			return sess.Login(username, password)
		}), nil
	case "XOAUTH2":
		return &xoauth2Server{sess: sess}, nil
	}
	return nil, &imap.Error{Type: imap.StatusResponseTypeNo, Text: "SASL mechanism not supported"}
}

// xoauth2Server checks "user=U\x01auth=Bearer T\x01\x01".
type xoauth2Server struct {
	sess *saslSession
	done bool
}

func (x *xoauth2Server) Next(resp []byte) ([]byte, bool, error) {
	if x.done {
		return nil, true, imapserver.ErrAuthFailed
	}
	if resp == nil {
		return []byte{}, false, nil // ask for the initial response
	}
	x.done = true
	var user, token string
	for _, f := range strings.Split(string(resp), "\x01") {
		if v, ok := strings.CutPrefix(f, "user="); ok {
			user = v
		}
		if v, ok := strings.CutPrefix(f, "auth=Bearer "); ok {
			token = v
		}
	}
	if user == "" || token == "" {
		return nil, true, errors.New("imaptest: malformed XOAUTH2 response")
	}
	u := x.sess.srv.User(user)
	if u == nil || !x.sess.srv.opts.XOAuth2(user, token) {
		return nil, true, imapserver.ErrAuthFailed
	}
	x.sess.UserSession = imapmemserver.NewUserSession(u)
	return nil, true, nil
}

// hideCapsListener strips capabilities from CAPABILITY lists the server
// writes (untagged responses and [CAPABILITY …] codes).
type hideCapsListener struct {
	net.Listener
	caps []imap.Cap
}

func (l *hideCapsListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &hideCapsConn{c, l.caps}, nil
}

type hideCapsConn struct {
	net.Conn
	caps []imap.Cap
}

func (c *hideCapsConn) Write(b []byte) (int, error) {
	if !bytes.Contains(b, []byte("CAPABILITY ")) {
		return c.Conn.Write(b)
	}
	out := b
	for _, line := range bytes.SplitAfter(b, []byte("\r\n")) {
		if !bytes.Contains(line, []byte("CAPABILITY ")) {
			continue
		}
		filtered := line
		for _, capa := range c.caps {
			for _, end := range []string{" ", "]", "\r"} {
				filtered = bytes.ReplaceAll(filtered, []byte(" "+string(capa)+end), []byte(end))
			}
		}
		out = bytes.Replace(out, line, filtered, 1)
	}
	if _, err := c.Conn.Write(out); err != nil {
		return 0, err
	}
	return len(b), nil
}
