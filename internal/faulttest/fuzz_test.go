package faulttest

import (
	"context"
	"os"
	"testing"

	"github.com/postdesk/postdesk/ticket"
)

// FuzzImport runs the parser and the import transaction on a real store:
// no panic, only documented errors, and an imported mail imported again is
// a duplicate of the same ticket, its raw message stored exactly. Seeded from the shared corpora and the
// hostile mails.
//
//	go test -run XXX -fuzz FuzzImport -fuzztime 10m ./internal/faulttest/
func FuzzImport(f *testing.F) {
	for _, p := range corpusFiles(f) {
		if raw, err := os.ReadFile(p); err == nil && len(raw) < 256<<10 {
			f.Add(raw)
		}
	}
	for _, mc := range mailCases {
		if raw := mc.mail("fuzz-seed@x"); len(raw) < 256<<10 {
			f.Add(raw)
		}
	}
	f.Add(testMail("fuzz@x", "hello", "a@b.example"))
	imp := newImporter(f, f.TempDir())
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, raw []byte) {
		res, err := imp.svc.Import(ctx, ticket.ImportRequest{MailboxID: 607, Raw: raw, Source: ticket.SourceHTTP})
		if err != nil {
			if !allowedImportErr(err) {
				t.Fatalf("Import: %v", err)
			}
			return
		}
		if res.Outcome != ticket.OutcomeCreated && res.Outcome != ticket.OutcomeAppended {
			return
		}
		checkRaw(t, imp.st, res.MessageID, raw)
		again, err := imp.svc.Import(ctx, ticket.ImportRequest{MailboxID: 607, Raw: raw, Source: ticket.SourceHTTP})
		if err != nil {
			t.Fatalf("second Import: %v", err)
		}
		if again.Outcome != ticket.OutcomeDuplicate || again.Info.TicketID != res.Info.TicketID {
			t.Fatalf("second Import = %v ticket %d, want duplicate of ticket %d", again.Outcome, again.Info.TicketID, res.Info.TicketID)
		}
	})
}
