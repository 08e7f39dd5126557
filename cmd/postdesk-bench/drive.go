package main

import (
	"fmt"
	"runtime/debug"
	"sync"
	"time"
)

// load is the outcome of driving one operation at a concurrency.
type load struct {
	n       int // successful operations
	errs    int
	firstEr error
	elapsed time.Duration
	lat     latencies // of the successful operations
}

func (l load) perSec() float64 { return rate(l.n, l.elapsed) }

// drive runs op on conc goroutines until dur has passed (each goroutine
// finishes its operation in flight; every goroutine runs op at least once)
// and collects the latencies.
func drive(dur time.Duration, conc int, op func() error) load {
	var (
		mu  sync.Mutex
		res load
		wg  sync.WaitGroup
	)
	start := time.Now()
	deadline := start.Add(dur)
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat latencies
			n, errs := 0, 0
			var first error
			defer func() {
				if p := recover(); p != nil {
					errs++
					if first == nil {
						first = fmt.Errorf("panic: %v\n%s", p, debug.Stack())
					}
				}
				mu.Lock()
				res.n += n
				res.errs += errs
				res.lat = append(res.lat, lat...)
				if res.firstEr == nil {
					res.firstEr = first
				}
				mu.Unlock()
			}()
			for once := true; once || time.Now().Before(deadline); once = false {
				t := time.Now()
				if err := op(); err != nil {
					errs++
					if first == nil {
						first = err
					}
					continue
				}
				lat = append(lat, time.Since(t))
				n++
			}
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	return res
}
