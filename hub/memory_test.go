package hub

import (
	"runtime"
	"strconv"
	"testing"
)

// ownChannelBudget bounds the live heap a connection's subscription to a
// channel of its own (a user's personal channel, say) adds on a hub of
// eight loops: the channel, its set on the one loop that has a subscriber,
// the subscription. A set per loop made up front, a presence map for no
// named user and a full 4 KiB chunk for one member made it 5,405 bytes on
// two loops; measured 518–521 (539 under -race) when the budget was set.
const ownChannelBudget = 570

// TestOwnChannelHeap: per-connection channels cost what one member needs.
func TestOwnChannelHeap(t *testing.T) {
	const loops, n = 8, 4000
	h, _ := newTestHub(t, loops, Options{})
	conns := connectMany(t, h, "c", n, loops)
	names := make([]string, n)
	for i := range names {
		names[i] = "user:" + strconv.Itoa(i)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i, c := range conns {
		if _, err := h.Subscribe(c, names[i], nil); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := (int64(after.HeapAlloc) - int64(before.HeapAlloc)) / n
	t.Logf("a subscription to a channel of its own: %d bytes of live heap (budget %d)", per, ownChannelBudget)
	if per > ownChannelBudget {
		t.Errorf("a subscription to a channel of its own keeps %d bytes, more than its budget of %d", per, ownChannelBudget)
	}
	runtime.KeepAlive(conns)
	runtime.KeepAlive(names)
}
