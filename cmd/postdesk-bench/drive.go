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
	stop := make(chan struct{})
	t := time.AfterFunc(dur, func() { close(stop) })
	defer t.Stop()
	return driveUntil(stop, conc, op)
}

// driveUntil is drive until stop is closed.
func driveUntil(stop <-chan struct{}, conc int, op func() error) load {
	var (
		mu  sync.Mutex
		res load
		wg  sync.WaitGroup
	)
	start := time.Now()
	stopped := func() bool {
		select {
		case <-stop:
			return true
		default:
			return false
		}
	}
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
			for once := true; once || !stopped(); once = false {
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
