package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// row is one line of the result table. Every figure in it was measured in
// this run; a row that could not be measured says so in Result.
type row struct {
	Group  string // floor, core, http, imap, idle, memory, scale
	Name   string
	Result string
	Ratio  string // against the row's reference, e.g. "0.62× floor"
	Target string // "" when the row has no target
	Met    string // yes, no, "" (no target), skipped
}

// skipped returns a row that was not measured, with the reason.
func skipped(group, name, target, reason string) row {
	return row{Group: group, Name: name, Result: "skipped: " + reason, Target: target, Met: "skipped"}
}

// metStr renders a target check.
func metStr(ok bool) string {
	if ok {
		return "yes"
	}
	return "**no**"
}

// writeTable prints rows as one markdown table.
func writeTable(w io.Writer, rows []row) {
	fmt.Fprintln(w, "| # | Measurement | Result | Ratio | Target | Met |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	for i, r := range rows {
		fmt.Fprintf(w, "| %d | %s | %s | %s | %s | %s |\n", i+1, cell(r.Name), cell(r.Result),
			cell(dash(r.Ratio)), cell(dash(r.Target)), cell(dash(r.Met)))
	}
}

func dash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// latencies collects request durations.
type latencies []time.Duration

// pct returns the p-th percentile (0 < p ≤ 100), nearest rank.
func (l latencies) pct(p float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	s := slices.Clone(l)
	slices.Sort(s)
	i := int(float64(len(s))*p/100+0.999999) - 1
	return s[max(0, min(i, len(s)-1))]
}

// ms renders a duration in milliseconds with sensible precision.
func ms(d time.Duration) string {
	f := float64(d) / float64(time.Millisecond)
	switch {
	case f < 10:
		return fmt.Sprintf("%.2f ms", f)
	case f < 100:
		return fmt.Sprintf("%.1f ms", f)
	}
	return fmt.Sprintf("%.0f ms", f)
}

// rate renders a per-second rate.
func rate(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// ratio renders a/b as "0.62×".
func ratio(a, b float64) string {
	if b <= 0 {
		return ""
	}
	return fmt.Sprintf("%.2f×", a/b)
}

// mib renders bytes as MiB.
func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
