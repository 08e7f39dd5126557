package daemon

import (
	"fmt"
	"runtime/debug"
)

// The garbage collector settings postdesk runs with unless the environment
// says otherwise, the same as systemd/postdesk.service sets.
//
// An import allocates several copies of its mail (the request body, the
// decoded Data, the parsed parts) that are garbage a moment later. With
// Go's default GOGC=100 the collector ran about 17 times a second under
// HTTP load, at a live heap of some 30 MB; at GOGC=400 postdesk serve
// spent about 8 % less CPU per HTTP import (760-770 against 800-847 µs at
// concurrency 32, alternating runs of the real binary). GOGC=400 lets the heap
// grow to five times the live data between collections; the soft memory
// limit keeps that bounded: the collector runs earlier as the heap nears
// it (SQLite's C memory is outside it).
const (
	DefaultGOGC        = 400
	DefaultMemoryLimit = 96 << 20 // GOMEMLIMIT=96MiB
)

// TuneGC applies DefaultGOGC and DefaultMemoryLimit where the environment
// (as seen through lookup) sets no GOGC or GOMEMLIMIT, which the Go runtime
// has already applied, and describes the settings in force for the log.
func TuneGC(lookup func(string) (string, bool)) string {
	gogc, limit := "", ""
	if v, ok := lookup("GOGC"); ok && v != "" {
		gogc = v + " (environment)"
	} else {
		debug.SetGCPercent(DefaultGOGC)
		gogc = fmt.Sprint(DefaultGOGC)
	}
	if v, ok := lookup("GOMEMLIMIT"); ok && v != "" {
		limit = v + " (environment)"
	} else {
		debug.SetMemoryLimit(DefaultMemoryLimit)
		limit = fmt.Sprintf("%dMiB", DefaultMemoryLimit>>20)
	}
	return "GOGC=" + gogc + " GOMEMLIMIT=" + limit
}
