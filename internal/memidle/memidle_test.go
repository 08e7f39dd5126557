package memidle

import (
	"bytes"
	"net"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
)

type literal struct{ *bytes.Reader }

func (l literal) Size() int64 { return int64(l.Reader.Len()) }

// existsAfterIdle appends a message while the client is between commands,
// then IDLEs, and reports whether the EXISTS came within wait.
func existsAfterIdle(t *testing.T, wrap bool, wait time.Duration) bool {
	mem := imapmemserver.New()
	user := imapmemserver.NewUser("u", "p")
	if err := user.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	mem.AddUser(user)
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			if wrap {
				return Session{mem.NewSession().(imapserver.SessionIMAP4rev2)}, nil, nil
			}
			return mem.NewSession(), nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}},
		InsecureAuth: true,
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	exists := make(chan uint32, 8)
	c, err := imapclient.DialInsecure(ln.Addr().String(), &imapclient.Options{
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			Mailbox: func(d *imapclient.UnilateralDataMailbox) {
				if d.NumMessages != nil {
					exists <- *d.NumMessages
				}
			},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login("u", "p").Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	raw := []byte("From: a@example.com\r\nSubject: x\r\n\r\nhi\r\n")
	if _, err := user.Append("INBOX", literal{bytes.NewReader(raw)}, &imap.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
	idle, err := c.Idle()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { idle.Close(); idle.Wait() }()
	select {
	case n := <-exists:
		return n == 1
	case <-time.After(wait):
		return false
	}
}

func TestIdleAnnouncesWhatCameBefore(t *testing.T) {
	if !existsAfterIdle(t, true, 5*time.Second) {
		t.Fatal("no EXISTS during IDLE for a message appended before it")
	}
	// The gap this package closes: without it the message waits for the
	// client's next command.
	if existsAfterIdle(t, false, 300*time.Millisecond) {
		t.Log("imapmemserver now announces queued updates at IDLE by itself; memidle may be unneeded")
	}
}
