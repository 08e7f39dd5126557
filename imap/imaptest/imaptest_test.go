package imaptest

import (
	"fmt"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

func testMail(i int) []byte {
	return fmt.Appendf(nil, "From: a@example.com\r\nTo: b@example.com\r\nSubject: test %d\r\nMessage-ID: <m%d@example.com>\r\n\r\nbody %d\r\n", i, i, i)
}

func TestMemServerAppendRecreate(t *testing.T) {
	s := StartMemServer(t, nil)
	s.AddUser("u", "p", "Archive")
	for i := range 3 {
		if err := s.Append("u", "INBOX", testMail(i)); err != nil {
			t.Fatal(err)
		}
	}
	msgs, err := List(s.Addr, "u", "p", "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 3 || msgs[2].MessageID != "m2@example.com" || msgs[0].Seen() {
		t.Fatalf("List = %+v", msgs)
	}
	if err := s.Recreate("u", "INBOX"); err != nil {
		t.Fatal(err)
	}
	if msgs, err := List(s.Addr, "u", "p", "INBOX"); err != nil || len(msgs) != 0 {
		t.Fatalf("after Recreate: %v %v", msgs, err)
	}
	if _, err := List(s.Addr, "u", "wrong", "INBOX"); err == nil {
		t.Fatal("login with a wrong password succeeded")
	}
}

func TestProxyCut(t *testing.T) {
	s := StartMemServer(t, nil)
	s.AddUser("u", "p")
	p := StartProxy(t, s.Addr)
	if _, err := List(p.Addr, "u", "p", "INBOX"); err != nil {
		t.Fatal(err)
	}
	p.CutAfter(10)
	if _, err := List(p.Addr, "u", "p", "INBOX"); err == nil {
		t.Fatal("List through a cut connection succeeded")
	}
	if p.Cuts() != 1 || p.Accepted() != 2 {
		t.Fatalf("cuts %d accepted %d", p.Cuts(), p.Accepted())
	}
}

func TestDovecot(t *testing.T) {
	d := StartDovecot(t)
	if err := d.Deliver(testMail(1)); err != nil {
		t.Fatalf("%v\n%s", err, d.Log())
	}
	if err := d.DeliverMaildir([][]byte{testMail(2), testMail(3)}); err != nil {
		t.Fatal(err)
	}
	msgs, err := List(d.Addr, d.User, d.Password, "INBOX")
	if err != nil {
		t.Fatalf("%v\n%s", err, d.Log())
	}
	if len(msgs) != 3 {
		t.Fatalf("List = %+v", msgs)
	}
	n, err := d.Count("INBOX", "UNSEEN")
	if err != nil || n != 3 {
		t.Fatalf("Count UNSEEN = %d, %v", n, err)
	}
	if n, err := d.Count("Archive"); err != nil || n != 0 {
		t.Fatalf("Count Archive = %d, %v", n, err)
	}
}

func TestMemServerHideCaps(t *testing.T) {
	s := StartMemServer(t, &MemOptions{Caps: imap.CapSet{imap.CapIMAP4rev1: {}}, HideCaps: []imap.Cap{imap.CapIdle}})
	s.AddUser("u", "p")
	c, err := imapclient.DialInsecure(s.Addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login("u", "p").Wait(); err != nil {
		t.Fatal(err)
	}
	caps, err := c.Capability().Wait()
	if err != nil {
		t.Fatal(err)
	}
	if caps.Has(imap.CapIdle) || !caps.Has(imap.CapIMAP4rev1) {
		t.Fatalf("caps = %v, want IMAP4rev1 without IDLE", caps)
	}
}
