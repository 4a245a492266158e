package natsbroker_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/rtd-project/rtd/broker/natsbroker"
	"github.com/rtd-project/rtd/hub"
	"github.com/rtd-project/rtd/internal/natstest"
)

// startNATS runs a NATS server with JetStream in the test binary, on a random
// loopback port (or port, to restart one), storing in dir.
func startNATS(t testing.TB, dir string, port int) *server.Server {
	t.Helper()
	return natstest.Start(t, dir, port)
}

// node is one rtd node in miniature: a hub on its own NATS connection, with a
// Deliverer that walks each batch at once and records what each subscriber got.
type node struct {
	hub    *hub.Hub
	broker *natsbroker.Broker
}

func newNode(t testing.TB, url string, o natsbroker.Options, ho hub.Options) *node {
	t.Helper()
	o.URL = url
	b, err := natsbroker.New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	ho.Loops, ho.Deliverer, ho.Encoder, ho.Broker = 2, recorder{}, recorder{}, b
	h, err := hub.New(ho)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Shutdown)
	return &node{hub: h, broker: b}
}

type recorder struct{}

func (recorder) Deliver(_ int, b *hub.Batch)  { b.Each(recorder{}); b.Release() }
func (recorder) Evict(hub.Subscriber, string) {}
func (recorder) Encode(p *hub.Prepared) {
	p.SSE = fmt.Appendf(nil, "id: %s\ndata: %s\n\n", p.Position(), p.Data)
}
func (recorder) Visit(s hub.Subscriber, m *hub.Prepared) { s.(*sub).got(m) }

// sub is a connection that records its publications.
type sub struct {
	c  hub.Client
	mu sync.Mutex
	ms []*hub.Prepared
}

func (s *sub) HubClient() *hub.Client { return &s.c }

func (s *sub) got(m *hub.Prepared) {
	s.mu.Lock()
	s.ms = append(s.ms, m)
	s.mu.Unlock()
}

func (s *sub) received() []*hub.Prepared {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*hub.Prepared(nil), s.ms...)
}

// connect connects a new subscriber to n and subscribes it to channel.
func (n *node) connect(t testing.TB, id, channel string, since *hub.Position) (*sub, hub.SubscribeResult) {
	t.Helper()
	s := &sub{c: hub.Client{ID: id, User: "u-" + id, Loop: int32(len(id) % 2)}}
	if err := n.hub.Connect(s); err != nil {
		t.Fatal(err)
	}
	res, err := n.hub.Subscribe(s, channel, since)
	if err != nil {
		t.Fatalf("subscribe %s to %q: %v", id, channel, err)
	}
	return s, res
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// checkStream asserts that ms are exactly want (positions, in order).
func checkStream(t testing.TB, who string, ms []*hub.Prepared, want []hub.Position) {
	t.Helper()
	if len(ms) != len(want) {
		t.Fatalf("%s: got %d publications, want %d", who, len(ms), len(want))
	}
	for i, m := range ms {
		if m.Position() != want[i] {
			t.Fatalf("%s: publication %d is %v, want %v", who, i, m.Position(), want[i])
		}
	}
}
