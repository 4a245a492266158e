package natsbroker_test

import (
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/rtd-project/rtd/broker/natsbroker"
	"github.com/rtd-project/rtd/hub"
	"github.com/rtd-project/rtd/internal/natstest"
)

// relays records what a node's OnRelay received.
type relays struct {
	mu  sync.Mutex
	got []string
}

func (r *relays) add(m []byte) {
	r.mu.Lock()
	r.got = append(r.got, string(m))
	r.mu.Unlock()
}

func (r *relays) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// TestRelay: what a node relays reaches every other node's OnRelay, in order,
// and not its own; with NATS down Relay fails with ErrBrokerUnavailable.
func TestRelay(t *testing.T) {
	ns := natstest.Start(t, t.TempDir(), 0)
	var bs []*natsbroker.Broker
	rs := make([]*relays, 3)
	for i := range rs {
		b, err := natsbroker.New(natsbroker.Options{URL: ns.ClientURL()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(b.Close)
		rs[i] = &relays{}
		b.OnRelay(rs[i].add)
		bs = append(bs, b)
	}
	for _, m := range []string{"one", "two"} {
		if err := bs[0].Relay([]byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	for i := 1; i < 3; i++ {
		waitFor(t, "node 0's relays on every other node", func() bool { return len(rs[i].list()) == 2 })
		if got := rs[i].list(); !slices.Equal(got, []string{"one", "two"}) {
			t.Fatalf("node %d got %q", i, got)
		}
	}
	// Node 1 relays after it received node 0's: the NATS server forwarded
	// node 0's to every subscriber before it read node 1's, so node 0 would
	// have its own before node 1's, if it did not skip them.
	if err := bs[1].Relay([]byte("three")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "node 1's relay on node 0", func() bool { return len(rs[0].list()) > 0 })
	if got := rs[0].list(); !slices.Equal(got, []string{"three"}) {
		t.Fatalf("node 0 got %q, want only node 1's", got)
	}

	natstest.Stop(ns)
	waitFor(t, "node 0 disconnected", func() bool { return bs[0].Status() != nil })
	if err := bs[0].Relay([]byte("four")); !errors.Is(err, hub.ErrBrokerUnavailable) {
		t.Fatalf("relay with NATS down: %v, want ErrBrokerUnavailable", err)
	}
}
