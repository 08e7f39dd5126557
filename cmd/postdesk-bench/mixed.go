package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"
)

// mixedConc is the HTTP concurrency of the mixed row: a desk's manual
// imports and CRM calls, not a load test.
const mixedConc = 8

// runMixed measures what a backlog drain does to manual imports: HTTP at
// concurrency mixedConc against postdesk serve while the same daemon's
// IMAP poller drains imapMessages messages from Dovecot, then the same
// HTTP load alone on that daemon for as long as the drain took.
func runMixed(ctx context.Context, b *bench) []row {
	name := fmt.Sprintf("Mixed: HTTP at concurrency %d to postdesk serve while it drains %d IMAP messages, then alone", mixedConc, b.imapMessages)
	skip := func(reason string) []row { return []row{skipped("mixed", name, "", reason)} }
	d, stop, err := startDovecot()
	if err != nil {
		return skip(err.Error())
	}
	defer stop()
	last, err := fillDovecot(b, d, b.imapMessages, "mixed")
	if err != nil {
		return skip(err.Error())
	}
	path := filepath.Join(b.dir, "mixed.db")
	cur, err := openCursor(path)
	if err != nil {
		return skip(err.Error())
	}
	defer cur.db.Close()
	bods, err := newBodies(b.corpus)
	if err != nil {
		return skip(err.Error())
	}

	// The poller starts with the daemon; the HTTP load starts as soon as
	// the daemon answers /healthz and stops when the cursor reaches the
	// last UID.
	srv, err := startServer(b, path, imapYAML(dovecotEndpoint(d)))
	if err != nil {
		return skip(fmt.Sprintf("start daemon: %v", err))
	}
	defer srv.close()
	client := srv.client(mixedConc)
	defer client.closeIdle()
	drained := make(chan struct{})
	var drainErr error
	go func() {
		drainErr = cur.waitCursor(ctx, last, 30*time.Minute)
		close(drained)
	}()
	during := driveUntil(drained, mixedConc, func() error { return client.post(bods.next("mixed")...) })
	drain := time.Since(srv.started)
	if drainErr != nil {
		return skip(fmt.Sprintf("drain: %v", drainErr))
	}
	alone := drive(during.elapsed, mixedConc, func() error { return client.post(bods.next("mixed")...) })
	for _, l := range []load{during, alone} {
		if l.firstEr != nil {
			b.logf("mixed: first error: %v", l.firstEr)
		}
	}
	return []row{{Group: "mixed", Name: name,
		Result: fmt.Sprintf("during the drain: %.0f tickets/s, p50 %s, p99 %s, %d errors; drain %.0f msgs/s (%s from start); alone: %.0f tickets/s, p50 %s, p99 %s, %d errors",
			during.perSec(), ms(during.lat.pct(50)), ms(during.lat.pct(99)), during.errs,
			rate(b.imapMessages, drain), drain.Round(time.Millisecond),
			alone.perSec(), ms(alone.lat.pct(50)), ms(alone.lat.pct(99)), alone.errs),
		Ratio: fmt.Sprintf("%.2f× alone p99", float64(during.lat.pct(99))/float64(max(1, alone.lat.pct(99))))}}
}
