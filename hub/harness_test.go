package hub

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testConn is a connection as the tests see it: what its loop delivered to it.
// got is written only by the conn's loop goroutine and read after a flush.
type testConn struct {
	c   Client
	got []*Prepared
}

func (tc *testConn) HubClient() *Client { return &tc.c }

// offsets returns the offsets of the KindMessage publications tc received on channel.
func (tc *testConn) offsets(channel string) []uint64 {
	var out []uint64
	for _, m := range tc.got {
		if m.Kind == KindMessage && m.Channel == channel {
			out = append(out, m.Offset)
		}
	}
	return out
}

// testLoop simulates one event loop: a goroutine that drains an unbounded
// inbox, walks each batch and records what every recipient received.
type testLoop struct {
	t     testing.TB
	idx   int
	mu    sync.Mutex
	cond  sync.Cond
	inbox []loopItem
	spare []loopItem
	stop  bool

	discard bool // benchmarks: count visits, record nothing
	visits  int  // loop goroutine only
}

type loopItem struct {
	b    *Batch
	done chan struct{} // a flush marker
}

func (l *testLoop) run(wg *sync.WaitGroup) {
	defer wg.Done()
	for {
		l.mu.Lock()
		for len(l.inbox) == 0 && !l.stop {
			l.cond.Wait()
		}
		items := l.inbox
		l.inbox, l.spare = l.spare, nil
		stop := l.stop
		l.mu.Unlock()
		for i, it := range items {
			if it.b != nil {
				it.b.Each(l)
				it.b.Release()
			} else {
				close(it.done)
			}
			items[i] = loopItem{}
		}
		l.mu.Lock()
		l.spare = items[:0] // reuse the buffer: the harness should not allocate per batch
		l.mu.Unlock()
		if stop && len(items) == 0 {
			return
		}
	}
}

func (l *testLoop) post(it loopItem) {
	l.mu.Lock()
	l.inbox = append(l.inbox, it)
	l.mu.Unlock()
	l.cond.Signal()
}

func (l *testLoop) Visit(s Subscriber, m *Prepared) {
	l.visits++
	if l.discard {
		return
	}
	tc := s.(*testConn)
	if int(tc.c.Loop) != l.idx {
		l.t.Errorf("conn %s of loop %d visited on loop %d", tc.c.ID, tc.c.Loop, l.idx)
	}
	tc.got = append(tc.got, m)
}

// testNet is the server side of the tests: a Deliverer over testLoops, an
// Encoder, and a record of evictions.
type testNet struct {
	loops   []*testLoop
	wg      sync.WaitGroup
	encoded atomic.Int64
	batches []atomic.Int64 // Deliver calls per loop

	mu      sync.Mutex
	evicted map[*testConn]string
}

func newTestNet(t testing.TB, loops int) *testNet {
	n := &testNet{batches: make([]atomic.Int64, loops), evicted: make(map[*testConn]string)}
	for i := range loops {
		l := &testLoop{t: t, idx: i}
		l.cond.L = &l.mu
		n.loops = append(n.loops, l)
		n.wg.Add(1)
		go l.run(&n.wg)
	}
	t.Cleanup(func() {
		for _, l := range n.loops {
			l.mu.Lock()
			l.stop = true
			l.mu.Unlock()
			l.cond.Signal()
		}
		n.wg.Wait()
	})
	return n
}

func (n *testNet) Deliver(loop int, b *Batch) {
	n.batches[loop].Add(1)
	n.loops[loop].post(loopItem{b: b})
}

func (n *testNet) Evict(s Subscriber, reason string) {
	n.mu.Lock()
	n.evicted[s.(*testConn)] = reason
	n.mu.Unlock()
}

func (n *testNet) Encode(p *Prepared) {
	n.encoded.Add(1)
	p.WS, p.SSE = p.Data, p.Data
}

// flush waits until every loop has processed everything delivered so far.
func (n *testNet) flush() {
	var dones []chan struct{}
	for _, l := range n.loops {
		d := make(chan struct{})
		dones = append(dones, d)
		l.post(loopItem{done: d})
	}
	for _, d := range dones {
		<-d
	}
}

func (n *testNet) evictedReason(tc *testConn) (string, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	r, ok := n.evicted[tc]
	return r, ok
}

// newTestHub returns a hub over a fresh testNet with o's other fields.
func newTestHub(t testing.TB, loops int, o Options) (*Hub, *testNet) {
	t.Helper()
	n := newTestNet(t, loops)
	o.Loops, o.Deliverer, o.Encoder = loops, n, n
	h, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return h, n
}

// connect connects a new conn with the given id and user on loop.
func connect(t testing.TB, h *Hub, id, user string, loop int) *testConn {
	t.Helper()
	tc := &testConn{c: Client{ID: id, User: user, Loop: int32(loop)}}
	if err := h.Connect(tc); err != nil {
		t.Fatalf("connect %s: %v", id, err)
	}
	return tc
}

// connectMany connects n conns spread round-robin over the loops.
func connectMany(t testing.TB, h *Hub, prefix string, n, loops int) []*testConn {
	t.Helper()
	out := make([]*testConn, n)
	for i := range out {
		out[i] = connect(t, h, fmt.Sprintf("%s%d", prefix, i), "", i%loops)
	}
	return out
}

func subscribe(t testing.TB, h *Hub, tc *testConn, channel string, since *Position) SubscribeResult {
	t.Helper()
	res, err := h.Subscribe(tc, channel, since)
	if err != nil {
		t.Fatalf("subscribe %s to %s: %v", tc.c.ID, channel, err)
	}
	return res
}

func publish(t testing.TB, h *Hub, channel, data string) Position {
	t.Helper()
	pos, err := h.Publish(channel, Publication{Data: []byte(data)})
	if err != nil {
		t.Fatalf("publish to %s: %v", channel, err)
	}
	return pos
}

// fakeClock is a settable Options.Now.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }
