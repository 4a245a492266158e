package bench

import (
	"encoding/json"
	"math"
	"math/bits"
	"time"
)

// Histogram records non-negative durations in log-linear buckets: exact below
// 128 ns, then 128 buckets per power of two, so every recorded value is known
// to within 1/128 (0.8%) of itself. Values above about 18 minutes land in the
// last bucket; Max stays exact. Two histograms merge exactly, which is what lets
// --procs children report to the parent without losing precision.
//
// Record allocates nothing. A Histogram is not safe for concurrent use.
type Histogram struct {
	counts [histBuckets]uint64
	total  uint64
	sum    uint64 // nanoseconds, for the mean
	min    uint64
	max    uint64
}

const (
	histSubBits = 7
	histSub     = 1 << histSubBits // linear sub-buckets per power of two
	histMaxExp  = 33               // 2^(33+7) ns ≈ 18 minutes
	histBuckets = (histMaxExp + 1) * histSub
)

// bucketOf returns the bucket index of v: v itself below histSub, else the
// exponent and the top histSubBits+1 bits of v.
func bucketOf(v uint64) int {
	if v < histSub {
		return int(v)
	}
	e := bits.Len64(v) - histSubBits - 1
	if e >= histMaxExp {
		return histBuckets - 1
	}
	return e*histSub + int(v>>uint(e))
}

// bucketHigh returns the largest value that falls into bucket i.
func bucketHigh(i int) uint64 {
	if i < histSub {
		return uint64(i)
	}
	e := uint(i/histSub - 1)
	m := uint64(i%histSub + histSub)
	return (m+1)<<e - 1
}

// Record adds one value; negative durations (clock steps) count as zero.
func (h *Histogram) Record(d time.Duration) {
	v := uint64(0)
	if d > 0 {
		v = uint64(d)
	}
	h.counts[bucketOf(v)]++
	if h.total == 0 || v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
	h.total++
	h.sum += v
}

// Count returns the number of recorded values.
func (h *Histogram) Count() uint64 { return h.total }

// Max returns the largest recorded value, exactly.
func (h *Histogram) Max() time.Duration { return time.Duration(h.max) }

// Min returns the smallest recorded value, exactly.
func (h *Histogram) Min() time.Duration { return time.Duration(h.min) }

// Mean returns the arithmetic mean of the recorded values.
func (h *Histogram) Mean() time.Duration {
	if h.total == 0 {
		return 0
	}
	return time.Duration(h.sum / h.total)
}

// Quantile returns the value at quantile q (0..1) by the nearest-rank rule: the
// smallest recorded value v such that at least q of all values are ≤ v, reported
// as the upper edge of its bucket (never above Max), as HdrHistogram does.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.total)))
	if rank < 1 {
		rank = 1
	}
	var seen uint64
	for i := range h.counts {
		seen += h.counts[i]
		if seen >= rank {
			return time.Duration(min(bucketHigh(i), h.max))
		}
	}
	return time.Duration(h.max)
}

// Merge adds every value recorded in o to h.
func (h *Histogram) Merge(o *Histogram) {
	if o.total == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.total == 0 || o.min < h.min {
		h.min = o.min
	}
	h.max = max(h.max, o.max)
	h.total += o.total
	h.sum += o.sum
}

// Reset empties h.
func (h *Histogram) Reset() { *h = Histogram{} }

// histJSON is the wire form: only non-empty buckets, as [index, count] pairs.
type histJSON struct {
	Buckets [][2]uint64 `json:"buckets,omitempty"`
	Sum     uint64      `json:"sum_ns"`
	Min     uint64      `json:"min_ns"`
	Max     uint64      `json:"max_ns"`
}

// MarshalJSON encodes the non-empty buckets, so that a child process can hand its
// histogram to the parent exactly.
func (h *Histogram) MarshalJSON() ([]byte, error) {
	w := histJSON{Sum: h.sum, Min: h.min, Max: h.max}
	for i, c := range h.counts {
		if c != 0 {
			w.Buckets = append(w.Buckets, [2]uint64{uint64(i), c})
		}
	}
	return json.Marshal(w)
}

// UnmarshalJSON decodes what MarshalJSON wrote.
func (h *Histogram) UnmarshalJSON(b []byte) error {
	var w histJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	h.Reset()
	for _, bc := range w.Buckets {
		if bc[0] >= histBuckets {
			return ErrBadHistogram
		}
		h.counts[bc[0]] += bc[1]
		h.total += bc[1]
	}
	h.sum, h.min, h.max = w.Sum, w.Min, w.Max
	return nil
}
