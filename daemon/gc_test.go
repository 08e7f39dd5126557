package daemon

import (
	"math"
	"runtime/debug"
	"testing"
)

func TestTuneGC(t *testing.T) {
	oldPercent := debug.SetGCPercent(100)
	oldLimit := debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() {
		debug.SetGCPercent(oldPercent)
		debug.SetMemoryLimit(oldLimit)
	})
	env := func(m map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}

	got := TuneGC(env(nil))
	if got != "GOGC=400 GOMEMLIMIT=96MiB" {
		t.Errorf("defaults described as %q", got)
	}
	if p := debug.SetGCPercent(100); p != DefaultGOGC {
		t.Errorf("GC percent %d, want %d", p, DefaultGOGC)
	}
	if l := debug.SetMemoryLimit(math.MaxInt64); l != DefaultMemoryLimit {
		t.Errorf("memory limit %d, want %d", l, DefaultMemoryLimit)
	}

	// What the environment sets, the runtime has applied: left alone.
	got = TuneGC(env(map[string]string{"GOGC": "off", "GOMEMLIMIT": "1GiB"}))
	if got != "GOGC=off (environment) GOMEMLIMIT=1GiB (environment)" {
		t.Errorf("environment described as %q", got)
	}
	if p := debug.SetGCPercent(100); p != 100 {
		t.Errorf("GC percent %d changed although GOGC is set", p)
	}
	if l := debug.SetMemoryLimit(math.MaxInt64); l != math.MaxInt64 {
		t.Errorf("memory limit %d changed although GOMEMLIMIT is set", l)
	}
}
