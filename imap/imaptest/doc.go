// Package imaptest runs real IMAP servers for tests: go-imap's in-process
// imapmemserver (StartMemServer), a private Dovecot instance
// (StartDovecot), and a TCP proxy that can cut or stall connections
// (StartProxy). List inspects a folder over IMAP, whichever server it is.
//
// Everything a helper starts is stopped by t.Cleanup. The package does not
// import postdesk's imap package, so that package's tests can use it.
package imaptest
