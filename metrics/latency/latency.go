// Package latency is a fixed-bucket histogram of durations that hot paths
// can feed: Observe is a few atomic adds, allocates nothing and takes no
// lock. Package metrics renders it as a Prometheus histogram (seconds).
//
// It imports nothing of rtd's, so the server can count into it without
// linking the Prometheus client.
package latency

import (
	"math"
	"sync/atomic"
	"time"
)

// Bounds are the buckets' upper bounds, the classic Prometheus layout from
// 50 µs to 10 s: sub-millisecond deliveries and handshakes are told apart,
// and a stall of seconds still lands below +Inf.
var Bounds = [...]time.Duration{
	50 * time.Microsecond, 100 * time.Microsecond, 250 * time.Microsecond, 500 * time.Microsecond,
	time.Millisecond, 2500 * time.Microsecond, 5 * time.Millisecond, 10 * time.Millisecond,
	25 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond, 250 * time.Millisecond,
	500 * time.Millisecond, time.Second, 2500 * time.Millisecond, 5 * time.Second, 10 * time.Second,
}

// Histogram counts durations into Bounds. The zero value is ready; it must
// not be copied once used.
type Histogram struct {
	counts [len(Bounds) + 1]atomic.Uint64 // the last one is +Inf
	sum    atomic.Int64                   // nanoseconds
}

// Observe counts one duration of ns nanoseconds (negative counts as 0).
func (h *Histogram) Observe(ns int64) {
	ns = max(ns, 0)
	i := 0
	for i < len(Bounds) && ns > int64(Bounds[i]) {
		i++
	}
	h.counts[i].Add(1)
	h.sum.Add(ns)
}

// Snapshot is a histogram read at one time.
type Snapshot struct {
	Cumulative [len(Bounds)]uint64 // observations ≤ Bounds[i]
	Count      uint64              // every observation (the +Inf bucket)
	Sum        time.Duration
}

// Snapshot reads h. Observations made meanwhile may be counted in Count and
// not yet in Sum, never in a bucket and not in Count.
func (h *Histogram) Snapshot() Snapshot {
	var s Snapshot
	var n uint64
	for i := range Bounds {
		n += h.counts[i].Load()
		s.Cumulative[i] = n
	}
	s.Count = n + h.counts[len(Bounds)].Load()
	s.Sum = time.Duration(h.sum.Load())
	return s
}

// Quantile estimates the q-quantile (0 < q ≤ 1) as the upper bound of the
// bucket it falls in; 0 with no observation, and the last bound when it is
// past them.
func (s *Snapshot) Quantile(q float64) time.Duration {
	if s.Count == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(s.Count)))
	for i, c := range s.Cumulative {
		if c >= rank && c > 0 {
			return Bounds[i]
		}
	}
	return Bounds[len(Bounds)-1]
}
