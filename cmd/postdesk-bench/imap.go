package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/postdesk/postdesk/daemon/config"
	"github.com/postdesk/postdesk/imap/imaptest"
)

const (
	imapTarget = "≥ 0.70× bare fetch"
	idleTarget = "p50 < 200 ms, p99 < 1 s"
	// idleRecheck is the imap.idle_recheck of the second IDLE row.
	idleRecheck = 100 * time.Millisecond
	// imapBatch is the bare client's UID FETCH batch, postdesk's default
	// batch_size.
	imapBatch = config.DefaultBatchSize
)

// startDovecot starts a private Dovecot in a short temporary directory.
func startDovecot() (*imaptest.DovecotProcess, func(), error) {
	dir, err := os.MkdirTemp("", "pdb-dc-")
	if err != nil {
		return nil, nil, err
	}
	d, err := imaptest.RunDovecot(dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	return d, func() { d.Close(); os.RemoveAll(dir) }, nil
}

// endpoint is an IMAP server and the account the bench uses on it.
type endpoint struct {
	Addr, Host     string
	Port           int
	User, Password string
}

func dovecotEndpoint(d *imaptest.DovecotProcess) endpoint {
	return endpoint{Addr: d.Addr, Host: d.Host, Port: d.Port, User: d.User, Password: d.Password}
}

// imapYAML is the mailboxes section of a configuration that polls INBOX
// of d into the bench mailbox, with the defaults for everything else
// (after_import seen, batch_size, IDLE when offered).
func imapYAML(d endpoint, extra ...string) string {
	var more strings.Builder
	for _, e := range extra {
		more.WriteString("      " + e + "\n")
	}
	return fmt.Sprintf(`mailboxes:
  - id: %d
    name: bench
    address: support@bench.postdesk.invalid
    imap:
      host: %s
      port: %d
      tls: none
      username: %s
      password: %s
%s`, benchMailbox, d.Host, d.Port, d.User, d.Password, more.String())
}

// cursorReader reads the committed IMAP cursor of the bench mailbox.
type cursorReader struct{ db *sql.DB }

func openCursor(path string) (*cursorReader, error) {
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	return &cursorReader{db}, nil
}

func (c *cursorReader) uid() (uint32, error) {
	var uid int64
	err := c.db.QueryRow(`SELECT uid FROM imap_cursors WHERE mailbox_id = ?`, benchMailbox).Scan(&uid)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return uint32(uid), err
}

// waitCursor polls until the cursor reaches uid.
func (c *cursorReader) waitCursor(ctx context.Context, uid uint32, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		got, err := c.uid()
		if err == nil && got >= uid {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cursor at uid %d, want %d after %s (last error %v)", got, uid, timeout, err)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		time.Sleep(5 * time.Millisecond) // polling the store
	}
}

// dialIMAP logs in and selects INBOX.
func dialIMAP(d endpoint, opts *imapclient.Options) (*imapclient.Client, *imap.SelectData, error) {
	c, err := imapclient.DialInsecure(d.Addr, opts)
	if err != nil {
		return nil, nil, err
	}
	if err := c.Login(d.User, d.Password).Wait(); err != nil {
		c.Close()
		return nil, nil, fmt.Errorf("login: %w", err)
	}
	sel, err := c.Select("INBOX", nil).Wait()
	if err != nil {
		c.Close()
		return nil, nil, fmt.Errorf("select: %w", err)
	}
	return c, sel, nil
}

// bareFetch downloads every message of INBOX with UID FETCH BODY.PEEK[] in
// batches of imapBatch, reading each literal into memory as postdesk does.
// sizesOnly fetches RFC822.SIZE instead (to warm Dovecot's index).
func bareFetch(d *imaptest.DovecotProcess, sizesOnly bool) (n int, bytes int64, err error) {
	c, _, err := dialIMAP(dovecotEndpoint(d), nil)
	if err != nil {
		return 0, 0, err
	}
	defer c.Close()
	data, err := c.UIDSearch(&imap.SearchCriteria{}, nil).Wait()
	if err != nil {
		return 0, 0, fmt.Errorf("uid search: %w", err)
	}
	uids := data.AllUIDs()
	opts := &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}}}
	if sizesOnly {
		opts = &imap.FetchOptions{UID: true, RFC822Size: true}
	}
	for len(uids) > 0 {
		k := min(imapBatch, len(uids))
		cmd := c.Fetch(imap.UIDSetNum(uids[:k]...), opts)
		for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
			for item := msg.Next(); item != nil; item = msg.Next() {
				if it, ok := item.(imapclient.FetchItemDataBodySection); ok && it.Literal != nil {
					b, err := io.ReadAll(it.Literal)
					if err != nil {
						cmd.Close()
						return n, bytes, fmt.Errorf("read literal: %w", err)
					}
					bytes += int64(len(b))
				}
			}
			n++
		}
		if err := cmd.Close(); err != nil {
			return n, bytes, fmt.Errorf("uid fetch: %w", err)
		}
		uids = uids[k:]
	}
	return n, bytes, nil
}

// fillDovecot delivers n corpus copies into d's INBOX, lets Dovecot index
// them (it does so on first access, which neither side of a measurement
// should pay) and returns the highest UID.
func fillDovecot(b *bench, d *imaptest.DovecotProcess, n int, tag string) (uint32, error) {
	b.logf("%s: delivering %d messages into Dovecot's Maildir", tag, n)
	for i := 0; i < n; i += 500 {
		batch := make([][]byte, 0, 500)
		for j := i; j < min(n, i+500); j++ {
			batch = append(batch, b.corpus.next(tag))
		}
		if err := d.DeliverMaildir(batch); err != nil {
			return 0, fmt.Errorf("deliver: %w", err)
		}
	}
	if _, _, err := bareFetch(d, true); err != nil {
		return 0, fmt.Errorf("warm-up: %w", err)
	}
	c, _, err := dialIMAP(dovecotEndpoint(d), nil)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	data, err := c.UIDSearch(&imap.SearchCriteria{}, nil).Wait()
	if err != nil {
		return 0, fmt.Errorf("uid search: %w", err)
	}
	uids := data.AllUIDs()
	if len(uids) < n {
		return 0, fmt.Errorf("%d of %d messages in INBOX", len(uids), n)
	}
	return uint32(uids[len(uids)-1]), nil
}

// runIMAP measures the drain of imapMessages messages (when drain) and
// the IDLE latency (when idle) against one Dovecot.
func runIMAP(ctx context.Context, b *bench, drain, idle bool) []row {
	drainName := fmt.Sprintf("IMAP drain: %d messages in a local Dovecot, postdesk vs bare go-imap UID FETCH BODY.PEEK[] (batches of %d)", b.imapMessages, imapBatch)
	idleName := fmt.Sprintf("New mail via IDLE: Maildir delivery → committed ticket, %d deliveries", b.idleDeliveries)
	skip := func(reason string) []row {
		var rows []row
		if drain {
			rows = append(rows, skipped("imap", drainName, imapTarget, reason))
		}
		if idle {
			rows = append(rows, skipped("idle", idleName, idleTarget, reason))
		}
		return rows
	}
	d, stop, err := startDovecot()
	if err != nil {
		return skip(err.Error())
	}
	defer stop()
	n := b.imapMessages
	if !drain {
		n = 10 // a few messages so the daemon starts on a non-empty folder
	}
	last, err := fillDovecot(b, d, n, "imap")
	if err != nil {
		return skip(err.Error())
	}
	var rows []row
	var bareRate float64
	var bareBytes int64
	if drain {
		start := time.Now()
		got, nb, err := bareFetch(d, false)
		if err != nil || got != n {
			return skip(fmt.Sprintf("bare fetch: %d of %d messages: %v", got, n, err))
		}
		bareRate, bareBytes = rate(n, time.Since(start)), nb
	}

	path := filepath.Join(b.dir, "imap.db")
	cur, err := openCursor(path)
	if err != nil {
		return skip(err.Error())
	}
	defer cur.db.Close()

	srv, err := startServer(b, path, imapYAML(dovecotEndpoint(d)))
	if err != nil {
		return skip(fmt.Sprintf("start daemon: %v", err))
	}
	defer srv.close()
	var profiled chan error
	if drain && b.imapProfile != "" {
		profiled = make(chan error, 1)
		go func() { profiled <- srv.cpuProfile(b.imapProfile, 2*time.Second) }()
	}
	if err := cur.waitCursor(ctx, last, 30*time.Minute); err != nil {
		return skip(fmt.Sprintf("drain: %v", err))
	}
	el := time.Since(srv.started)
	cpu := srv.cpu()
	if profiled != nil {
		if err := <-profiled; err != nil {
			b.logf("imap: CPU profile of postdesk serve: %v", err)
		}
	}
	if drain {
		pd := rate(n, el)
		rows = append(rows, row{Group: "imap", Name: drainName,
			Result: fmt.Sprintf("postdesk %.0f msgs/s (%s from its start, seen flags set; server CPU %s); bare fetch %.0f msgs/s (%s)",
				pd, el.Round(time.Millisecond), perRequest(cpu, n, "msg"), bareRate, mib(bareBytes)),
			Ratio: ratio(pd, bareRate) + " bare", Target: imapTarget, Met: metStr(pd >= 0.7*bareRate)})
	}
	if !idle {
		return rows
	}
	deliver := func(raw []byte) error { return d.DeliverMaildir([][]byte{raw}) }
	// idleRow measures the idling daemon srv: first what it costs while no
	// mail comes, then the deliveries.
	idleRow := func(name string) row {
		cost := quietCost(b, srv)
		r := measureIdle(ctx, b, dovecotEndpoint(d), deliver, cur, last, n, name, idleTarget)
		if r.Met != "" {
			r.Result += "; while no mail came: " + cost
		}
		return r
	}
	// The daemon is past its drain (or its first pass) and idling.
	rows = append(rows, idleRow(idleName))

	// The same with imap.idle_recheck: the daemon ends IDLE that often,
	// and Dovecot reports new mail in its reply instead of after its
	// notification delay.
	recheckName := fmt.Sprintf("New mail via IDLE with imap.idle_recheck %v: Maildir delivery → committed ticket, %d deliveries", idleRecheck, b.idleDeliveries)
	srv.close()
	last, n = last+uint32(b.idleDeliveries), n+b.idleDeliveries
	if u, err := cur.uid(); err != nil || u != last {
		return append(rows, skipped("idle", recheckName, idleTarget, fmt.Sprintf("the first IDLE row left the cursor at %d, not %d (%v)", u, last, err)))
	}
	srv, err = startServer(b, path, imapYAML(dovecotEndpoint(d), "idle_recheck: "+idleRecheck.String()))
	if err != nil {
		return append(rows, skipped("idle", recheckName, idleTarget, fmt.Sprintf("start daemon: %v", err)))
	}
	defer srv.close()
	if err := srv.waitPolled(ctx); err != nil {
		return append(rows, skipped("idle", recheckName, idleTarget, err.Error()))
	}
	return append(rows, idleRow(recheckName))
}

// quietCost measures the idling daemon for a while: IDLE rechecks a
// second and the CPU time its threads used. It first waits (up to 20 s)
// for the daemon to settle after a drain: returning memory to the system
// takes the runtime a while.
func quietCost(b *bench, srv *server) string {
	// busy is the CPU time the daemon's threads use over d.
	busy := func(d time.Duration) (time.Duration, error) {
		c0, err := srv.ch.runTime()
		if err != nil {
			return 0, err
		}
		time.Sleep(d)
		c1, err := srv.ch.runTime()
		return c1 - c0, err
	}
	quiet := 2 * time.Second
	if b.quick {
		quiet = 300 * time.Millisecond
	}
	for deadline := time.Now().Add(20 * time.Second); !b.quick && time.Now().Before(deadline); {
		if c, err := busy(500 * time.Millisecond); err != nil || c < 5*time.Millisecond {
			break
		}
	}
	rc0, t0 := counterSum(srv, "postdesk_imap_idle_rechecks_total"), time.Now()
	c, err := busy(quiet)
	rc1, el := counterSum(srv, "postdesk_imap_idle_rechecks_total"), time.Since(t0)
	cpu := "unknown"
	if err != nil {
		b.logf("idle: daemon CPU: %v", err)
	} else {
		cpu = fmt.Sprintf("%.2f ms/s", float64(c)/float64(time.Millisecond)/el.Seconds())
	}
	return fmt.Sprintf("%.1f rechecks/s, daemon CPU %s", (rc1-rc0)/el.Seconds(), cpu)
}

// waitPolled waits until the daemon's first IMAP pass succeeded (and it
// is about to idle).
func (s *server) waitPolled(ctx context.Context) error {
	deadline := time.Now().Add(30 * time.Second)
	for counterSum(s, "postdesk_imap_polls_total", "result", "ok") < 1 {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("no successful IMAP pass of the daemon within 30s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // from the pass into IDLE
	return nil
}

// counterSum adds up the counter name of g over the series with the given
// label pairs (all series without any).
func counterSum(g prometheus.Gatherer, name string, labels ...string) float64 {
	mfs, _ := g.Gather()
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				found := false
				for _, lp := range m.GetLabel() {
					if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
						found = true
					}
				}
				if !found {
					continue series
				}
			}
			sum += m.GetCounter().GetValue()
		}
	}
	return sum
}

// measureIdle delivers messages one at a time (deliver) while the daemon
// idles, and times delivery → committed cursor; a bare go-imap client
// idling on the same folder gives the server's own delivery → EXISTS time
// for comparison. target is "" for a row without a target.
func measureIdle(ctx context.Context, b *bench, d endpoint, deliver func([]byte) error, cur *cursorReader, last uint32, count int, name, target string) row {
	exists := make(chan uint32, 64)
	c, _, err := dialIMAP(d, &imapclient.Options{UnilateralDataHandler: &imapclient.UnilateralDataHandler{
		Mailbox: func(m *imapclient.UnilateralDataMailbox) {
			if m.NumMessages != nil {
				select {
				case exists <- *m.NumMessages:
				default:
				}
			}
		}}})
	if err != nil {
		return skipped("idle", name, target, err.Error())
	}
	defer c.Close()
	idleCmd, err := c.Idle()
	if err != nil {
		return skipped("idle", name, target, fmt.Sprintf("bare client idle: %v", err))
	}
	defer func() { idleCmd.Close(); idleCmd.Wait() }()

	var pd, bare latencies
	for i := 1; i <= b.idleDeliveries && ctx.Err() == nil; i++ {
		wantUID, wantCount := last+uint32(i), uint32(count+i)
		t0 := time.Now()
		if err := deliver(b.corpus.next("idle")); err != nil {
			return skipped("idle", name, target, fmt.Sprintf("deliver: %v", err))
		}
		var tExists, tCommit time.Duration
		deadline := time.Now().Add(30 * time.Second)
		tick := time.NewTicker(5 * time.Millisecond) // polling the store
		for (tExists == 0 || tCommit == 0) && time.Now().Before(deadline) {
			select {
			case got := <-exists:
				if got >= wantCount && tExists == 0 {
					tExists = time.Since(t0)
				}
			case <-tick.C:
				if tCommit == 0 {
					if u, err := cur.uid(); err == nil && u >= wantUID {
						tCommit = time.Since(t0)
					}
				}
			}
		}
		tick.Stop()
		if tCommit == 0 {
			return skipped("idle", name, target, fmt.Sprintf("delivery %d not committed within 30s", i))
		}
		pd = append(pd, tCommit)
		if tExists > 0 {
			bare = append(bare, tExists)
		}
	}
	p50, p99 := pd.pct(50), pd.pct(99)
	r := row{Group: "idle", Name: name,
		Result: fmt.Sprintf("postdesk p50 %s, p99 %s; bare IDLE client (delivery → EXISTS, %d seen) p50 %s, p99 %s",
			ms(p50), ms(p99), len(bare), ms(bare.pct(50)), ms(bare.pct(99))),
		Ratio: ratio(float64(p50), float64(bare.pct(50))) + " bare p50", Target: target,
		Met: metStr(p50 < 200*time.Millisecond && p99 < time.Second)}
	if target == "" {
		r.Met = ""
	}
	return r
}
