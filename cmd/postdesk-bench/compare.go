package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

// compareConcs are the HTTP load steps --compare measures.
var compareConcs = []int{8, 32, 128}

// build is one side of a comparison.
type build struct {
	name, bin string
	// per step (compareConcs' order), per round
	rate, cpu, p99 [][]float64 // tickets/s, µs of server CPU a ticket (NaN unknown), ms
	errs           int
}

// runCompare measures the HTTP load steps against two binaries, A (--bin,
// or the tree's) and B, in alternating rounds (A B, B A, A B, …), each run
// on a fresh store, with the floor measured at the start of each round.
// A single run on this machine's shared cores moves by ±12 % from one
// minute to the next; a change that moves a step by less than that shows
// only as one build ahead of the other round after round, and in the
// medians. It prints one markdown table.
func runCompare(ctx context.Context, b *bench, binB string, rounds int, stdout io.Writer) error {
	binA, err := buildBinary(b)
	if err != nil {
		return err
	}
	if err := checkBinary(binA); err != nil {
		return err
	}
	sides := []*build{{name: "A", bin: binA}, {name: "B", bin: binB}}
	for _, s := range sides {
		s.rate, s.cpu, s.p99 = make([][]float64, len(compareConcs)), make([][]float64, len(compareConcs)), make([][]float64, len(compareConcs))
	}
	bods, err := newBodies(b.corpus)
	if err != nil {
		return err
	}
	start := time.Now()
	var floors []float64
	for r := range rounds {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		f, err := compareFloor(ctx, b)
		if err != nil {
			return err
		}
		floors = append(floors, f)
		order := sides
		if r%2 == 1 {
			order = []*build{sides[1], sides[0]}
		}
		for _, s := range order {
			b.logf("compare: round %d of %d, build %s (%s)", r+1, rounds, s.name, s.bin)
			if err := compareRun(ctx, b, s, bods); err != nil {
				return fmt.Errorf("round %d, build %s: %w", r+1, s.name, err)
			}
		}
	}

	fmt.Fprintf(stdout, "postdesk-bench --compare %s — %s, %d CPUs (GOMAXPROCS %d), %s; load average %s at the end, CPU pressure (PSI some avg300) %s.\n\n",
		start.UTC().Format("2006-01-02 15:04 MST"), runtime.Version(), runtime.NumCPU(), runtime.GOMAXPROCS(0), cpuModel(), loadAvg(), cpuPressure())
	fmt.Fprintf(stdout, "A: %s\nB: %s\n\n", binA, binB)
	fmt.Fprintf(stdout, "HTTP CreateTicketFromMailData over loopback, %s a step, %d rounds in alternating order (A B, B A, …), each build on a fresh store in each round; the floor (%d mails) measured at the start of each round. Figures per round, then the median (of B/A, the median of the rounds' ratios).\n\n",
		b.dur, rounds, b.floorMails)
	head := "| step | build |"
	sep := "|---|---|"
	for r := range rounds {
		head += fmt.Sprintf(" round %d |", r+1)
		sep += "---|"
	}
	fmt.Fprintln(stdout, head+" median |")
	fmt.Fprintln(stdout, sep+"---|")
	// line prints a row of per-round figures and their median.
	line := func(stepName, who string, xs []float64, format string) {
		cells := make([]string, len(xs))
		for i, x := range xs {
			cells[i] = fmtFig(x, format)
		}
		fmt.Fprintf(stdout, "| %s | %s | %s | %s |\n", stepName, who, strings.Join(cells, " | "), fmtFig(median(xs), format))
	}
	line("floor, mails/s", "—", floors, "%.0f")
	for i, conc := range compareConcs {
		name := fmt.Sprintf("concurrency %d", conc)
		for _, s := range sides {
			line(name+", tickets/s", s.name, s.rate[i], "%.0f")
		}
		line(name+", tickets/s", "B/A", pairRatios(sides[1].rate[i], sides[0].rate[i]), "%.2f×")
		for _, s := range sides {
			line(name+", server CPU µs a ticket", s.name, s.cpu[i], "%.0f")
		}
		for _, s := range sides {
			line(name+", p99 ms", s.name, s.p99[i], "%.1f")
		}
		if conc == 32 {
			for _, s := range sides {
				line(name+", ÷ the round's floor", s.name, pairRatios(s.rate[i], floors), "%.2f×")
			}
		}
	}
	fmt.Fprintf(stdout, "\nErrors: A %d, B %d. Total run time %s.\n", sides[0].errs, sides[1].errs, time.Since(start).Round(time.Second))
	return nil
}

// checkBinary says why p cannot be a postdesk binary to run, if it cannot.
func checkBinary(p string) error {
	st, err := os.Stat(p)
	switch {
	case err != nil:
		return err
	case st.IsDir():
		return fmt.Errorf("%s is a directory, not a postdesk binary", p)
	case st.Mode().Perm()&0o111 == 0:
		return fmt.Errorf("%s is not executable", p)
	}
	return nil
}

// compareFloor measures the floor in a directory of its own.
func compareFloor(ctx context.Context, b *bench) (float64, error) {
	dir, err := os.MkdirTemp(b.dir, "floor-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	f, err := runFloor(ctx, b.corpus, dir, b.floorMails)
	if err != nil {
		return 0, err
	}
	return f.mailsPerS, nil
}

// compareRun starts s's daemon on a fresh store, drives each step and
// appends the figures to s.
func compareRun(ctx context.Context, b *bench, s *build, bods *bodies) error {
	dir, err := os.MkdirTemp(b.dir, "compare-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir) // the store: some 100 MB a step
	srv, err := startServerBin(b, s.bin, filepath.Join(dir, "http.db"), "")
	if err != nil {
		return fmt.Errorf("start daemon: %w", err)
	}
	defer srv.close()
	for i, conc := range compareConcs {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		st := httpStep(b, srv, bods, conc, false)
		cpu := math.NaN()
		if st.cpu >= 0 && st.l.n > 0 {
			cpu = float64(st.cpu.Microseconds()) / float64(st.l.n)
		}
		s.rate[i] = append(s.rate[i], st.l.perSec())
		s.cpu[i] = append(s.cpu[i], cpu)
		s.p99[i] = append(s.p99[i], float64(st.l.lat.pct(99))/float64(time.Millisecond))
		s.errs += st.l.errs
	}
	return nil
}

// median of the known (not NaN) values; NaN when there are none.
func median(xs []float64) float64 {
	var s []float64
	for _, x := range xs {
		if !math.IsNaN(x) {
			s = append(s, x)
		}
	}
	if len(s) == 0 {
		return math.NaN()
	}
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// pairRatios is a[i]/b[i] for each i (NaN where b[i] is not positive).
func pairRatios(a, b []float64) []float64 {
	out := make([]float64, min(len(a), len(b)))
	for i := range out {
		out[i] = math.NaN()
		if b[i] > 0 {
			out[i] = a[i] / b[i]
		}
	}
	return out
}

// fmtFig renders x with format, "?" when unknown.
func fmtFig(x float64, format string) string {
	if math.IsNaN(x) {
		return "?"
	}
	return fmt.Sprintf(format, x)
}
