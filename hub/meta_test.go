package hub

import (
	"fmt"
	"runtime"
	"testing"
	"time"
)

// TestQuietChannelKeepsEpoch (issue 12, item 1): a client subscribed to a
// channel before its first publication and left; five publications later it
// comes back with its position and gets all five, in the same epoch.
func TestQuietChannelKeepsEpoch(t *testing.T) {
	h, _ := newTestHub(t, 1, Options{})
	tc := connect(t, h, "tc", "", 0)
	start := subscribe(t, h, tc, "quiet", nil).Position
	if start.Offset != 0 {
		t.Fatalf("position %v, want offset 0", start)
	}
	h.Disconnect(tc)
	for i := range 5 {
		publish(t, h, "quiet", fmt.Sprint(i))
	}
	tc = connect(t, h, "tc", "", 0)
	res := subscribe(t, h, tc, "quiet", &start)
	if !res.Recovered || res.Position != (Position{start.Epoch, 5}) || len(res.Missed) != 5 {
		t.Fatalf("recovered=%v at %v with %d missed, want true at %s:5 with 5", res.Recovered, res.Position, len(res.Missed), start.Epoch)
	}
	for i, m := range res.Missed {
		if m.Offset != uint64(i+1) || string(m.Data) != fmt.Sprint(i) {
			t.Errorf("missed[%d] = %q at %d", i, m.Data, m.Offset)
		}
	}
}

// TestHistoryTTLKeepsPosition (issue 12, item 2): history expiring while
// nobody is subscribed loses the publications, not the stream. A client at
// the top missed nothing and is recovered; one that missed expired
// publications is told so, in the same epoch, and offsets go on.
func TestHistoryTTLKeepsPosition(t *testing.T) {
	clock := newFakeClock()
	h, _ := newTestHub(t, 1, Options{HistoryTTL: 2 * time.Second, Now: clock.Now})
	publish(t, h, "ch", "1")
	tc := connect(t, h, "tc", "", 0)
	at := subscribe(t, h, tc, "ch", nil).Position
	h.Disconnect(tc)
	clock.Advance(3 * time.Second)
	h.Sweep()
	if n := h.Stats().Channels; n != 0 {
		t.Fatalf("%d channels alive, want the idle one dropped", n)
	}

	tc = connect(t, h, "tc", "", 0)
	res := subscribe(t, h, tc, "ch", &at)
	if !res.Recovered || res.Position != at || len(res.Missed) != 0 {
		t.Fatalf("at the top: recovered=%v at %v with %d missed, want true at %v with none", res.Recovered, res.Position, len(res.Missed), at)
	}
	h.Disconnect(tc)

	// Missed two, and they expired.
	publish(t, h, "ch", "2")
	publish(t, h, "ch", "3")
	clock.Advance(3 * time.Second)
	tc = connect(t, h, "tc", "", 0)
	res = subscribe(t, h, tc, "ch", &at)
	if res.Recovered || res.Position != (Position{at.Epoch, 3}) {
		t.Fatalf("missed and expired: recovered=%v at %v, want false at %s:3", res.Recovered, res.Position, at.Epoch)
	}
	if pos := publish(t, h, "ch", "4"); pos != (Position{at.Epoch, 4}) {
		t.Fatalf("next publication at %v, want %s:4", pos, at.Epoch)
	}
}

// TestHistoryMetaTTL: the stream is remembered for HistoryMetaTTL after the
// channel went idle, Sweep forgets it after, and a negative TTL forgets at
// once.
func TestHistoryMetaTTL(t *testing.T) {
	for _, tc := range []struct {
		name   string
		ttl    time.Duration
		idle   time.Duration
		sweep  bool
		stream bool // the channel continues its stream
	}{
		{"within", time.Hour, time.Hour - time.Second, false, true},
		{"within, swept", time.Hour, time.Hour - time.Second, true, true},
		{"after", time.Hour, time.Hour, false, false},
		{"after, swept", time.Hour, time.Hour, true, false},
		{"default", 0, 23 * time.Hour, true, true},
		{"off", -1, 0, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := newFakeClock()
			h, _ := newTestHub(t, 1, Options{HistoryMetaTTL: tc.ttl, Now: clock.Now})
			c := connect(t, h, "c", "", 0)
			at := subscribe(t, h, c, "ch", nil).Position
			h.Disconnect(c)
			clock.Advance(tc.idle)
			if tc.sweep {
				h.Sweep()
			}
			c = connect(t, h, "c", "", 0)
			res := subscribe(t, h, c, "ch", &at)
			if got := res.Recovered && res.Position == at; got != tc.stream {
				t.Errorf("recovered=%v at %v from %v, want the stream continued: %v", res.Recovered, res.Position, at, tc.stream)
			}
		})
	}
}

// TestMetaWithoutHistory: a channel that keeps no history still counts the
// publications nobody received while it was idle, so a client coming back
// is told it missed them; History answers an idle channel's position.
func TestMetaWithoutHistory(t *testing.T) {
	h, _ := newTestHub(t, 1, Options{ChannelOptions: func(ch string, base ChannelOptions) ChannelOptions {
		if ch == "none" {
			base.HistorySize = 0
		}
		return base
	}})
	c := connect(t, h, "c", "", 0)
	at := subscribe(t, h, c, "none", nil).Position
	h.Disconnect(c)
	pos := publish(t, h, "none", "x")
	if pos != (Position{at.Epoch, 1}) {
		t.Fatalf("publication at %v, want %s:1", pos, at.Epoch)
	}
	c = connect(t, h, "c", "", 0)
	if res := subscribe(t, h, c, "none", &at); res.Recovered || res.Position != pos {
		t.Fatalf("recovered=%v at %v, want false at %v", res.Recovered, res.Position, pos)
	}

	c2 := connect(t, h, "c2", "", 0)
	at = subscribe(t, h, c2, "kept", nil).Position
	h.Disconnect(c2)
	res, err := h.History("kept", &at, 0)
	if err != nil || !res.Recovered || res.Position != at {
		t.Fatalf("history of an idle channel: %+v %v, want recovered at %v", res, err, at)
	}
}

// TestMaxHistoryMeta: past the bound a record goes; the channel that lost
// it starts a new epoch (its clients are told recovered:false).
func TestMaxHistoryMeta(t *testing.T) {
	h, _ := newTestHub(t, 1, Options{Shards: 1, MaxHistoryMeta: 3})
	c := connect(t, h, "c", "", 0)
	at := map[string]Position{}
	for i := range 5 {
		ch := fmt.Sprint("ch", i)
		at[ch] = subscribe(t, h, c, ch, nil).Position
		if err := h.Unsubscribe(c, ch); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(h.shards[0].meta.m); n != 3 {
		t.Fatalf("%d records, want 3", n)
	}
	kept := 0
	for ch, pos := range at {
		if subscribe(t, h, c, ch, &pos).Recovered {
			kept++
		}
	}
	if kept != 3 {
		t.Fatalf("%d channels continued their stream, want 3", kept)
	}
}

// TestIdleChannelMemory: what 100,000 idle channels cost once their
// subscribers are gone: their records only, at most 100 B each (issue 12).
func TestIdleChannelMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("measures the heap")
	}
	const n = 100_000
	h, _ := newTestHub(t, 1, Options{})
	c := connect(t, h, "c", "", 0)
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("room:%d", i)
	}
	before := heapInUse()
	for _, ch := range names {
		subscribe(t, h, c, ch, nil)
		if err := h.Unsubscribe(c, ch); err != nil {
			t.Fatal(err)
		}
	}
	after := heapInUse()
	if h.Stats().Channels != 0 {
		t.Fatal("channels still live")
	}
	per := float64(after-before) / n
	t.Logf("%.1f B per idle channel", per)
	if per > 100 {
		t.Errorf("%.1f B per idle channel, want at most 100", per)
	}
	runtime.KeepAlive(h)
	runtime.KeepAlive(names)
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// BenchmarkIdleChannel: the heap an idle channel's record costs, as
// B/channel.
func BenchmarkIdleChannel(b *testing.B) {
	h, _ := newTestHub(b, 1, Options{})
	c := connect(b, h, "c", "", 0)
	names := make([]string, b.N)
	for i := range names {
		names[i] = fmt.Sprintf("room:%d", i)
	}
	before := heapInUse()
	b.ResetTimer()
	for _, ch := range names {
		if _, err := h.Subscribe(c, ch, nil); err != nil {
			b.Fatal(err)
		}
		if err := h.Unsubscribe(c, ch); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(heapInUse()-before)/float64(b.N), "B/channel")
	runtime.KeepAlive(h)
	runtime.KeepAlive(names)
}
