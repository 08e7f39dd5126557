package ticket_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/postdesk/postdesk/store"
	"github.com/postdesk/postdesk/ticket"
)

// A batch larger than one run is committed in runs of at most 50 mails, in
// order, each with the cursor of its last mail: other imports wait for one
// run, not for the whole FETCH batch.
func TestImportBatchCommitsInRuns(t *testing.T) {
	reg := prometheus.NewRegistry()
	st, err := store.Open(filepath.Join(t.TempDir(), "postdesk.db"), store.Options{Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	svc, err := ticket.NewService(ticket.Options{Repo: st, Mailboxes: []ticket.Mailbox{support},
		SenderCap: 1000, Now: func() time.Time { return time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	commits := func() uint64 {
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() == "postdesk_store_commit_batch_size" {
				return mf.GetMetric()[0].GetHistogram().GetSampleCount()
			}
		}
		return 0
	}
	const n = 120
	var reqs []ticket.ImportRequest
	for i := range n {
		reqs = append(reqs, ticket.ImportRequest{MailboxID: 607, Source: ticket.SourceIMAP,
			Raw:    msg(fmt.Sprintf("c%d@acme.example", i), fmt.Sprintf("run %d", i), fmt.Sprintf("run-%d@x", i)),
			Cursor: &ticket.Cursor{MailboxID: 607, UIDValidity: 9, UID: uint32(i + 1)}})
	}
	before := commits()
	res, err := svc.ImportBatch(context.Background(), reqs)
	if err != nil || len(res) != n {
		t.Fatalf("%d results, %v", len(res), err)
	}
	for i, r := range res {
		if r.Outcome != ticket.OutcomeCreated {
			t.Fatalf("mail %d: %s", i, r.Outcome)
		}
	}
	if got := commits() - before; got != 3 {
		t.Errorf("%d commits for %d mails, want 3 (50 + 50 + 20)", got, n)
	}
	if cur, _ := st.Cursor(context.Background(), 607); cur.UID != n {
		t.Errorf("cursor %+v, want UID %d", cur, n)
	}
}
