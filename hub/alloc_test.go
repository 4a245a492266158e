package hub

import (
	"fmt"
	"testing"
)

// inlineNet delivers synchronously: Deliver walks the batch at once with a
// no-op visitor and releases it (or keeps it when hold is set). It allocates
// nothing itself, so allocation counts are the hub's.
type inlineNet struct {
	visits int
	hold   *Batch
	keep   bool
}

func (n *inlineNet) Deliver(loop int, b *Batch) {
	if n.keep {
		n.hold = b
		return
	}
	b.Each(n)
	b.Release()
}
func (n *inlineNet) Evict(Subscriber, string)    {}
func (n *inlineNet) Encode(p *Prepared)          { p.WS, p.SSE = p.Data, p.Data }
func (n *inlineNet) Visit(Subscriber, *Prepared) { n.visits++ }

func newInlineHub(t testing.TB, loops, subs int) (*Hub, *inlineNet) {
	t.Helper()
	n := &inlineNet{}
	h, err := New(Options{Loops: loops, Deliverer: n, Encoder: n})
	if err != nil {
		t.Fatal(err)
	}
	for i := range subs {
		tc := connect(t, h, fmt.Sprint("c", i), "", i%loops)
		subscribe(t, h, tc, "ch", nil)
	}
	return h, n
}

// TestPublishAllocs: a publish costs the Prepared and nothing per recipient,
// so 10 and 1000 subscribers cost the same.
func TestPublishAllocs(t *testing.T) {
	data := []byte(`{"x":1}`)
	var perSubs []float64
	for _, subs := range []int{10, 1000} {
		h, n := newInlineHub(t, 2, subs)
		for range 2 * DefaultHistorySize { // fill the history ring and the batch pools
			h.Publish("ch", Publication{Data: data})
		}
		n.visits = 0
		allocs := testing.AllocsPerRun(100, func() {
			if _, err := h.Publish("ch", Publication{Data: data}); err != nil {
				t.Fatal(err)
			}
		})
		if n.visits != 101*subs {
			t.Fatalf("%d subscribers: %d visits over 101 publications", subs, n.visits)
		}
		if allocs > 1 {
			t.Errorf("%d subscribers: Publish allocates %.1f times, want at most 1 (the Prepared)", subs, allocs)
		}
		perSubs = append(perSubs, allocs)
	}
	if perSubs[0] != perSubs[1] {
		t.Errorf("Publish allocations depend on the subscriber count: %v for 10 and 1000", perSubs)
	}
}

func TestBatchEachAllocs(t *testing.T) {
	h, n := newInlineHub(t, 1, 1000)
	n.keep = true
	if _, err := h.Publish("ch", Publication{Data: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	b := n.hold
	allocs := testing.AllocsPerRun(100, func() { b.Each(n) })
	if allocs != 0 {
		t.Errorf("Batch.Each allocates %.1f times, want 0", allocs)
	}
	if n.visits != 101*1000 {
		t.Errorf("%d visits, want %d", n.visits, 101*1000)
	}
	b.Release()
}

// TestSendAllocs: direct sends reuse pooled batches too.
func TestSendAllocs(t *testing.T) {
	h, _ := newInlineHub(t, 2, 10)
	p := Publication{Data: []byte("x")}
	h.SendTo("c1", p)
	if allocs := testing.AllocsPerRun(100, func() { h.SendTo("c1", p) }); allocs > 1 {
		t.Errorf("SendTo allocates %.1f times, want at most 1", allocs)
	}
	h.Broadcast(p)
	if allocs := testing.AllocsPerRun(100, func() { h.Broadcast(p) }); allocs > 1 {
		t.Errorf("Broadcast allocates %.1f times, want at most 1", allocs)
	}
}
