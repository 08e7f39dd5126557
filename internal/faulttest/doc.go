// Package faulttest holds postdesk's fault and attack tests: the crash test
// (kill -9 of the real binary while it drains a real Dovecot), network
// faults between the daemon and its IMAP servers, store faults (disk full),
// a table of hostile input through the HTTP API and the IMAP path, security
// checks (secrets in logs, brute-force throttling, HTML sanitizing) and the
// FuzzImport fuzz target.
//
// The package has no code of its own outside its tests; it imports every
// other package and none imports it. The CI-length tests run with
//
//	go test ./internal/faulttest/
//
// and the long variants (2,000 mails and 20 kills per crash run, the
// stalled-server test that waits out the 60 s IMAP command timeout) with
//
//	POSTDESK_LONG=1 go test -count=1 -timeout 30m -v ./internal/faulttest/
//
// or the flag -faulttest.long after the package path. The 10-minute fuzz
// run is
//
//	go test -run XXX -fuzz FuzzImport -fuzztime 10m ./internal/faulttest/
//
// Tests that need root (Dovecot, a tmpfs mount) or the shared corpora skip
// with a message when those are missing. With -v, TestMain prints a table of
// every fault or input class: tried, survived, lost, duplicated.
package faulttest
