package hub

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestPublishOrderConcurrentPublishers: several goroutines publish to one
// channel; every subscriber sees every offset exactly once, in increasing
// order, each publisher's messages in its own order, and each loop gets one
// batch per publication.
func TestPublishOrderConcurrentPublishers(t *testing.T) {
	const loops, subs, publishers, each = 3, 30, 4, 200
	h, n := newTestHub(t, loops, Options{})
	conns := connectMany(t, h, "c", subs, loops)
	for _, tc := range conns {
		subscribe(t, h, tc, "news", nil)
	}
	var wg sync.WaitGroup
	for g := range publishers {
		wg.Go(func() {
			for i := range each {
				publish(t, h, "news", fmt.Sprintf("%d:%d", g, i))
			}
		})
	}
	wg.Wait()
	n.flush()
	const total = publishers * each
	for _, tc := range conns {
		offs := tc.offsets("news")
		if len(offs) != total {
			t.Fatalf("%s received %d publications, want %d", tc.c.ID, len(offs), total)
		}
		for i, o := range offs {
			if o != uint64(i+1) {
				t.Fatalf("%s: publication %d has offset %d, want %d", tc.c.ID, i, o, i+1)
			}
		}
		next := make([]int, publishers)
		for _, m := range tc.got {
			var g, i int
			fmt.Sscanf(string(m.Data), "%d:%d", &g, &i)
			if i != next[g] {
				t.Fatalf("%s: publisher %d message %d arrived when %d was due", tc.c.ID, g, i, next[g])
			}
			next[g]++
		}
	}
	for loop := range loops {
		if got := n.batches[loop].Load(); got != total {
			t.Errorf("loop %d got %d batches, want %d (one per publication)", loop, got, total)
		}
	}
	if got := n.encoded.Load(); got != total {
		t.Errorf("Encode called %d times, want %d (once per publication)", got, total)
	}
}

func TestRecovery(t *testing.T) {
	clock := newFakeClock()
	h, n := newTestHub(t, 2, Options{HistorySize: 8, HistoryTTL: time.Minute, Now: clock.Now})
	keeper := connect(t, h, "keeper", "", 0) // keeps the channel incarnation alive
	subscribe(t, h, keeper, "ch", nil)
	tc := connect(t, h, "tc", "", 1)
	subscribe(t, h, tc, "ch", nil)
	for i := range 3 {
		publish(t, h, "ch", fmt.Sprint("before", i))
	}
	n.flush()
	last := tc.got[len(tc.got)-1].Position()
	if err := h.Unsubscribe(tc, "ch"); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		publish(t, h, "ch", fmt.Sprint("missed", i))
	}

	res := subscribe(t, h, tc, "ch", &last)
	if !res.Recovered {
		t.Fatal("recovered = false, want true")
	}
	if len(res.Missed) != 5 {
		t.Fatalf("missed %d publications, want 5", len(res.Missed))
	}
	for i, m := range res.Missed {
		if want := fmt.Sprint("missed", i); string(m.Data) != want || m.Offset != last.Offset+uint64(i)+1 {
			t.Errorf("missed[%d] = %q at %d, want %q at %d", i, m.Data, m.Offset, want, last.Offset+uint64(i)+1)
		}
	}
	if res.Position != (Position{last.Epoch, 8}) {
		t.Errorf("position = %v, want %s:8", res.Position, last.Epoch)
	}
	before := len(tc.got)
	publish(t, h, "ch", "live")
	n.flush()
	if len(tc.got) != before+1 || string(tc.got[before].Data) != "live" || tc.got[before].Offset != 9 {
		t.Fatalf("after recovery: got %d new publications, want the live one at offset 9", len(tc.got)-before)
	}

	resubscribe := func(since Position) SubscribeResult {
		t.Helper()
		if err := h.Unsubscribe(tc, "ch"); err != nil {
			t.Fatal(err)
		}
		return subscribe(t, h, tc, "ch", &since)
	}
	t.Run("at the top", func(t *testing.T) {
		res := resubscribe(Position{last.Epoch, 9})
		if !res.Recovered || len(res.Missed) != 0 {
			t.Errorf("recovered=%v missed=%d, want true and none", res.Recovered, len(res.Missed))
		}
	})
	t.Run("exactly the history", func(t *testing.T) {
		res := resubscribe(Position{last.Epoch, 1}) // offsets 2..9: 8 = HistorySize
		if !res.Recovered || len(res.Missed) != 8 || res.Missed[0].Offset != 2 {
			t.Errorf("recovered=%v missed=%d, want true and 8 from offset 2", res.Recovered, len(res.Missed))
		}
	})
	t.Run("older than history", func(t *testing.T) {
		res := resubscribe(Position{last.Epoch, 0}) // offsets 1..9: 9 > HistorySize
		if res.Recovered || len(res.Missed) != 0 {
			t.Errorf("recovered=%v missed=%d, want false and none", res.Recovered, len(res.Missed))
		}
	})
	t.Run("another epoch", func(t *testing.T) {
		res := resubscribe(Position{"deadbeef", 9})
		if res.Recovered {
			t.Error("recovered = true for a foreign epoch")
		}
	})
	t.Run("from the future", func(t *testing.T) {
		res := resubscribe(Position{last.Epoch, 10})
		if res.Recovered {
			t.Error("recovered = true for an offset never assigned")
		}
	})
	t.Run("after TTL", func(t *testing.T) {
		clock.Advance(30 * time.Second)
		publish(t, h, "ch", "fresh") // offset 10, younger than the rest
		clock.Advance(31 * time.Second)
		res := resubscribe(Position{last.Epoch, 9})
		if !res.Recovered || len(res.Missed) != 1 || string(res.Missed[0].Data) != "fresh" {
			t.Errorf("recovered=%v missed=%d, want true and the one unexpired publication", res.Recovered, len(res.Missed))
		}
		res = resubscribe(Position{last.Epoch, 8})
		if res.Recovered {
			t.Error("recovered = true although offset 9 expired")
		}
	})
	t.Run("back from idle", func(t *testing.T) {
		clock.Advance(time.Hour) // everything expires
		h.Disconnect(keeper)
		h.Disconnect(tc)
		if got := h.Stats().Channels; got != 0 {
			t.Fatalf("%d channels alive, want 0", got)
		}
		tc2 := connect(t, h, "tc2", "", 0)
		res := subscribe(t, h, tc2, "ch", &Position{last.Epoch, 10})
		if !res.Recovered || res.Position != (Position{last.Epoch, 10}) {
			t.Errorf("recovered=%v position=%v, want true at %s:10 (nothing missed)", res.Recovered, res.Position, last.Epoch)
		}
	})
	t.Run("new incarnation", func(t *testing.T) {
		c, _ := h.Client("tc2")
		h.Disconnect(c.Subscriber())
		clock.Advance(DefaultHistoryMetaTTL)
		tc3 := connect(t, h, "tc3", "", 0)
		res := subscribe(t, h, tc3, "ch", &Position{last.Epoch, 10})
		if res.Recovered || res.Position.Epoch == last.Epoch || res.Position.Offset != 0 {
			t.Errorf("recovered=%v position=%v, want false in a new epoch at offset 0", res.Recovered, res.Position)
		}
	})
}

// TestSubscribeRacesPublishers: conns subscribe with a position from before
// the publications while publishers run. Missed followed by what arrives live
// must be exactly 1..total: no duplicate, no gap.
func TestSubscribeRacesPublishers(t *testing.T) {
	const loops, publishers, each, late = 2, 3, 300, 24
	const total = publishers * each
	h, n := newTestHub(t, loops, Options{HistorySize: total})
	keeper := connect(t, h, "keeper", "", 0)
	start := subscribe(t, h, keeper, "ch", nil).Position
	conns := connectMany(t, h, "late", late, loops)
	missed := make([][]*Prepared, late)
	var wg sync.WaitGroup
	for g := range publishers {
		wg.Go(func() {
			for i := range each {
				publish(t, h, "ch", fmt.Sprint(g, i))
			}
		})
	}
	for i, tc := range conns {
		wg.Go(func() {
			res := subscribe(t, h, tc, "ch", &start)
			if !res.Recovered {
				t.Errorf("%s: not recovered", tc.c.ID)
			}
			missed[i] = res.Missed
		})
	}
	wg.Wait()
	n.flush()
	var sawLive, sawMissed bool
	for i, tc := range conns {
		var offs []uint64
		for _, m := range missed[i] {
			offs = append(offs, m.Offset)
		}
		live := tc.offsets("ch")
		sawLive = sawLive || len(live) > 0
		sawMissed = sawMissed || len(missed[i]) > 0
		offs = append(offs, live...)
		if len(offs) != total {
			t.Fatalf("%s: %d missed + %d live = %d, want %d", tc.c.ID, len(missed[i]), len(live), len(offs), total)
		}
		for j, o := range offs {
			if o != uint64(j+1) {
				t.Fatalf("%s: publication %d has offset %d, want %d (missed %d)", tc.c.ID, j, o, j+1, len(missed[i]))
			}
		}
	}
	t.Logf("some conns got live publications: %v, some recovered missed ones: %v", sawLive, sawMissed)
}

func TestPresenceUnderChurn(t *testing.T) {
	const loops, workers, rounds = 2, 8, 200
	h, _ := newTestHub(t, loops, Options{MaxPresenceList: 5})
	users := []string{"", "u1", "u2", "u3", "u4"}
	var conns []*testConn
	for i := range 40 {
		conns = append(conns, connect(t, h, fmt.Sprint("c", i), users[i%len(users)], i%loops))
	}
	// Each worker owns a slice of the conns and toggles their subscriptions.
	subscribed := make([]bool, len(conns))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 1))
			for range rounds {
				i := w + workers*r.IntN(len(conns)/workers)
				if subscribed[i] {
					if err := h.Unsubscribe(conns[i], "room"); err != nil {
						t.Error(err)
					}
				} else if _, err := h.Subscribe(conns[i], "room", nil); err != nil {
					t.Error(err)
				}
				subscribed[i] = !subscribed[i]
			}
		})
	}
	wg.Wait()
	wantClients, distinct := 0, map[string]bool{}
	for i, on := range subscribed {
		if on {
			wantClients++
			if u := conns[i].c.User; u != "" {
				distinct[u] = true
			}
		}
	}
	p, err := h.Presence("room")
	if err != nil {
		t.Fatal(err)
	}
	if p.Clients != wantClients || p.Users != len(distinct) {
		t.Errorf("presence = %d clients, %d users; want %d, %d", p.Clients, p.Users, wantClients, len(distinct))
	}
	if len(p.List) != min(wantClients, 5) {
		t.Errorf("presence list has %d entries, want %d (bounded by MaxPresenceList)", len(p.List), min(wantClients, 5))
	}
	if got := len(h.ClientsByChannel("room")); got != wantClients {
		t.Errorf("ClientsByChannel: %d, want %d", got, wantClients)
	}
	for _, tc := range conns {
		h.Disconnect(tc)
	}
	if p, _ := h.Presence("room"); p.Clients != 0 || p.Users != 0 {
		t.Errorf("after disconnects presence = %+v, want empty", p)
	}
	if st := h.Stats(); st.Subscriptions != 0 || st.Clients != 0 {
		t.Errorf("after disconnects stats = %+v", st)
	}
}

func TestPresenceDisabled(t *testing.T) {
	h, _ := newTestHub(t, 1, Options{DisablePresence: true})
	tc := connect(t, h, "a", "u", 0)
	subscribe(t, h, tc, "ch", nil)
	if _, err := h.Presence("ch"); !errors.Is(err, ErrPresenceDisabled) {
		t.Errorf("Presence: %v, want ErrPresenceDisabled", err)
	}
}

func TestJoinLeave(t *testing.T) {
	h, n := newTestHub(t, 2, Options{JoinLeave: true})
	watcher := connect(t, h, "w", "uw", 0)
	subscribe(t, h, watcher, "room", nil)
	tc := connect(t, h, "a", "ua", 1)
	subscribe(t, h, tc, "room", nil)
	publish(t, h, "room", "hello")
	h.Disconnect(tc)
	n.flush()
	var kinds []string
	for _, m := range watcher.got {
		s := m.Kind.String()
		if m.Info != nil {
			s += ":" + m.Info.Client + "/" + m.Info.User
		}
		if m.Kind != KindMessage && m.Offset != 0 {
			t.Errorf("%s event has offset %d, want 0", s, m.Offset)
		}
		kinds = append(kinds, s)
	}
	// The watcher's own join comes first: joins go to every subscriber, the
	// joiner included; a leave goes to those who stay.
	if want := []string{"join:w/uw", "join:a/ua", "message", "leave:a/ua"}; !slices.Equal(kinds, want) {
		t.Errorf("watcher got %v, want %v", kinds, want)
	}
	res, err := h.History("room", nil, 0)
	if err != nil || len(res.Publications) != 1 || res.Position.Offset != 1 {
		t.Errorf("history = %d publications at %v (%v), want only the message at offset 1", len(res.Publications), res.Position, err)
	}
}

// TestOnJoinOnLeave: the hooks see every join and leave, outside the hub's
// locks (the hook calls the hub back, which would deadlock under them).
func TestOnJoinOnLeave(t *testing.T) {
	var events []string
	var h *Hub
	hook := func(kind string) func(string, ClientInfo) {
		return func(channel string, c ClientInfo) {
			p, _ := h.Presence(channel) // calls the hub: no lock may be held
			events = append(events, fmt.Sprintf("%s %s %s/%s %d", kind, channel, c.Client, c.User, p.Clients))
		}
	}
	h, _ = newTestHub(t, 2, Options{OnJoin: hook("join"), OnLeave: hook("leave")})
	a := connect(t, h, "a", "ua", 0)
	b := connect(t, h, "b", "", 1)
	subscribe(t, h, a, "x", nil)
	subscribe(t, h, a, "y", nil)
	subscribe(t, h, b, "x", nil)
	if _, err := h.Subscribe(b, "x", nil); !errors.Is(err, ErrAlreadySubscribed) {
		t.Fatalf("second subscribe: %v", err)
	}
	if err := h.Unsubscribe(b, "x"); err != nil {
		t.Fatal(err)
	}
	if err := h.Unsubscribe(b, "x"); !errors.Is(err, ErrNotSubscribed) {
		t.Fatalf("second unsubscribe: %v", err)
	}
	h.Disconnect(a)
	slices.Sort(events[len(events)-2:]) // a's channels leave in no set order
	want := []string{
		"join x a/ua 1", "join y a/ua 1", "join x b/ 2",
		"leave x b/ 1",
		"leave x a/ua 0", "leave y a/ua 0",
	}
	if !slices.Equal(events, want) {
		t.Fatalf("hooks saw\n%v\nwant\n%v", events, want)
	}
}

func TestUserLimitReject(t *testing.T) {
	h, _ := newTestHub(t, 2, Options{MaxConnsPerUser: 2})
	connect(t, h, "a1", "alice", 0)
	connect(t, h, "a2", "alice", 1)
	if err := h.Connect(&testConn{c: Client{ID: "a3", User: "alice"}}); !errors.Is(err, ErrTooManyUserConns) {
		t.Errorf("third connection of alice: %v, want ErrTooManyUserConns", err)
	}
	connect(t, h, "b1", "bob", 0)
	for i := range 5 { // anonymous connections have no per-user limit
		connect(t, h, fmt.Sprint("anon", i), "", 0)
	}
	if st := h.Stats(); st.Clients != 8 || st.Users != 2 {
		t.Errorf("stats = %+v, want 8 clients of 2 users", st)
	}
}

func TestUserLimitEvictOldest(t *testing.T) {
	h, n := newTestHub(t, 2, Options{MaxConnsPerUser: 2, UserLimit: UserLimitEvictOldest})
	a1 := connect(t, h, "a1", "alice", 0)
	subscribe(t, h, a1, "ch", nil)
	a2 := connect(t, h, "a2", "alice", 1)
	a3 := connect(t, h, "a3", "alice", 0)
	if r, ok := n.evictedReason(a1); !ok || r != ReasonUserLimit {
		t.Fatalf("oldest connection evicted = %v (%q), want true (%q)", ok, r, ReasonUserLimit)
	}
	if _, ok := n.evictedReason(a2); ok {
		t.Error("second connection evicted too")
	}
	if _, ok := h.Client("a1"); ok {
		t.Error("evicted connection still registered")
	}
	if got := h.ClientsByChannel("ch"); len(got) != 0 {
		t.Errorf("evicted connection still subscribed: %d subscribers", len(got))
	}
	h.Disconnect(a1) // the server's own cleanup afterwards is a no-op
	connect(t, h, "a4", "alice", 1)
	if _, ok := n.evictedReason(a2); !ok {
		t.Error("a4 did not evict a2, the oldest remaining")
	}
	if _, ok := n.evictedReason(a3); ok {
		t.Error("a4 evicted a3 instead of a2")
	}
	if st := h.Stats(); st.Clients != 2 || st.Evicted != 2 {
		t.Errorf("stats = %+v, want 2 clients, 2 evicted", st)
	}
}

func TestMaxConns(t *testing.T) {
	h, _ := newTestHub(t, 1, Options{MaxConns: 2})
	a := connect(t, h, "a", "", 0)
	connect(t, h, "b", "", 0)
	if err := h.Connect(&testConn{c: Client{ID: "c"}}); !errors.Is(err, ErrTooManyConns) {
		t.Errorf("connect over MaxConns: %v, want ErrTooManyConns", err)
	}
	h.Disconnect(a)
	connect(t, h, "c", "", 0)
}

func TestConnectErrors(t *testing.T) {
	h, _ := newTestHub(t, 2, Options{})
	a := connect(t, h, "a", "", 0)
	if err := h.Connect(a); !errors.Is(err, ErrAlreadyConnected) {
		t.Errorf("second Connect: %v", err)
	}
	if err := h.Connect(&testConn{c: Client{ID: "a"}}); !errors.Is(err, ErrDuplicateClient) {
		t.Errorf("duplicate ID: %v", err)
	}
	if err := h.Connect(&testConn{c: Client{ID: "x", Loop: 2}}); !errors.Is(err, ErrInvalidLoop) {
		t.Errorf("loop out of range: %v", err)
	}
	stranger := &testConn{c: Client{ID: "s"}}
	if _, err := h.Subscribe(stranger, "ch", nil); !errors.Is(err, ErrNotConnected) {
		t.Errorf("subscribe before connect: %v", err)
	}
}

func TestSendToUserAndBroadcast(t *testing.T) {
	h, n := newTestHub(t, 3, Options{})
	a1 := connect(t, h, "a1", "alice", 0)
	a2 := connect(t, h, "a2", "alice", 2)
	b1 := connect(t, h, "b1", "bob", 1)
	anon := connect(t, h, "x", "", 1)
	if !h.SendTo("b1", Publication{Data: []byte("to-b1")}) {
		t.Error("SendTo(b1) = false")
	}
	if h.SendTo("nobody", Publication{Data: []byte("lost")}) {
		t.Error("SendTo(nobody) = true")
	}
	if got := h.SendToUser("alice", Publication{Data: []byte("to-alice")}); got != 2 {
		t.Errorf("SendToUser(alice) = %d, want 2", got)
	}
	if got := h.SendToUser("", Publication{Data: []byte("to-anon")}); got != 0 {
		t.Errorf("SendToUser(\"\") = %d, want 0", got)
	}
	if err := h.Broadcast(Publication{Data: []byte("all")}); err != nil {
		t.Fatal(err)
	}
	h.Disconnect(anon)
	if err := h.Broadcast(Publication{Data: []byte("all2")}); err != nil {
		t.Fatal(err)
	}
	n.flush()
	data := func(tc *testConn) string {
		var s []string
		for _, m := range tc.got {
			s = append(s, string(m.Data))
		}
		return strings.Join(s, ",")
	}
	for tc, want := range map[*testConn]string{
		a1:   "to-alice,all,all2",
		a2:   "to-alice,all,all2",
		b1:   "to-b1,all,all2",
		anon: "all",
	} {
		if got := data(tc); got != want {
			t.Errorf("%s received %q, want %q", tc.c.ID, got, want)
		}
	}
}

func TestChannelLimits(t *testing.T) {
	h, _ := newTestHub(t, 1, Options{MaxChannelsPerClient: 3, MaxChannelNameBytes: 10})
	tc := connect(t, h, "a", "", 0)
	for _, name := range []string{"", "01234567890", "a\nb", "a\x00", "del\x7f", "c1\u0085", "bad\xff", "\t"} {
		if _, err := h.Subscribe(tc, name, nil); !errors.Is(err, ErrInvalidChannel) {
			t.Errorf("Subscribe(%q): %v, want ErrInvalidChannel", name, err)
		}
		if _, err := h.Publish(name, Publication{}); !errors.Is(err, ErrInvalidChannel) {
			t.Errorf("Publish(%q): %v, want ErrInvalidChannel", name, err)
		}
	}
	for _, name := range []string{"0123456789", "chat:42", "ünï"} {
		subscribe(t, h, tc, name, nil)
	}
	if _, err := h.Subscribe(tc, "one-more", nil); !errors.Is(err, ErrTooManyChannels) {
		t.Errorf("4th channel: %v, want ErrTooManyChannels", err)
	}
	if _, err := h.Subscribe(tc, "chat:42", nil); !errors.Is(err, ErrAlreadySubscribed) {
		t.Errorf("duplicate subscription: %v, want ErrAlreadySubscribed", err)
	}
	if err := h.Unsubscribe(tc, "nope"); !errors.Is(err, ErrNotSubscribed) {
		t.Errorf("Unsubscribe of a channel not subscribed: %v", err)
	}
	if err := h.Unsubscribe(tc, "chat:42"); err != nil {
		t.Fatal(err)
	}
	subscribe(t, h, tc, "one-more", nil)
}

func TestHistory(t *testing.T) {
	h, _ := newTestHub(t, 1, Options{HistorySize: 5})
	var pos Position
	for i := range 7 { // no subscribers: history alone keeps the channel
		pos = publish(t, h, "h", fmt.Sprint(i))
	}
	if pos.Offset != 7 || len(pos.Epoch) != 8 {
		t.Fatalf("position after 7 publications = %v", pos)
	}
	got := func(r HistoryResult) string {
		var s []string
		for _, m := range r.Publications {
			s = append(s, string(m.Data))
		}
		return strings.Join(s, "")
	}
	for _, c := range []struct {
		name          string
		since         *Position
		limit         int
		want          string
		wantRecovered bool
	}{
		{"all", nil, 0, "23456", false},
		{"latest 2", nil, 2, "56", false},
		{"since 4", &Position{pos.Epoch, 4}, 0, "456", true},
		{"since 3, first 2", &Position{pos.Epoch, 3}, 2, "34", true},
		{"since the top", &Position{pos.Epoch, 7}, 0, "", true},
		{"since too old", &Position{pos.Epoch, 1}, 0, "23456", false},
		{"other epoch", &Position{"x", 4}, 3, "234", false},
	} {
		r, err := h.History("h", c.since, c.limit)
		if err != nil {
			t.Fatal(err)
		}
		if got(r) != c.want || r.Recovered != c.wantRecovered || r.Position != pos {
			t.Errorf("%s: %q recovered=%v at %v, want %q %v at %v", c.name, got(r), r.Recovered, r.Position, c.want, c.wantRecovered, pos)
		}
	}
	if r, err := h.History("empty", nil, 0); err != nil || len(r.Publications) != 0 {
		t.Errorf("history of an unknown channel: %v, %v", r, err)
	}
}

func TestChannelOptionsHook(t *testing.T) {
	h, _ := newTestHub(t, 1, Options{ChannelOptions: func(ch string, base ChannelOptions) ChannelOptions {
		if strings.HasPrefix(ch, "volatile:") {
			base.HistorySize = 0
		}
		return base
	}})
	if pos := publish(t, h, "volatile:x", "gone"); pos != (Position{}) {
		t.Errorf("publish with no subscribers and no history: %v, want the zero position", pos)
	}
	if _, err := h.History("volatile:x", nil, 0); !errors.Is(err, ErrHistoryDisabled) {
		t.Errorf("History: %v, want ErrHistoryDisabled", err)
	}
	publish(t, h, "kept:x", "kept")
	if got := h.Channels(); !slices.Equal(got, []string{"kept:x"}) {
		t.Errorf("channels = %v, want [kept:x]", got)
	}
}

func TestSweepDropsExpiredChannels(t *testing.T) {
	clock := newFakeClock()
	h, _ := newTestHub(t, 1, Options{HistoryTTL: time.Second, Now: clock.Now})
	publish(t, h, "a", "1")
	clock.Advance(500 * time.Millisecond)
	publish(t, h, "b", "1")
	clock.Advance(600 * time.Millisecond)
	h.Sweep()
	if got := h.Channels(); !slices.Equal(got, []string{"b"}) {
		t.Errorf("after sweep channels = %v, want [b]", got)
	}
	if st := h.Stats(); st.Channels != 1 {
		t.Errorf("stats channels = %d, want 1", st.Channels)
	}
}

// TestRetainedPublications: the count follows what the rings hold — capped
// at each channel's history size, nothing for a channel without history,
// and less once expired entries are swept.
func TestRetainedPublications(t *testing.T) {
	clock := newFakeClock()
	h, _ := newTestHub(t, 1, Options{HistorySize: 5, HistoryTTL: time.Second, Now: clock.Now, ChannelOptions: func(ch string, base ChannelOptions) ChannelOptions {
		if ch == "none" {
			base.HistorySize = 0
		}
		return base
	}})
	if n := h.RetainedPublications(); n != 0 {
		t.Fatalf("new hub retains %d", n)
	}
	for i := range 7 {
		publish(t, h, "a", fmt.Sprint(i))
	}
	publish(t, h, "none", "x")
	clock.Advance(600 * time.Millisecond)
	publish(t, h, "b", "1")
	publish(t, h, "b", "2")
	if n := h.RetainedPublications(); n != 7 {
		t.Fatalf("retained %d, want 5 of a + 2 of b", n)
	}
	clock.Advance(600 * time.Millisecond) // a's entries are 1.2 s old, b's 0.6 s
	h.Sweep()
	if n := h.RetainedPublications(); n != 2 {
		t.Fatalf("after the sweep retained %d, want b's 2", n)
	}
}

func TestShutdown(t *testing.T) {
	h, n := newTestHub(t, 2, Options{})
	conns := connectMany(t, h, "c", 4, 2)
	subscribe(t, h, conns[0], "ch", nil)
	h.Shutdown()
	for _, tc := range conns {
		if r, ok := n.evictedReason(tc); !ok || r != ReasonShutdown {
			t.Errorf("%s evicted = %v %q", tc.c.ID, ok, r)
		}
	}
	if err := h.Connect(&testConn{c: Client{ID: "late"}}); !errors.Is(err, ErrShutdown) {
		t.Errorf("Connect after Shutdown: %v", err)
	}
	if _, err := h.Publish("ch", Publication{}); !errors.Is(err, ErrShutdown) {
		t.Errorf("Publish after Shutdown: %v", err)
	}
	if st := h.Stats(); st.Clients != 0 || st.Subscriptions != 0 || st.Evicted != 4 {
		t.Errorf("stats after shutdown = %+v", st)
	}
}

// TestStress churns subscribe, unsubscribe, publish and disconnect at once
// (run it with -race). Whatever a conn receives on a channel must still be in
// strictly increasing offset order, and everything must be cleaned up.
func TestStress(t *testing.T) {
	const loops, conns, workers, ops = 3, 60, 6, 1500
	channels := []string{"a", "b", "c", "d"}
	h, n := newTestHub(t, loops, Options{HistorySize: 16, JoinLeave: true})
	all := connectMany(t, h, "c", conns, loops)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 2))
			for range ops {
				tc := all[r.IntN(conns)]
				ch := channels[r.IntN(len(channels))]
				switch r.IntN(10) {
				case 0, 1, 2:
					h.Subscribe(tc, ch, &Position{})
				case 3, 4:
					h.Unsubscribe(tc, ch)
				case 5:
					h.Disconnect(tc)
					h.Connect(tc)
				case 6:
					h.Presence(ch)
					h.History(ch, nil, 4)
				default:
					if _, err := h.Publish(ch, Publication{Data: []byte("x")}); err != nil {
						t.Error(err)
					}
				}
			}
		})
	}
	wg.Wait()
	n.flush()
	for _, tc := range all {
		for _, ch := range channels {
			offs := tc.offsets(ch)
			for i := 1; i < len(offs); i++ {
				// A conn that left and came back may see a new incarnation
				// restart its offsets, so order is checked within an epoch.
				if offs[i] <= offs[i-1] && tc.sameEpoch(ch, i) {
					t.Fatalf("%s on %s: offset %d after %d", tc.c.ID, ch, offs[i], offs[i-1])
				}
			}
		}
	}
	// The hub's counts agree with what the conns think they are subscribed to.
	total := 0
	for _, ch := range channels {
		want := 0
		for _, tc := range all {
			if tc.c.subFor(ch) != nil {
				want++
			}
		}
		total += want
		if p, err := h.Presence(ch); err != nil || p.Clients != want || len(h.ClientsByChannel(ch)) != want {
			t.Errorf("%s: presence %+v (%v), want %d clients", ch, p, err, want)
		}
	}
	if st := h.Stats(); st.Subscriptions != total {
		t.Errorf("stats: %d subscriptions, want %d", st.Subscriptions, total)
	}
	for _, tc := range all {
		h.Disconnect(tc)
	}
	if st := h.Stats(); st.Clients != 0 || st.Subscriptions != 0 {
		t.Errorf("after disconnecting everyone: %+v", st)
	}
}

// sameEpoch reports whether the i-th and (i-1)-th messages tc received on ch
// belong to the same channel incarnation.
func (tc *testConn) sameEpoch(ch string, i int) bool {
	var ms []*Prepared
	for _, m := range tc.got {
		if m.Kind == KindMessage && m.Channel == ch {
			ms = append(ms, m)
		}
	}
	return ms[i].Epoch == ms[i-1].Epoch
}

func TestPosition(t *testing.T) {
	p := Position{Epoch: "0a1b2c3d", Offset: 42}
	if s := p.String(); s != "0a1b2c3d:42" {
		t.Errorf("String = %q", s)
	}
	if q, err := ParsePosition(p.String()); err != nil || q != p {
		t.Errorf("round trip: %v, %v", q, err)
	}
	for _, bad := range []string{"", "abc", "abc:", "abc:-1", "abc:x", "abc:18446744073709551616"} {
		if _, err := ParsePosition(bad); !errors.Is(err, ErrInvalidPosition) {
			t.Errorf("ParsePosition(%q): %v", bad, err)
		}
	}
}

func TestNewValidates(t *testing.T) {
	n := newTestNet(t, 1)
	for _, o := range []Options{
		{Encoder: n},
		{Deliverer: n},
		{Deliverer: n, Encoder: n, Shards: 3},
		{Deliverer: n, Encoder: n, Loops: -1},
		{Deliverer: n, Encoder: n, MaxConns: -1},
	} {
		if _, err := New(o); !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("New(%+v): %v, want ErrInvalidOptions", o, err)
		}
	}
}
