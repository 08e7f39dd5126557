package faulttest

import (
	"bytes"
	"fmt"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"

	"github.com/postdesk/postdesk/imap/imaptest"
)

// faultServer is an in-process IMAP server (imapserver + imapmemserver)
// whose sessions answer NO or BAD to SELECT, FETCH or STORE on demand.
type faultServer struct {
	Addr string
	Host string
	Port int

	mu     sync.Mutex
	users  map[string]*imapmemserver.User
	faults map[string][]imap.StatusResponseType // "select", "fetch", "store" → queued answers
	hits   map[string]int                       // faults answered so far
}

func startFaultServer(t testing.TB) *faultServer {
	t.Helper()
	s := &faultServer{users: map[string]*imapmemserver.User{}, faults: map[string][]imap.StatusResponseType{}, hits: map[string]int{}}
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return &faultSession{srv: s}, nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}},
		InsecureAuth: true,
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
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

// addUser adds a user with INBOX and extra folders.
func (s *faultServer) addUser(t testing.TB, name, pass string, folders ...string) {
	t.Helper()
	u := imapmemserver.NewUser(name, pass)
	for _, f := range append([]string{"INBOX"}, folders...) {
		if err := u.Create(f, nil); err != nil {
			t.Fatalf("create %q: %v", f, err)
		}
	}
	s.mu.Lock()
	s.users[name] = u
	s.mu.Unlock()
}

func (s *faultServer) user(name string) *imapmemserver.User {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.users[name]
}

// deliver appends raw to folder of user, as an MTA would.
func (s *faultServer) deliver(t testing.TB, user, folder string, raw []byte) {
	t.Helper()
	u := s.user(user)
	if _, err := u.Append(folder, literal{bytes.NewReader(raw), int64(len(raw))}, &imap.AppendOptions{Time: time.Now()}); err != nil {
		t.Fatalf("append to %s/%s: %v", user, folder, err)
	}
}

// inject queues answers for the next commands of op.
func (s *faultServer) inject(op string, answers ...imap.StatusResponseType) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[op] = append(s.faults[op], answers...)
}

// injected returns how many faults of op were answered.
func (s *faultServer) injected(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[op]
}

// take returns the next queued fault of op for user u1, or nil.
func (s *faultServer) take(user, op string) error {
	if user != faultyUser {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.faults[op]
	if len(q) == 0 {
		return nil
	}
	s.faults[op] = q[1:]
	s.hits[op]++
	return &imap.Error{Type: q[0], Text: fmt.Sprintf("injected %s fault", op)}
}

// faultyUser is the account faults are injected for; others are healthy.
const faultyUser = "u1"

type literal struct {
	*bytes.Reader
	size int64
}

func (l literal) Size() int64 { return l.size }

// faultSession wraps imapmemserver's session; nil until logged in.
type faultSession struct {
	*imapmemserver.UserSession
	srv  *faultServer
	name string
}

func (sess *faultSession) Login(username, password string) error {
	u := sess.srv.user(username)
	if u == nil {
		return imapserver.ErrAuthFailed
	}
	if err := u.Login(username, password); err != nil {
		return err
	}
	sess.name = username
	sess.UserSession = imapmemserver.NewUserSession(u)
	return nil
}

func (sess *faultSession) Close() error {
	if sess.UserSession == nil {
		return nil
	}
	return sess.UserSession.Close()
}

// Select fails on demand; EXAMINE (read-only, the tests' own look) never.
func (sess *faultSession) Select(name string, options *imap.SelectOptions) (*imap.SelectData, error) {
	if options == nil || !options.ReadOnly {
		if err := sess.srv.take(sess.name, "select"); err != nil {
			return nil, err
		}
	}
	return sess.UserSession.Select(name, options)
}

func (sess *faultSession) Fetch(w *imapserver.FetchWriter, numSet imap.NumSet, options *imap.FetchOptions) error {
	if len(options.BodySection) > 0 {
		if err := sess.srv.take(sess.name, "fetch"); err != nil {
			return err
		}
	}
	return sess.UserSession.Fetch(w, numSet, options)
}

func (sess *faultSession) Store(w *imapserver.FetchWriter, numSet imap.NumSet, flags *imap.StoreFlags, options *imap.StoreOptions) error {
	if err := sess.srv.take(sess.name, "store"); err != nil {
		return err
	}
	return sess.UserSession.Store(w, numSet, flags, options)
}

// listFolder lists INBOX of user read-only.
func listFolder(s *faultServer, user, pass string) ([]imaptest.MessageInfo, error) {
	return imaptest.List(s.Addr, user, pass, "INBOX")
}
