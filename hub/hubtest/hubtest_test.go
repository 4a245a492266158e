package hubtest_test

import (
	"testing"
	"time"

	"github.com/rtd-project/rtd/hub"
	"github.com/rtd-project/rtd/hub/hubtest"
	"github.com/rtd-project/rtd/internal/failtb"
)

func TestPresenceEventsAndDirectMessages(t *testing.T) {
	h := hubtest.New(t, hub.Options{ChannelOptions: func(_ string, o hub.ChannelOptions) hub.ChannelOptions {
		o.JoinLeave = true
		return o
	}})
	a := h.Register("alice").Join("room")
	b := h.Register("bob").Join("room")
	b.Leave("room")
	a.Expect("room join c1", "room join c2", "room leave c2")
	b.Expect("room join c2")
	if n := h.SendToUser("bob", hub.Publication{Data: []byte("psst")}); n != 1 {
		t.Fatalf("SendToUser reached %d", n)
	}
	if err := h.Broadcast(hub.Publication{Data: []byte("all")}); err != nil {
		t.Fatal(err)
	}
	a.Expect("* all")
	b.Expect("* psst", "* all")
}

// History expires on the hub's clock: a resume within the TTL recovers, one
// after it is told recovered:false.
func TestClockExpiresHistory(t *testing.T) {
	h := hubtest.New(t, hub.Options{HistoryTTL: time.Minute})
	h.Register("alice").Join("news")
	from := h.Publish("news", "one")
	h.Publish("news", "two")
	if res := h.Register("").Resume("news", from); !res.Recovered || len(res.Missed) != 1 {
		t.Fatalf("within the TTL: recovered %v, %d missed", res.Recovered, len(res.Missed))
	}
	h.Advance(2 * time.Minute)
	if res := h.Register("").Resume("news", from); res.Recovered {
		t.Fatal("recovered after the TTL")
	}
}

func TestEviction(t *testing.T) {
	h := hubtest.New(t, hub.Options{MaxConnsPerUser: 1, UserLimit: hub.UserLimitEvictOldest})
	old := h.Register("alice")
	h.Register("alice")
	if old.Evicted() != hub.ReasonUserLimit {
		t.Fatalf("evicted %q", old.Evicted())
	}
}

func TestExpectFailureReadsWell(t *testing.T) {
	got := failtb.Failure(t, func(tb testing.TB) {
		h := hubtest.New(tb, hub.Options{})
		c := h.Register("u").Join("a")
		h.Publish("a", "x")
		c.Expect("a@1 y")
	})
	want := "hubtest: c1 received\n\ta@1 x\nwant\n\ta@1 y"
	if got != want {
		t.Fatalf("failed with %q, want %q", got, want)
	}
}
