// Package imap polls IMAP mailboxes and hands every new message to a Sink.
//
// A Pool runs one isolated worker goroutine per configured mailbox. A worker
// dials the server (implicit TLS, STARTTLS or, only when configured
// explicitly, plaintext), authenticates (LOGIN, AUTHENTICATE PLAIN or
// XOAUTH2 with refreshed OAuth tokens), selects the folder and compares its
// UIDVALIDITY (RFC 9051 §2.3.1.1) with the cursor the Sink has stored. It
// then fetches every message above the cursor in UID order, in batches, with
// RFC822.SIZE checked before any body is downloaded, and delivers each one.
// A fetched group is delivered while the next one downloads (pipeline.go);
// deliveries still commit in UID order, each only after the one before it
// has committed all of its messages.
//
// Two phases, one truth: the post-import action (flag \Seen, move, or delete
// and expunge) runs only after Sink.Deliver has returned nil, which promises
// that the message and the cursor are durably committed together. A crash
// between commit and acknowledgement leaves a message on the server that the
// cursor already covers; a crash before the commit leaves the cursor behind,
// so the message is fetched again and the Sink deduplicates it.
//
// After a pass the worker waits in IDLE when the server offers it (restarted
// before Config.IdleRestart, and every Config.IdleRecheck when set, so that
// a server that holds IDLE notifications back reports new mail at once) or
// for Config.PollInterval otherwise. Every
// network step runs under a watchdog that closes the connection when the
// server stalls; a failed session is retried with capped exponential backoff
// and jitter. The package knows nothing of tickets or SQL.
package imap
