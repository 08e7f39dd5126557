package imap

import (
	"strings"
	"testing"

	"github.com/postdesk/postdesk/imap/imaptest"
)

func TestTLS(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		implicit   bool // server side
		serverTLS  bool // server offers TLS at all
		mode       string
		useCA      bool
		serverName string
		wantErr    string // "" = delivers
	}{
		{"implicit", true, true, TLSImplicit, true, "", ""},
		{"starttls", false, true, TLSStartTLS, true, "", ""},
		{"implicit-untrusted", true, true, TLSImplicit, false, "", "certificate"},
		{"starttls-untrusted", false, true, TLSStartTLS, false, "", "certificate"},
		{"wrong-server-name", true, true, TLSImplicit, true, "imap.example.net", "certificate"},
		{"starttls-not-offered", false, false, TLSStartTLS, true, "", "starttls"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			serverConf, caFile := imaptest.SelfSigned(t, "127.0.0.1")
			opts := &imaptest.MemOptions{ImplicitTLS: tc.implicit}
			if tc.serverTLS {
				opts.TLSConfig = serverConf
			}
			srv := startMem(t, opts)
			if err := srv.Append("u", "INBOX", mail(1, tc.name)); err != nil {
				t.Fatal(err)
			}
			sink := newSink(t)
			h := newHarness(t, sink, nil)
			cfg := memConfig(1, srv.Host, srv.Port)
			cfg.TLS = tc.mode
			cfg.ServerName = tc.serverName
			if tc.useCA {
				cfg.CAFile = caFile
			}
			h.set(cfg)
			if tc.wantErr == "" {
				waitFor(t, sink, patience, "delivery over TLS", func() bool { return sink.count(1) == 1 })
				return
			}
			waitFor(t, sink, patience, "a TLS failure", func() bool {
				return strings.Contains(strings.ToLower(h.status(1).LastError), tc.wantErr)
			})
			if sink.count(1) != 0 {
				t.Error("delivered over an unverified connection")
			}
		})
	}
}
