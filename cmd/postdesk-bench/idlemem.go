package main

import (
	"bytes"
	"context"
	"fmt"
	"github.com/postdesk/postdesk/internal/memidle"
	"net"
	"path/filepath"
	"strconv"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
)

// runIdleMem measures the IDLE latency against go-imap's in-process server
// (imapmemserver), which tells an idling client of a new message as soon as
// it is appended. Dovecot 2.3 holds every change notification back by
// 500 ms (NOTIFY_DELAY_MSECS in src/lib-storage/mailbox-watch.c), which
// hides postdesk's own share of the latency in the Dovecot row; this row
// shows it. It has no target of its own: the target is measured
// against Dovecot.
func runIdleMem(ctx context.Context, b *bench) row {
	name := fmt.Sprintf("New mail via IDLE against go-imap's in-process server (no notification delay): APPEND → committed ticket, %d deliveries", b.idleDeliveries)
	mem := imapmemserver.New()
	user := imapmemserver.NewUser("bench", "bench")
	if err := user.Create("INBOX", nil); err != nil {
		return skipped("idle", name, "", err.Error())
	}
	mem.AddUser(user)
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return memidle.Session{SessionIMAP4rev2: mem.NewSession().(imapserver.SessionIMAP4rev2)}, nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}},
		InsecureAuth: true,
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return skipped("idle", name, "", err.Error())
	}
	go srv.Serve(ln)
	defer srv.Close()
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	ep := endpoint{Addr: ln.Addr().String(), Host: host, User: "bench", Password: "bench"}
	ep.Port, _ = strconv.Atoi(port)

	deliver := func(raw []byte) error {
		_, err := user.Append("INBOX", literal{bytes.NewReader(raw)}, &imap.AppendOptions{})
		return err
	}
	const seed = 10 // the daemon starts on a non-empty folder, as against Dovecot
	for range seed {
		if err := deliver(b.corpus.next("idle")); err != nil {
			return skipped("idle", name, "", err.Error())
		}
	}
	path := filepath.Join(b.dir, "idle-mem.db")
	cur, err := openCursor(path)
	if err != nil {
		return skipped("idle", name, "", err.Error())
	}
	defer cur.db.Close()
	d, err := startServer(b, path, imapYAML(ep))
	if err != nil {
		return skipped("idle", name, "", fmt.Sprintf("start daemon: %v", err))
	}
	defer d.close()
	if err := cur.waitCursor(ctx, seed, time.Minute); err != nil {
		return skipped("idle", name, "", fmt.Sprintf("initial messages: %v", err))
	}
	return measureIdle(ctx, b, ep, deliver, cur, seed, seed, name, "")
}

// literal is an APPEND body for imapmemserver.
type literal struct{ *bytes.Reader }

func (l literal) Size() int64 { return int64(l.Reader.Len()) }
