package latency

import (
	"testing"
	"time"
)

func TestHistogramBuckets(t *testing.T) {
	var h Histogram
	for _, d := range []time.Duration{0, 50 * time.Microsecond, 51 * time.Microsecond, 3 * time.Millisecond, time.Minute, -time.Second} {
		h.Observe(int64(d))
	}
	s := h.Snapshot()
	if s.Count != 6 || s.Sum != 50*time.Microsecond+51*time.Microsecond+3*time.Millisecond+time.Minute {
		t.Fatalf("count %d sum %v", s.Count, s.Sum)
	}
	// 0, -1s and 50 µs (a bound is inclusive) in the first bucket; 51 µs in
	// the second; 3 ms under 5 ms; a minute only in +Inf.
	want := map[time.Duration]uint64{50 * time.Microsecond: 3, 100 * time.Microsecond: 4, 2500 * time.Microsecond: 4, 5 * time.Millisecond: 5, 10 * time.Second: 5}
	for i, b := range Bounds {
		if w, ok := want[b]; ok && s.Cumulative[i] != w {
			t.Errorf("≤ %v: %d, want %d", b, s.Cumulative[i], w)
		}
	}
	if q := s.Quantile(0.5); q != 50*time.Microsecond {
		t.Errorf("p50 %v", q)
	}
	if q := s.Quantile(0.8); q != 5*time.Millisecond {
		t.Errorf("p80 %v", q)
	}
}

func TestObserveAllocatesNothing(t *testing.T) {
	var h Histogram
	if n := testing.AllocsPerRun(100, func() { h.Observe(1234567) }); n != 0 {
		t.Errorf("%v allocations per Observe", n)
	}
}
