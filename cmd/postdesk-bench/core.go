package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/pprof"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/postdesk/postdesk/store"
	"github.com/postdesk/postdesk/ticket"
)

// benchMailbox is the mailbox every benchmark imports into.
const benchMailbox = 1

// coreEnv is the import core on its own on-disk store.
type coreEnv struct {
	store *store.Store
	svc   *ticket.Service
	reg   *prometheus.Registry
}

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// openCore opens a store at path and the import core on it, with the sender
// cap off: the corpus mix repeats its senders far more often than 50 an
// hour, and the cap's quarantine path is not what is measured.
func openCore(path string) (*coreEnv, error) {
	reg := prometheus.NewRegistry()
	st, err := store.Open(path, store.Options{Logger: quietLogger(), Registerer: reg})
	if err != nil {
		return nil, err
	}
	mbs := []ticket.Mailbox{{ID: benchMailbox, Name: "bench", Address: "support@bench.postdesk.invalid",
		Category: "Support", Priority: "Medium", Owner: "Agent"}}
	if err := st.SyncMailboxes(context.Background(), mbs); err != nil {
		st.Close()
		return nil, err
	}
	svc, err := ticket.NewService(ticket.Options{Repo: st, Mailboxes: mbs, SenderCap: -1,
		Logger: quietLogger(), Registerer: reg})
	if err != nil {
		st.Close()
		return nil, err
	}
	return &coreEnv{store: st, svc: svc, reg: reg}, nil
}

// runCore imports the corpus mix in-process at each concurrency.
func runCore(b *bench, floor float64) []row {
	path := filepath.Join(b.dir, "core.db")
	env, err := openCore(path)
	if err != nil {
		return []row{skipped("core", "Core", "", fmt.Sprintf("open: %v", err))}
	}
	defer env.store.Close()
	if b.cpuProfile != "" {
		defer startProfile(b.cpuProfile)()
	}
	var rows []row
	for _, conc := range []int{1, 8, 32} {
		before := batchStats(env.reg)
		l := drive(b.dur, conc, func() error {
			_, err := env.svc.Import(context.Background(), ticket.ImportRequest{
				MailboxID: benchMailbox, Raw: b.corpus.next("core"), Source: ticket.SourceCLI})
			return err
		})
		after := batchStats(env.reg)
		name := "Core: import in-process, sequential"
		if conc > 1 {
			name = fmt.Sprintf("Core: import in-process, %d concurrent callers", conc)
		}
		res := fmt.Sprintf("%.0f mails/s (p50 %s, p99 %s, %d errors; mean commit batch %.1f)",
			l.perSec(), ms(l.lat.pct(50)), ms(l.lat.pct(99)), l.errs, after.mean(before))
		if l.firstEr != nil {
			b.logf("core c=%d: first error: %v", conc, l.firstEr)
		}
		rows = append(rows, row{Group: "core", Name: name, Result: res, Ratio: ratio(l.perSec(), floor) + " floor"})
	}
	if b.memProfile != "" {
		if f, err := os.Create(b.memProfile); err == nil {
			_ = pprof.Lookup("allocs").WriteTo(f, 0)
			f.Close()
		}
	}
	return rows
}

// batchSnap is a reading of the commit batch histogram.
type batchSnap struct{ sum, count float64 }

func batchStats(reg *prometheus.Registry) batchSnap {
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() == "postdesk_store_commit_batch_size" && len(mf.GetMetric()) > 0 {
			h := mf.GetMetric()[0].GetHistogram()
			return batchSnap{h.GetSampleSum(), float64(h.GetSampleCount())}
		}
	}
	return batchSnap{}
}

// mean is the mean batch size between two readings.
func (a batchSnap) mean(before batchSnap) float64 {
	if a.count <= before.count {
		return 0
	}
	return (a.sum - before.sum) / (a.count - before.count)
}
