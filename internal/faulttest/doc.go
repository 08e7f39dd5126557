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
// and the long variants (2,000 mails and 20 kills in the crash test, the
// stalled-server test that waits out the 60 s command timeout, the 200 MB
// header line through the IMAP path) with
//
//	go test -run . -timeout 30m ./internal/faulttest/ -faulttest.long
//
// or POSTDESK_LONG=1 in the environment. With -v, TestMain prints a table of
// every fault or input class: tried, survived, lost, duplicated.
package faulttest
