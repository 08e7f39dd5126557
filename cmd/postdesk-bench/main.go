// Command postdesk-bench measures postdesk against the floor of what the
// machine can do (make bench): the import core in-process, the HTTP API over
// loopback, IMAP draining and IDLE latency against a local Dovecot, the real
// binary's memory, and the HTTP rate with a large store. It prints one
// markdown table; every figure in it was measured in the run, and rows that
// could not be measured say why.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"time"

	"github.com/postdesk/postdesk/daemon"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// groups are the table's row groups in order, with their numbers.
var groups = []string{"floor", "core", "http", "imap", "idle", "memory", "scale", "mixed"}

// bench is one run's settings and shared state.
type bench struct {
	dir            string // scratch directory, removed at the end
	corpus         *corpus
	dur            time.Duration // per load measurement
	quick          bool
	floorMails     int
	imapMessages   int
	idleDeliveries int
	scaleTickets   int
	cpuProfile     string
	memProfile     string
	httpProfile    string
	imapProfile    string
	bin            string // postdesk binary for the memory rows; "" builds one
	stderr         io.Writer
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.stderr, "postdesk-bench: "+format+"\n", args...)
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("postdesk-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	quick := fs.Bool("quick", false, "a fast subset for CI (under 2 minutes): shorter runs, fewer messages, 100,000 tickets for scale")
	only := fs.String("only", "", "comma-separated row groups or numbers to run: "+strings.Join(groups, ",")+" (1-8); default all")
	corpusDir := fs.String("corpus", "../shared/corpora", "the shared mail corpora")
	dur := fs.Duration("duration", 0, "length of each load measurement (default 10s, 2s with --quick)")
	floorN := fs.Int("floor-mails", 0, "mails the floor parses and inserts (default 20000, 10000 with --quick)")
	imapN := fs.Int("imap-messages", 0, "messages in Dovecot for the IMAP drain (default 10000, 500 with --quick)")
	idleN := fs.Int("idle-deliveries", 0, "deliveries for the IDLE latency (default 100, 10 with --quick)")
	scaleN := fs.Int("scale-tickets", 0, "tickets in the store for the scale row (default 1000000, 100000 with --quick)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the core rows to `file`")
	memProfile := fs.String("memprofile", "", "write an allocation profile after the core rows to `file` (and the one before them to file.base, for pprof -diff_base)")
	httpProfile := fs.String("http-cpuprofile", "", "write a CPU profile of postdesk serve during the HTTP concurrency-32 step to `file`")
	imapProfile := fs.String("imap-cpuprofile", "", "write a CPU profile of postdesk serve during the first 2 s of the IMAP drain to `file`")
	bin := fs.String("bin", "", "postdesk binary for the rows that run the daemon (default: go build ./cmd/postdesk)")
	compare := fs.String("compare", "", "instead of the table, measure the HTTP load steps against --bin (A) and this postdesk binary (B) in alternating rounds, and print both builds' figures and their medians")
	rounds := fs.Int("rounds", 3, "rounds of --compare")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "postdesk-bench: unexpected arguments %q\n", fs.Args())
		return 2
	}
	if *compare != "" && (*only != "" || *rounds < 1) {
		fmt.Fprintf(stderr, "postdesk-bench: --compare runs the HTTP load steps only (no --only) in one or more --rounds\n")
		return 2
	}
	if *compare != "" {
		if err := checkBinary(*compare); err != nil {
			fmt.Fprintf(stderr, "postdesk-bench: --compare: %v\n", err)
			return 2
		}
	}
	want, err := selectGroups(*only)
	if err != nil {
		fmt.Fprintf(stderr, "postdesk-bench: --only: %v\n", err)
		return 2
	}
	b := &bench{dur: *dur, quick: *quick, floorMails: *floorN, imapMessages: *imapN, idleDeliveries: *idleN, scaleTickets: *scaleN,
		cpuProfile: *cpuProfile, memProfile: *memProfile, httpProfile: *httpProfile, imapProfile: *imapProfile, bin: *bin, stderr: stderr}
	b.defaults()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if b.dir, err = os.MkdirTemp("", "postdesk-bench-"); err != nil {
		fmt.Fprintf(stderr, "postdesk-bench: %v\n", err)
		return 1
	}
	defer os.RemoveAll(b.dir)
	if b.corpus, err = loadCorpus(*corpusDir); err != nil {
		fmt.Fprintf(stderr, "postdesk-bench: %v\n", err)
		return 1
	}
	b.logf("corpus: %d mails (%s, mean %d bytes), %d rejected by the parser and left out",
		len(b.corpus.mails), mib(b.corpus.bytes), b.corpus.meanSize(), b.corpus.skipped)

	if *compare != "" {
		if err := runCompare(ctx, b, *compare, *rounds, stdout); err != nil {
			fmt.Fprintf(stderr, "postdesk-bench: --compare: %v\n", err)
			return 1
		}
		return 0
	}

	// The in-process rows run the daemon's code with the daemon's
	// collector settings (the load generator, in the same process, too).
	gc := daemon.TuneGC(os.LookupEnv)
	start := time.Now()
	loadBefore, cpuBefore := loadAvg(), cpuPressure()
	rows := b.runAll(ctx, want)
	fmt.Fprintf(stdout, "postdesk-bench %s — %s, %d CPUs (GOMAXPROCS %d), %s. The cores are shared with other work: load average %s at the start, %s at the end; CPU pressure (PSI some avg300) %s at the start, %s at the end.\n\n",
		start.UTC().Format("2006-01-02 15:04 MST"), runtime.Version(), runtime.NumCPU(), runtime.GOMAXPROCS(0), cpuModel(),
		loadBefore, loadAvg(), cpuBefore, cpuPressure())
	fmt.Fprintf(stdout, "Corpus mix: %d mails of the shared corpora (zammad, hunnysoft-zbateson, mime4j; mean %d bytes), each copy with a fresh Message-ID. Load runs %s per step; the load generator shares the machine's cores with the server. Sender cap raised to 10^9 (the mix repeats senders; the cap's count query still runs). Every row but the floor and the core runs the real binary (postdesk serve in a child process, its collector settings %s, the daemon's defaults); the HTTP load generator posts prebuilt requests over keep-alive connections. The core rows run the import core in-process with the same settings, shared with the load generator.\n\n",
		len(b.corpus.mails), b.corpus.meanSize(), b.dur, gc)
	writeTable(stdout, rows)
	fmt.Fprintf(stdout, "\nTotal run time %s.\n", time.Since(start).Round(time.Second))
	return 0
}

// defaults fills in the sizes that depend on --quick.
func (b *bench) defaults() {
	pick := func(v *int, full, quick int) {
		if *v <= 0 {
			*v = full
			if b.quick {
				*v = quick
			}
		}
	}
	pick(&b.floorMails, 20000, 10000)
	pick(&b.imapMessages, 10000, 500)
	pick(&b.idleDeliveries, 100, 10)
	pick(&b.scaleTickets, 1_000_000, 100_000)
	if b.dur <= 0 {
		b.dur = 10 * time.Second
		if b.quick {
			b.dur = 2 * time.Second
		}
	}
}

// selectGroups parses --only.
func selectGroups(only string) (map[string]bool, error) {
	want := map[string]bool{}
	if strings.TrimSpace(only) == "" {
		for _, g := range groups {
			want[g] = true
		}
		return want, nil
	}
	for _, f := range strings.Split(only, ",") {
		f = strings.ToLower(strings.TrimSpace(f))
		found := false
		for i, g := range groups {
			if f == g || f == fmt.Sprint(i+1) {
				want[g], found = true, true
			}
		}
		if !found {
			return nil, fmt.Errorf("unknown row group %q (want %s or 1-8)", f, strings.Join(groups, ","))
		}
	}
	return want, nil
}

// runAll measures the selected groups in table order.
func (b *bench) runAll(ctx context.Context, want map[string]bool) []row {
	var rows []row
	floor := 0.0
	if want["floor"] || want["core"] || want["http"] {
		b.logf("floor: go-message parse + raw insert")
		f, err := runFloor(ctx, b.corpus, b.dir, b.floorMails)
		if err != nil {
			rows = append(rows, skipped("floor", "Floor", "", err.Error()))
		} else {
			floor = f.mailsPerS
			rows = append(rows, row{Group: "floor",
				Name: "Floor: go-message full parse (all cores) + 1 raw insert/mail, SQLite WAL synchronous=FULL, commit every 64 (no memory limit: it holds its input in memory)",
				Result: fmt.Sprintf("%.0f mails/s (%d mails in %s; parse alone %.0f mails/s; %d mails go-message could not fully parse)",
					f.mailsPerS, f.mails, f.elapsed.Round(time.Millisecond), f.parseOnlyS, f.parseErrs),
				Ratio: "1.00× floor"})
		}
	}
	for _, g := range groups[1:] {
		if !want[g] || ctx.Err() != nil {
			continue
		}
		b.logf("%s", g)
		switch g {
		case "core":
			rows = append(rows, runCore(b, floor)...)
		case "http":
			rows = append(rows, runHTTP(ctx, b, floor)...)
		case "imap":
			rows = append(rows, runIMAP(ctx, b, true, want["idle"])...)
		case "idle":
			if !want["imap"] {
				rows = append(rows, runIMAP(ctx, b, false, true)...)
			}
			rows = append(rows, runIdleMem(ctx, b))
		case "memory":
			rows = append(rows, runMemory(ctx, b)...)
		case "scale":
			rows = append(rows, runScale(ctx, b)...)
		case "mixed":
			rows = append(rows, runMixed(ctx, b)...)
		}
	}
	if ctx.Err() != nil {
		rows = append(rows, skipped("", "Remaining rows", "", "interrupted"))
	}
	return rows
}

// cpuModel reads the CPU model name from /proc/cpuinfo.
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

// loadAvg returns the 1, 5 and 15 minute load averages.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// cpuPressure returns the share of the last 300 s in which some task
// waited for a CPU (Linux PSI), e.g. "86.7%".
func cpuPressure() string {
	b, err := os.ReadFile("/proc/pressure/cpu")
	if err != nil {
		return "unknown"
	}
	for _, f := range strings.Fields(string(b)) {
		if v, ok := strings.CutPrefix(f, "avg300="); ok {
			return v + "%"
		}
	}
	return "unknown"
}
