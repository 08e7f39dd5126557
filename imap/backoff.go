package imap

import (
	"math/rand/v2"
	"time"
)

// backoff returns the delay before retry attempt n (1-based): min·2^(n-1)
// capped at max, with "equal jitter" (a random half on top of half the
// delay) so that many mailboxes failing together do not retry in lockstep.
func backoff(n int, min, max time.Duration) time.Duration {
	d := min
	for i := 1; i < n && d < max; i++ {
		d *= 2
	}
	if d > max {
		d = max
	}
	half := d / 2
	if half <= 0 {
		return d
	}
	return half + rand.N(half+1)
}
