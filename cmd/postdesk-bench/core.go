package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"time"

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

// benchSenderCap replaces the sender cap (default 50 new tickets an hour):
// the corpus mix repeats its senders far more often, and the cap's
// quarantine path is not what is measured; its count query still runs.
const benchSenderCap = 1_000_000_000

// openCore opens a store at path and the import core on it.
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
	svc, err := ticket.NewService(ticket.Options{Repo: st, Mailboxes: mbs, SenderCap: benchSenderCap,
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
	if b.memProfile != "" {
		// The allocation profile is cumulative: FILE.base lets
		// "go tool pprof -diff_base FILE.base FILE" show the core rows alone.
		writeAllocs(b.memProfile + ".base")
	}
	var rows []row
	for _, conc := range []int{1, 8, 32} {
		before := commitStats(env.reg)
		l := drive(b.dur, conc, func() error {
			_, err := env.svc.Import(context.Background(), ticket.ImportRequest{
				MailboxID: benchMailbox, Raw: b.corpus.next("core"), Source: ticket.SourceCLI})
			return err
		})
		after := commitStats(env.reg)
		name := "Core: import in-process, sequential"
		if conc > 1 {
			name = fmt.Sprintf("Core: import in-process, %d concurrent callers", conc)
		}
		res := fmt.Sprintf("%.0f mails/s (p50 %s, p99 %s, %d errors; %s)",
			l.perSec(), ms(l.lat.pct(50)), ms(l.lat.pct(99)), l.errs, after.describe(before, l.elapsed))
		if l.firstEr != nil {
			b.logf("core c=%d: first error: %v", conc, l.firstEr)
		}
		rows = append(rows, row{Group: "core", Name: name, Result: res, Ratio: ratio(l.perSec(), floor) + " floor"})
	}
	if b.memProfile != "" {
		writeAllocs(b.memProfile)
	}
	return rows
}

// commitSnap is a reading of the store's commit histograms.
type commitSnap struct{ batchSum, commits, seconds float64 }

func commitStats(g prometheus.Gatherer) commitSnap {
	var c commitSnap
	mfs, _ := g.Gather()
	for _, mf := range mfs {
		if len(mf.GetMetric()) == 0 {
			continue
		}
		h := mf.GetMetric()[0].GetHistogram()
		switch mf.GetName() {
		case "postdesk_store_commit_batch_size":
			c.batchSum, c.commits = h.GetSampleSum(), float64(h.GetSampleCount())
		case "postdesk_store_commit_duration_seconds":
			c.seconds = h.GetSampleSum()
		}
	}
	return c
}

// describe renders the commits between two readings over elapsed: mean
// batch size, mean commit duration and how busy the single committer was.
func (a commitSnap) describe(before commitSnap, elapsed time.Duration) string {
	n := a.commits - before.commits
	if n <= 0 {
		return "no commits"
	}
	secs := a.seconds - before.seconds
	return fmt.Sprintf("%.0f commits, mean batch %.1f, mean commit %s, committer busy %.0f%%",
		n, (a.batchSum-before.batchSum)/n, ms(time.Duration(secs/n*float64(time.Second))), 100*secs/elapsed.Seconds())
}

// writeAllocs writes the allocation profile so far to path, after a GC:
// the profile shows allocations as of the last completed cycle.
func writeAllocs(path string) {
	runtime.GC()
	f, err := os.Create(path)
	if err != nil {
		return
	}
	_ = pprof.Lookup("allocs").WriteTo(f, 0)
	f.Close()
}

// startProfile starts a CPU profile of this process into path; the
// returned func stops it.
func startProfile(path string) func() {
	f, err := os.Create(path)
	if err != nil {
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return func() {}
	}
	return func() { pprof.StopCPUProfile(); f.Close() }
}
