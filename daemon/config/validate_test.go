package config

import (
	"strings"
	"testing"
)

// imapOK is a valid IMAP block to build bad variants from.
const imapOK = `host: imap.example.com, username: u, password: p`

func TestUnknownKeysAreNamed(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"colour: red\n", "colour: unknown key"},
		{"http: {listen: '127.0.0.1:1', lisen: x}\n", "http.lisen: unknown key"},
		{"api: {slow_treshold: 2s}\n", "api.slow_treshold: unknown key"},
		{"mailboxes: [{id: 2, mailbox_id: 3}]\n", "mailboxes[0].mailbox_id: unknown key"},
		{"mailboxes: [{id: 2, imap: {" + imapOK + ", pasword: x}}]\n", "mailboxes[0].imap.pasword: unknown key"},
		{"mailboxes: [{id: 2, imap: {" + imapOK + ", oauth: {tokenurl: x}}}]\n", "mailboxes[0].imap.oauth.tokenurl: unknown key"},
		{"mailboxes: [{id: 2, rules: [{header: To, match: x, owner: o, then: y}]}]\n", "mailboxes[0].rules[0].then: unknown key"},
	} {
		_, err := Load(writeConfig(t, tc.yaml), nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want it to contain %q", tc.yaml, err, tc.want)
		}
	}
}

func TestBadValuesAreNamed(t *testing.T) {
	mb := func(s string) string { return "mailboxes: [" + s + "]\n" }
	im := func(s string) string { return mb("{id: 2, imap: {" + imapOK + ", " + s + "}}") }
	for _, tc := range []struct{ name, yaml, want string }{
		{"bad duration", "api: {slow_threshold: 5 parsecs}\n", "api.slow_threshold: invalid duration"},
		{"duration without unit", im("poll_interval: 60"), "mailboxes[0].imap.poll_interval: duration 60 needs a unit"},
		{"zero slow threshold", "api: {slow_threshold: 0s}\n", "api.slow_threshold: must be positive"},
		{"bad size", "import: {max_size: lots}\n", "import.max_size: invalid size"},
		{"negative size", "api: {max_body_size: -1}\n", "api.max_body_size: invalid size"},
		{"sender cap 0", "import: {sender_cap: 0}\n", "import.sender_cap: must not be 0"},
		{"subject tag", "import: {subject_tag: 'ej Tag'}\n", "import.subject_tag:"},
		{"listen", "http: {listen: localhost}\n", "http.listen:"},
		{"listen port", "http: {listen: 'localhost:99999'}\n", "http.listen: port"},
		{"public url", "http: {public_url: 'ftp://x'}\n", "http.public_url:"},
		{"ticket url", "api: {ticket_url: '{public_url}/t'}\n", "api.ticket_url:"},
		{"log level", "log: {level: verbose}\n", "log.level:"},
		{"log format", "log: {format: xml}\n", "log.format:"},
		{"no mailboxes", "mailboxes: []\n", "mailboxes: at least one"},
		{"id zero", mb("{id: 0}"), "mailboxes[0].id: must be a positive number"},
		{"id negative", mb("{id: -4}"), "mailboxes[0].id: must be a positive number"},
		{"id not a number", mb("{id: abc}"), "mailboxes[0].id:"},
		{"duplicate id", mb("{id: 7}, {id: 8}, {id: 7}"), "mailboxes[2].id: 7 is already used by mailboxes[0]"},
		{"assignment", mb("{id: 2, assignment: random}"), "mailboxes[0].assignment:"},
		{"round robin without owners", mb("{id: 2, assignment: round_robin}"), "mailboxes[0].owners:"},
		{"rule action", mb("{id: 2, rules: [{header: To, match: x, action: forward}]}"), "mailboxes[0].rules[0].action:"},
		{"rule regexp", mb("{id: 2, rules: [{header: To, match: '(', action: ignore}]}"), "mailboxes[0].rules[0].match:"},
		{"rule header", mb("{id: 2, rules: [{match: x, action: ignore}]}"), "mailboxes[0].rules[0].header:"},
		{"route sets nothing", mb("{id: 2, rules: [{header: To, match: x}]}"), "mailboxes[0].rules[0].action: route needs"},
		{"tls", im("tls: ssl"), `mailboxes[0].imap.tls: "ssl" is not one of implicit, starttls, none`},
		{"port high", im("port: 70000"), "mailboxes[0].imap.port: 70000"},
		{"port negative", im("port: -1"), "mailboxes[0].imap.port: -1"},
		{"port not a number", im("port: imaps"), "mailboxes[0].imap.port:"},
		{"host", mb("{id: 2, imap: {username: u, password: p}}"), "mailboxes[0].imap.host:"},
		{"after_import", im("after_import: archive"), "mailboxes[0].imap.after_import:"},
		{"move without folder", im("after_import: 'move:'"), "mailboxes[0].imap.after_import: move needs a folder"},
		{"move into itself", im("after_import: 'move:INBOX'"), "mailboxes[0].imap.after_import: moves into the polled folder"},
		{"quarantine folder", im("quarantine_folder: INBOX"), "mailboxes[0].imap.quarantine_folder:"},
		{"poll interval", im("poll_interval: 10ms"), "mailboxes[0].imap.poll_interval:"},
		{"idle recheck short", im("idle_recheck: 10ms"), "mailboxes[0].imap.idle_recheck: 10ms is shorter than 50ms (0 turns it off)"},
		{"idle recheck negative", im("idle_recheck: -1s"), "mailboxes[0].imap.idle_recheck: -1s is shorter than 50ms"},
		{"idle recheck long", im("idle_recheck: 2m"), "mailboxes[0].imap.idle_recheck: 2m0s is not shorter than poll_interval 1m0s"},
		{"idle recheck without idle", im("idle_recheck: 100ms, disable_idle: true"), "mailboxes[0].imap.idle_recheck: needs IDLE, but disable_idle is true"},
		{"batch size", im("batch_size: 5000"), "mailboxes[0].imap.batch_size:"},
		{"command timeout short", im("command_timeout: 1s"), "mailboxes[0].imap.command_timeout: 1s is not between 5s and 10m0s"},
		{"command timeout long", im("command_timeout: 1h"), "mailboxes[0].imap.command_timeout: 1h0m0s is not between"},
		{"auth", im("auth: kerberos"), "mailboxes[0].imap.auth:"},
		{"no password", mb("{id: 2, imap: {host: h, username: u}}"), "mailboxes[0].imap.password:"},
		{"xoauth2 without oauth", mb("{id: 2, imap: {host: h, username: u, auth: xoauth2}}"), "mailboxes[0].imap.oauth: auth xoauth2 needs"},
		{"oauth with login", im("auth: login, oauth: {token_url: 'https://t', client_id: c, refresh_token: r}"), "mailboxes[0].imap.oauth: is only used with auth xoauth2"},
		{"oauth token url", mb("{id: 2, imap: {host: h, username: u, oauth: {token_url: 'token', client_id: c, refresh_token: r}}}"), "mailboxes[0].imap.oauth.token_url:"},
		{"oauth refresh token", mb("{id: 2, imap: {host: h, username: u, oauth: {token_url: 'https://t', client_id: c}}}"), "mailboxes[0].imap.oauth.refresh_token:"},
		{"ca_file with tls none", im("tls: none, ca_file: /x.pem"), "mailboxes[0].imap.ca_file:"},
		{"company", "companies: {'a b': X}\n", "companies:"},
		{"yaml syntax", "http: [\n", "parse yaml"},
	} {
		_, err := Load(writeConfig(t, tc.yaml), nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %q: error %v, want it to contain %q", tc.name, tc.yaml, err, tc.want)
		}
	}
}

// TestAllProblemsAtOnce: one Load reports every problem, not the first.
func TestAllProblemsAtOnce(t *testing.T) {
	_, err := Load(writeConfig(t, `
api: {slow_threshold: soon}
log: {level: loud}
mailboxes:
  - {id: 0}
  - {id: 3, imap: {host: h, username: u, password: p, tls: ssl, port: 0}}
`), nil)
	if err == nil {
		t.Fatal("no error")
	}
	// Decode errors (slow_threshold) stop before validation; check both
	// phases separately.
	if !strings.Contains(err.Error(), "api.slow_threshold") {
		t.Errorf("missing api.slow_threshold in %v", err)
	}
	_, err = Load(writeConfig(t, `
log: {level: loud}
mailboxes:
  - {id: 0}
  - {id: 3, imap: {host: h, username: u, password: p, tls: ssl, after_import: trash}}
`), nil)
	for _, key := range []string{"log.level", "mailboxes[0].id", "mailboxes[1].imap.tls", "mailboxes[1].imap.after_import"} {
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("error %v does not name %s", err, key)
		}
	}
}

func TestIMAPDefaults(t *testing.T) {
	c := mustLoad(t, writeConfig(t, `
mailboxes:
  - {id: 2, imap: {host: a, username: u, password: p}}
  - {id: 3, imap: {host: b, username: u, password: p, tls: starttls}}
  - {id: 4, imap: {host: c, username: u, password: p, tls: none}}
  - {id: 5, imap: {host: d, username: u, password: p, tls: none, port: 1143}}
`), nil)
	for i, want := range []struct {
		tls  string
		port int
	}{{TLSImplicit, 993}, {TLSStartTLS, 143}, {TLSNone, 143}, {TLSNone, 1143}} {
		im := c.Mailboxes[i].IMAP
		if im.TLS != want.tls || im.Port != want.port {
			t.Errorf("mailboxes[%d]: tls %s port %d, want %s %d", i, im.TLS, im.Port, want.tls, want.port)
		}
		if im.Folder != "INBOX" || im.AfterImport != "seen" || im.PollInterval != DefaultPollInterval || im.BatchSize != DefaultBatchSize || im.Auth != AuthLogin || im.CommandTimeout != DefaultCommandTimeout {
			t.Errorf("mailboxes[%d]: defaults not filled in: %+v", i, im)
		}
	}
}

func TestTicketMailboxesRejectsHandMadeMistakes(t *testing.T) {
	c := Default()
	c.Mailboxes = append(c.Mailboxes, Mailbox{ID: 9, Assignment: AssignFixed, Rules: []Rule{{Header: "Subject", Match: "(", Action: ActionIgnore}}})
	if _, err := c.TicketMailboxes(); err == nil || !strings.Contains(err.Error(), "mailboxes[1].rules[0].match") {
		t.Errorf("error %v, want one naming mailboxes[1].rules[0].match", err)
	}
	c.Mailboxes[1].Rules[0].Match = "x"
	tms, err := c.TicketMailboxes()
	if err != nil || len(tms) != 2 || tms[1].Rules[0].Pattern.String() != "x" {
		t.Errorf("TicketMailboxes = %+v, %v", tms, err)
	}
}
