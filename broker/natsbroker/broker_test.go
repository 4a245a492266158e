package natsbroker_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/rtd-project/rtd/broker/natsbroker"
	"github.com/rtd-project/rtd/hub"
)

// cluster starts NATS and n nodes on it.
func cluster(t *testing.T, n int, o natsbroker.Options, ho hub.Options) ([]*node, string) {
	ns := startNATS(t, t.TempDir(), 0)
	nodes := make([]*node, n)
	for i := range nodes {
		nodes[i] = newNode(t, ns.ClientURL(), o, ho)
	}
	return nodes, ns.ClientURL()
}

// TestFanoutAcrossNodes: subscribers spread over three nodes, concurrent
// publishers on every node; every subscriber receives every publication of its
// channel exactly once, in the stream's order, and nothing of other channels,
// even with channel names that would be subject wildcards or separators.
func TestFanoutAcrossNodes(t *testing.T) {
	nodes, _ := cluster(t, 3, natsbroker.Options{HistorySize: 1000}, hub.Options{HistorySize: 1000})
	channels := []string{"news", "news.>", "news.*", "news sport", "*", ">", "a.b"}
	type member struct {
		s       *sub
		channel string
	}
	var members []member
	for i, ch := range channels {
		for j := range 6 {
			s, _ := nodes[j%3].connect(t, fmt.Sprintf("c%d-%d", i, j), ch, nil)
			members = append(members, member{s, ch})
		}
	}
	const perPublisher = 40
	var mu sync.Mutex
	published := map[string][]hub.Position{}
	var wg sync.WaitGroup
	for _, n := range nodes {
		for _, ch := range channels {
			wg.Go(func() {
				for k := range perPublisher {
					pos, err := n.hub.Publish(ch, hub.Publication{Data: fmt.Appendf(nil, `"%d"`, k)})
					if err != nil {
						t.Errorf("publish %q: %v", ch, err)
						return
					}
					mu.Lock()
					published[ch] = append(published[ch], pos)
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	for ch, ps := range published {
		slices.SortFunc(ps, func(a, b hub.Position) int { return int(a.Offset) - int(b.Offset) })
		if len(ps) != 3*perPublisher || ps[0].Epoch == "" {
			t.Fatalf("%q: %d positions (%v)", ch, len(ps), ps[0])
		}
	}
	for _, m := range members {
		want := published[m.channel]
		waitFor(t, m.s.c.ID+" to receive", func() bool { return len(m.s.received()) >= len(want) })
		got := m.s.received()
		for _, p := range got {
			if p.Channel != m.channel {
				t.Fatalf("%s on %q got a publication of %q", m.s.c.ID, m.channel, p.Channel)
			}
		}
		checkStream(t, m.s.c.ID+" on "+m.channel, got, want)
	}
	// Every node prepared each publication once: subscribers of a node share it.
	a, b := members[0].s.received(), members[3].s.received() // both on nodes[0]
	if a[0] != b[0] {
		t.Fatal("subscribers on one node got different Prepared values")
	}
}

// TestRecoveryAcrossNodes: a position handed out by one node recovers exactly
// on another, including from a node that had no interest in the channel.
func TestRecoveryAcrossNodes(t *testing.T) {
	nodes, _ := cluster(t, 3, natsbroker.Options{HistorySize: 20}, hub.Options{HistorySize: 10})
	a, b, c := nodes[0], nodes[1], nodes[2]
	s1, res := a.connect(t, "s1", "room", nil)
	start := res.Position
	var all []hub.Position
	for k := range 5 {
		pos, err := c.hub.Publish("room", hub.Publication{Data: fmt.Appendf(nil, "%d", k)})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, pos)
	}
	waitFor(t, "s1 to receive 5", func() bool { return len(s1.received()) == 5 })
	checkStream(t, "s1", s1.received(), all)
	last := s1.received()[2].Position() // s1 goes away after the third
	a.hub.Disconnect(s1)
	for k := 5; k < 8; k++ {
		pos, err := a.hub.Publish("room", hub.Publication{Data: fmt.Appendf(nil, "%d", k)})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, pos)
	}
	// b has never seen the channel: it loads it from the stream.
	s2, res := b.connect(t, "s2", "room", &last)
	if !res.Recovered || res.Position != all[7] {
		t.Fatalf("recovered %v at %v, want true at %v", res.Recovered, res.Position, all[7])
	}
	checkStream(t, "missed", res.Missed, all[3:])
	// The subscription position from before any publication recovers all.
	s3, res := b.connect(t, "s3", "room", &start)
	if !res.Recovered {
		t.Fatal("recovering from the first subscription's position failed")
	}
	checkStream(t, "missed from start", res.Missed, all)
	// Live delivery continues after Missed on both.
	pos, err := c.hub.Publish("room", hub.Publication{Data: []byte("9")})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []*sub{s2, s3} {
		waitFor(t, "live after recovery", func() bool { return len(s.received()) == 1 })
		checkStream(t, "live", s.received(), []hub.Position{pos})
	}
	// History agrees on every node, interested or not.
	for i, n := range nodes {
		h, err := n.hub.History("room", &last, 0)
		if err != nil || !h.Recovered {
			t.Fatalf("node %d: history since %v: %v %v", i, last, h.Recovered, err)
		}
		checkStream(t, fmt.Sprintf("node %d history", i), h.Publications, append(all[3:], pos))
	}
	// Another epoch, or a gap longer than the namespace keeps: not recoverable.
	for _, since := range []hub.Position{{Epoch: "other", Offset: last.Offset}, start} {
		for range 10 {
			if _, err := a.hub.Publish("room", hub.Publication{Data: []byte("x")}); err != nil {
				t.Fatal(err)
			}
		}
		_, res := c.connect(t, "late-"+since.String(), "room", &since)
		if res.Recovered || len(res.Missed) != 0 {
			t.Fatalf("since %v: recovered %v with %d missed, want false", since, res.Recovered, len(res.Missed))
		}
	}
}

// TestSubjectsAreSafe: a channel name never becomes subject syntax.
func TestSubjectsAreSafe(t *testing.T) {
	ns := startNATS(t, t.TempDir(), 0)
	b, err := natsbroker.New(natsbroker.Options{URL: ns.ClientURL()})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	seen := map[string]string{}
	for _, ch := range []string{"a", "a.b", "a.*", "a.>", ">", "*", "a b", "a\tb", "ü.ñ", strings.Repeat("x", 255)} {
		subj := b.Subject(ch)
		tokens := strings.Split(subj, ".")
		if len(tokens) != 3 || tokens[0] != "rtd" || tokens[1] != "ch" {
			t.Fatalf("%q → %q: not rtd.ch.<one token>", ch, subj)
		}
		if strings.ContainsAny(tokens[2], "*> \t\r\n") {
			t.Fatalf("%q → %q: wildcard or whitespace", ch, subj)
		}
		if other, dup := seen[subj]; dup {
			t.Fatalf("%q and %q share %q", ch, other, subj)
		}
		seen[subj] = ch
	}
	if _, err := natsbroker.New(natsbroker.Options{URL: ns.ClientURL(), Prefix: "a.b"}); !errors.Is(err, natsbroker.ErrInvalidOptions) {
		t.Fatalf("prefix with a dot: %v", err)
	}
	if _, err := natsbroker.New(natsbroker.Options{URL: ns.ClientURL(), Replicas: 6}); !errors.Is(err, natsbroker.ErrInvalidOptions) {
		t.Fatalf("6 replicas: %v", err)
	}
}

// TestBusDownAndBack: a node cut off from NATS catches up on what it missed;
// with NATS down publishing fails (nothing is accepted and lost) while
// subscribers stay; when NATS is back (same store) the cluster heals with the
// same epoch, and every acknowledged publication reaches every subscriber
// exactly once, in order.
func TestBusDownAndBack(t *testing.T) {
	dir := t.TempDir()
	ns := startNATS(t, dir, 0)
	port := ns.Addr().(*net.TCPAddr).Port
	var nodes []*node
	for _, name := range []string{"node-a", "node-b"} {
		nodes = append(nodes, newNode(t, ns.ClientURL(), natsbroker.Options{Name: name}, hub.Options{}))
	}
	a, b := nodes[0], nodes[1]
	var subs []*sub
	for i := range 4 {
		s, _ := nodes[i%2].connect(t, fmt.Sprintf("s%d", i), "live", nil)
		subs = append(subs, s)
	}
	var want []hub.Position
	publish := func(n *node, k int) {
		t.Helper()
		for range k {
			pos, err := n.hub.Publish("live", hub.Publication{Data: []byte(`{}`)})
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, pos)
		}
	}
	allReceived := func(what string) {
		t.Helper()
		for _, s := range subs {
			waitFor(t, what, func() bool { return len(s.received()) >= len(want) })
			checkStream(t, what+": "+s.c.ID, s.received(), want)
		}
	}
	publish(a, 5)
	allReceived("before")

	// Node b loses its connection; what a publishes meanwhile reaches b's
	// subscribers once b is back, read from the stream.
	conns, err := ns.Connz(&server.ConnzOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range conns.Conns {
		if c.Name == "node-b" {
			if err := ns.DisconnectClientByID(c.Cid); err != nil {
				t.Fatal(err)
			}
		}
	}
	waitFor(t, "node b to notice", func() bool { return !b.hub.BrokerHealthy() })
	publish(a, 5)
	allReceived("node b cut off")

	// NATS goes away: publishing fails on every node, subscribers stay.
	ns.Shutdown()
	ns.WaitForShutdown()
	for _, n := range nodes {
		waitFor(t, "unhealthy", func() bool { return !n.hub.BrokerHealthy() })
		if _, err := n.hub.Publish("live", hub.Publication{Data: []byte(`{}`)}); !errors.Is(err, hub.ErrBrokerUnavailable) {
			t.Fatalf("publish with NATS down: %v, want ErrBrokerUnavailable", err)
		}
	}
	for i, s := range subs {
		if _, ok := nodes[i%2].hub.Client(s.c.ID); !ok {
			t.Fatalf("%s was dropped while NATS was down", s.c.ID)
		}
	}

	// NATS is back with its store: same epoch, offsets go on.
	startNATS(t, dir, port)
	for _, n := range nodes {
		waitFor(t, "healthy", n.hub.BrokerHealthy)
	}
	publish(b, 5)
	allReceived("after restart")
	if want[len(want)-1].Epoch != want[0].Epoch {
		t.Fatalf("epoch changed across a restart with the same store: %v, %v", want[0], want[len(want)-1])
	}
}

// TestClusterPresence: each node shares its counts; any node sums them, per
// channel.
func TestClusterPresence(t *testing.T) {
	nodes, _ := cluster(t, 3, natsbroker.Options{}, hub.Options{})
	for i := range 7 {
		nodes[i%3].connect(t, fmt.Sprintf("p%d", i), "lobby", nil)
	}
	nodes[0].connect(t, "other", "elsewhere", nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, n := range nodes {
		go func() { _ = n.broker.SharePresence(ctx, 50*time.Millisecond, n.hub.Counts) }()
	}
	waitFor(t, "7 clients in the lobby cluster-wide", func() bool {
		c, u, err := nodes[1].broker.ClusterPresence("lobby")
		return err == nil && c == 7 && u == 7
	})
	if c, _, _ := nodes[2].broker.ClusterPresence("elsewhere"); c != 1 {
		t.Fatalf("elsewhere: %d clients, want 1", c)
	}
}

// TestStartWithBusDown: with RetryOnFailedConnect a node starts while NATS is
// away, is unhealthy (publishing fails, nothing is accepted) and reports why;
// once NATS is up it sets the stream up and works.
func TestStartWithBusDown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	health := make(chan bool, 16)
	b, err := natsbroker.New(natsbroker.Options{
		URL:                  fmt.Sprintf("nats://127.0.0.1:%d", port),
		RetryOnFailedConnect: true,
		OnHealth:             func(ok bool, _ error) { health <- ok },
	})
	if err != nil {
		t.Fatalf("New with NATS away: %v", err)
	}
	t.Cleanup(b.Close)
	h, err := hub.New(hub.Options{Loops: 1, Deliverer: recorder{}, Encoder: recorder{}, Broker: b})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Shutdown)
	if h.BrokerHealthy() || b.Status() == nil {
		t.Fatalf("healthy before NATS is up (status %v)", b.Status())
	}
	if _, err := h.Publish("news", hub.Publication{Data: []byte(`1`)}); !errors.Is(err, hub.ErrBrokerUnavailable) {
		t.Fatalf("publish with NATS away: %v", err)
	}
	if b.Epoch() != "" {
		t.Fatalf("epoch %q before the stream was reached", b.Epoch())
	}

	startNATS(t, t.TempDir(), port)
	select {
	case ok := <-health:
		if !ok {
			t.Fatal("first health report is false")
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("never became healthy: %v", b.Status())
	}
	if err := b.Status(); err != nil || !h.BrokerHealthy() {
		t.Fatalf("status %v after the health report", err)
	}
	s := &sub{c: hub.Client{ID: "s"}}
	if err := h.Connect(s); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Subscribe(s, "news", nil); err != nil {
		t.Fatal(err)
	}
	pos, err := h.Publish("news", hub.Publication{Data: []byte(`2`)})
	if err != nil || pos.Offset != 1 || pos.Epoch != b.Epoch() {
		t.Fatalf("publish: %v %v", pos, err)
	}
	waitFor(t, "the publication", func() bool { return len(s.received()) == 1 })
}

// TestSharedStatsAndStalePresence: nodes share their totals; a channel a node
// no longer has subscribers for leaves its cluster counts at the next round,
// not only when the key expires.
func TestSharedStatsAndStalePresence(t *testing.T) {
	nodes, _ := cluster(t, 2, natsbroker.Options{}, hub.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const every = 50 * time.Millisecond
	for i, n := range nodes {
		go func() { _ = n.broker.SharePresence(ctx, every, n.hub.Counts) }()
		go func() { _ = n.broker.ShareStats(ctx, every, func() []byte { return fmt.Appendf(nil, "node %d", i) }) }()
	}
	waitFor(t, "both nodes' stats", func() bool {
		m, err := nodes[0].broker.ClusterStats()
		return err == nil && string(m[nodes[0].broker.Node()]) == "node 0" && string(m[nodes[1].broker.Node()]) == "node 1"
	})
	s, _ := nodes[1].connect(t, "x", "room", nil)
	nodes[0].connect(t, "y", "room", nil)
	waitFor(t, "2 in the room", func() bool {
		c, _, err := nodes[0].broker.ClusterPresence("room")
		return err == nil && c == 2
	})
	if err := nodes[1].hub.Unsubscribe(s, "room"); err != nil {
		t.Fatal(err)
	}
	// The key's TTL is 3 intervals; the node deletes it within one.
	deadline := time.Now().Add(3 * every)
	for {
		ns, err := nodes[0].broker.PresenceByNode("room")
		if err == nil && len(ns) == 1 && ns[0].Node == nodes[0].broker.Node() && ns[0].Clients == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("node 1's share of the room is still there: %v %v", ns, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
