package faulttest

import (
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"sync"
	"testing"
)

var longFlag = flag.Bool("faulttest.long", false, "run the long variants (also POSTDESK_LONG=1)")

// long reports whether the long variants run.
func long() bool { return *longFlag || os.Getenv("POSTDESK_LONG") == "1" }

// scale returns ci, or full in the long variant.
func scale(ci, full int) int {
	if long() {
		return full
	}
	return ci
}

// tallyRow is one line of the closing table.
type tallyRow struct {
	class                          string
	tried, survived, lost, duplict int
}

// tally collects the rows tests report; TestMain prints them. It is the
// suite's only shared state and is safe for concurrent use.
type tally struct {
	mu   sync.Mutex
	rows map[string]*tallyRow
}

var suite = &tally{rows: map[string]*tallyRow{}}

// record adds counts to a class of the table and logs them on t.
func record(t testing.TB, class string, tried, survived, lost, dup int) {
	t.Helper()
	t.Logf("tally %-40s tried %5d survived %5d lost %d duplicated %d", class, tried, survived, lost, dup)
	suite.mu.Lock()
	defer suite.mu.Unlock()
	r := suite.rows[class]
	if r == nil {
		r = &tallyRow{class: class}
		suite.rows[class] = r
	}
	r.tried += tried
	r.survived += survived
	r.lost += lost
	r.duplict += dup
}

func (s *tally) print(w io.Writer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.rows) == 0 {
		return
	}
	rows := make([]*tallyRow, 0, len(s.rows))
	for _, r := range s.rows {
		rows = append(rows, r)
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].class < rows[j].class })
	fmt.Fprintf(w, "\n| fault or input class | tried | survived | lost | duplicated |\n|---|---:|---:|---:|---:|\n")
	for _, r := range rows {
		fmt.Fprintf(w, "| %s | %d | %d | %d | %d |\n", r.class, r.tried, r.survived, r.lost, r.duplict)
	}
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if testing.Verbose() {
		suite.print(os.Stdout)
	}
	postdesk.cleanup()
	os.Exit(code)
}
