package natsbroker_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/rtd-project/rtd/broker/natsbroker"
	"github.com/rtd-project/rtd/hub"
)

// TestPositionsOnTheBus: the promise of a position (issue 12) on a cluster.
// The stream holds every channel's epoch and offsets, so a channel without
// subscribers anywhere keeps them: a position taken on a quiet channel
// recovers what was published since, and history expiring (MaxAge) on a
// channel loses its publications but not its stream.
func TestPositionsOnTheBus(t *testing.T) {
	const ttl = time.Second
	nodes, _ := cluster(t, 2, natsbroker.Options{HistoryTTL: ttl}, hub.Options{HistoryTTL: ttl})
	a, b := nodes[0], nodes[1]
	publish := func(ch string) hub.Position {
		t.Helper()
		pos, err := b.hub.Publish(ch, hub.Publication{Data: []byte("x")})
		if err != nil {
			t.Fatal(err)
		}
		return pos
	}

	// A quiet channel: subscribed before any publication, left, then five.
	s, res := a.connect(t, "quiet", "quiet", nil)
	start := res.Position
	a.hub.Disconnect(s)
	var all []hub.Position
	for range 5 {
		all = append(all, publish("quiet"))
	}
	_, res = a.connect(t, "quiet2", "quiet", &start)
	if !res.Recovered || res.Position.Epoch != start.Epoch {
		t.Fatalf("from the quiet channel's position %v: recovered %v at %v, want true in its epoch", start, res.Recovered, res.Position)
	}
	checkStream(t, "quiet", res.Missed, all)

	// History expires while nobody is subscribed: nothing missed is
	// recovered; missed and expired is not, in the same epoch.
	publish("ttl")
	s, res = a.connect(t, "ttl", "ttl", nil)
	at := res.Position
	a.hub.Disconnect(s)
	waitExpired := func(ch string) {
		waitFor(t, "the stream to expire "+ch, func() bool {
			rd, err := b.broker.Read(ch, 0)
			return err == nil && len(rd.Publications) == 0
		})
	}
	waitExpired("ttl")
	_, res = a.connect(t, "ttl2", "ttl", &at)
	if !res.Recovered || res.Position.Epoch != at.Epoch {
		t.Fatalf("at the top %v after expiry: recovered %v at %v, want true", at, res.Recovered, res.Position)
	}
	a.hub.Disconnect(s)
	missed := publish("ttl")
	waitExpired("ttl")
	_, res = a.connect(t, "ttl3", "ttl", &at)
	if res.Recovered || res.Position.Epoch != at.Epoch || res.Position.Offset < missed.Offset {
		t.Fatalf("missed %v, expired: recovered %v at %v, want false in epoch %s at or after it", missed, res.Recovered, res.Position, at.Epoch)
	}
	if next := publish("ttl"); next.Epoch != at.Epoch || next.Offset <= missed.Offset {
		t.Fatalf("next publication at %v, want after %v in the same epoch", next, missed)
	}
}

// TestPositionsOnTheBusOtherChannels documents where the bus falls short of
// the single node: once a channel's publications have all expired, the
// stream no longer knows the channel's last offset, only the stream's first
// retained one — so a client that missed nothing on a channel, while other
// channels published and expired too, is told recovered:false (the safe
// side: reload, never a wrong recovery).
func TestPositionsOnTheBusOtherChannels(t *testing.T) {
	const ttl = time.Second
	nodes, _ := cluster(t, 1, natsbroker.Options{HistoryTTL: ttl}, hub.Options{HistoryTTL: ttl})
	a := nodes[0]
	if _, err := a.hub.Publish("mine", hub.Publication{Data: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	s, res := a.connect(t, "s", "mine", nil)
	at := res.Position
	a.hub.Disconnect(s)
	for i := range 3 {
		if _, err := a.hub.Publish(fmt.Sprint("other", i), hub.Publication{Data: []byte("y")}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the stream to expire every channel", func() bool {
		for _, ch := range []string{"mine", "other0", "other1", "other2"} {
			if rd, err := a.broker.Read(ch, 0); err != nil || len(rd.Publications) > 0 {
				return false
			}
		}
		return true
	})
	_, res = a.connect(t, "s2", "mine", &at)
	if res.Position.Epoch != at.Epoch || len(res.Missed) > 0 {
		t.Fatalf("at %v with %d missed, want epoch %s kept and nothing missed", res.Position, len(res.Missed), at.Epoch)
	}
	t.Logf("missed nothing on the channel, others expired: recovered %v (a single node says true)", res.Recovered)
}
