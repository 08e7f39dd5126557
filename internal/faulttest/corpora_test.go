package faulttest

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/postdesk/postdesk/daemon"
	"github.com/postdesk/postdesk/daemon/config"
	"github.com/postdesk/postdesk/store"
	"github.com/postdesk/postdesk/ticket"
)

// corporaDir is the shared mail corpora (never copied into the repo).
const corporaDir = "../../../shared/corpora"

// corpusFiles returns every regular file under the corpora, or nil.
func corpusFiles(t testing.TB) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(corporaDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			files = append(files, p)
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return files
}

// importer is the import core on a real store, configured like the daemon
// with one mailbox 607 and no sender cap.
type importer struct {
	st  *store.Store
	svc *ticket.Service
}

func newImporter(t testing.TB, dir string) *importer {
	t.Helper()
	cfg := config.Default()
	cfg.Import.SenderCap = -1
	cfg.Mailboxes = []config.Mailbox{{ID: 607, Name: "support", Address: "support@example.com"}}
	mbs, err := cfg.TicketMailboxes()
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(filepath.Join(dir, "postdesk.db"), store.Options{Logger: discardLog()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.SyncMailboxes(context.Background(), mbs); err != nil {
		t.Fatal(err)
	}
	svc, err := ticket.NewService(daemon.ServiceOptions(cfg, st, mbs, discardLog(), nil))
	if err != nil {
		t.Fatal(err)
	}
	return &importer{st: st, svc: svc}
}

// checkRaw fails t unless the stored message id gives raw back exactly
// (ticket.RawHole: attachments' base64 is kept in their blobs).
func checkRaw(t testing.TB, st *store.Store, id int64, raw []byte) {
	t.Helper()
	got, err := st.RawMessage(context.Background(), id)
	if err != nil {
		t.Fatalf("RawMessage(%d): %v", id, err)
	}
	if !bytes.Equal(got, raw) {
		t.Fatalf("RawMessage(%d) gave %d bytes that differ from the %d imported", id, len(got), len(raw))
	}
}

// allowedImportErr reports whether err is an answer the core may give to
// bad input (anything else — and any panic — is a bug).
func allowedImportErr(err error) bool {
	for _, e := range []error{ticket.ErrNotMail, ticket.ErrTooLarge, ticket.ErrQuarantined, ticket.ErrSenderOverCap} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// TestCorporaImport imports every file of the shared corpora (mail or
// not) through the import core on a real store: no panic, only the
// documented errors, the stored raw message the file byte for byte, and a
// second import of each adds nothing.
func TestCorporaImport(t *testing.T) {
	t.Parallel()
	files := corpusFiles(t)
	if len(files) == 0 {
		t.Skipf("%s is absent: skipping the corpus import", corporaDir)
	}
	imp := newImporter(t, t.TempDir())
	ctx := context.Background()
	survived, dup := 0, 0
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		res, err := imp.svc.Import(ctx, ticket.ImportRequest{MailboxID: 607, Raw: raw, Source: ticket.SourceCLI})
		if err != nil && !allowedImportErr(err) {
			t.Errorf("%s: %v", f, err)
			continue
		}
		survived++
		if err != nil || res.Outcome == ticket.OutcomeQuarantined || res.Outcome == ticket.OutcomeIgnored {
			continue
		}
		if res.Outcome != ticket.OutcomeDuplicate {
			checkRaw(t, imp.st, res.MessageID, raw)
		}
		again, err := imp.svc.Import(ctx, ticket.ImportRequest{MailboxID: 607, Raw: raw, Source: ticket.SourceCLI})
		if err != nil || again.Outcome != ticket.OutcomeDuplicate {
			dup++
			t.Errorf("%s: second import: %v %v, want duplicate", f, again, err)
		}
	}
	record(t, "corpora files imported (no panic)", len(files), survived, 0, dup)
}
