package bench

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// within reports whether got is ref rounded up to its bucket: never below,
// and above by less than 1/128.
func within(got, ref time.Duration) bool {
	return got >= ref && float64(got-ref) <= float64(ref)/histSub+1
}

func TestHistogramQuantilesMatchSortedReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 2, 7, 1000, 100000} {
		var h Histogram
		ref := make([]time.Duration, n)
		for i := range ref {
			// Log-uniform from 1 ns to ~100 s: every bucket range gets used.
			ref[i] = time.Duration(math.Exp(rng.Float64() * math.Log(1e11)))
			h.Record(ref[i])
		}
		slices.Sort(ref)
		for _, q := range []float64{0, 0.1, 0.5, 0.9, 0.99, 0.999, 1} {
			rank := max(int(math.Ceil(q*float64(n))), 1)
			want := ref[rank-1]
			if got := h.Quantile(q); !within(got, want) {
				t.Errorf("n=%d q=%v: got %v, sorted reference %v", n, q, got, want)
			}
		}
		if h.Max() != ref[n-1] || h.Min() != ref[0] || h.Count() != uint64(n) {
			t.Errorf("n=%d: min %v max %v count %d, want %v %v %d", n, h.Min(), h.Max(), h.Count(), ref[0], ref[n-1], n)
		}
	}
}

func TestHistogramBucketsAreContiguous(t *testing.T) {
	// Every value maps to a bucket whose upper edge is at or above it, and the
	// next value up either shares the bucket or starts the next one.
	for v := uint64(0); v < 1<<20; v++ {
		b := bucketOf(v)
		if bucketHigh(b) < v {
			t.Fatalf("value %d: bucket %d ends at %d", v, b, bucketHigh(b))
		}
		if nb := bucketOf(v + 1); nb != b && (nb != b+1 || bucketHigh(b) != v) {
			t.Fatalf("value %d → bucket %d, %d → %d (high %d)", v, b, v+1, nb, bucketHigh(b))
		}
	}
	if b := bucketOf(math.MaxUint64); b != histBuckets-1 {
		t.Fatalf("huge value: bucket %d", b)
	}
}

func TestHistogramMergeIsExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var all, a, b Histogram
	for i := range 5000 {
		v := time.Duration(rng.Int64N(int64(time.Second)))
		all.Record(v)
		if i%3 == 0 {
			a.Record(v)
		} else {
			b.Record(v)
		}
	}
	var merged Histogram
	merged.Merge(&a)
	merged.Merge(&b)
	merged.Merge(&Histogram{})
	if merged != all {
		t.Fatal("merging two halves differs from recording everything in one")
	}
	// And through JSON, as children report.
	raw, err := json.Marshal(&a)
	if err != nil {
		t.Fatal(err)
	}
	var back Histogram
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if back != a {
		t.Fatal("JSON round trip changed the histogram")
	}
	if err := json.Unmarshal([]byte(`{"buckets":[[99999,1]]}`), &back); err == nil {
		t.Fatal("bucket index out of range accepted")
	}
}

func TestHistogramRecordAllocatesNothing(t *testing.T) {
	var h Histogram
	if n := testing.AllocsPerRun(100, func() { h.Record(12345) }); n != 0 {
		t.Fatalf("Record allocates %v", n)
	}
}

func BenchmarkHistogramRecord(b *testing.B) {
	b.ReportAllocs()
	var h Histogram
	for i := range b.N {
		h.Record(time.Duration(i))
	}
}
