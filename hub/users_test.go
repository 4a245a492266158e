package hub

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"
)

// TestUserConnsModel checks a user's connections against a plain list in
// connect order, through the switch from list to map past bigUser: the
// oldest is always the model's first, whatever was removed in between.
func TestUserConnsModel(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	var r registry
	var u userConns
	var model []*Client
	for step := range 5000 {
		if len(model) > 0 && rnd.IntN(100) < 45 {
			c := model[rnd.IntN(len(model))]
			if rnd.IntN(4) == 0 {
				c = model[0]
			}
			u.remove(c)
			model = slices.DeleteFunc(model, func(o *Client) bool { return o == c })
		} else {
			c := &Client{ID: fmt.Sprint(step)}
			u.add(c, &r)
			model = append(model, c)
		}
		if u.len() != len(model) {
			t.Fatalf("step %d: len %d, want %d", step, u.len(), len(model))
		}
		want := (*Client)(nil)
		if len(model) > 0 {
			want = model[0]
		}
		if got := u.oldest(); got != want {
			t.Fatalf("step %d: oldest %v, want %v", step, got, want)
		}
		if u.seq == nil && !slices.Equal(u.list, model) {
			t.Fatalf("step %d: list out of connect order", step)
		}
	}
	if u.seq == nil {
		t.Error("the user never grew past bigUser: the map was not exercised")
	}
}

// TestUserLimitEvictOldestBigUser: with a limit past bigUser the oldest
// remaining connection is still the one evicted, after disconnects.
func TestUserLimitEvictOldestBigUser(t *testing.T) {
	const limit = bigUser + 8
	h, n := newTestHub(t, 2, Options{MaxConnsPerUser: limit, UserLimit: UserLimitEvictOldest})
	var conns []*testConn
	for i := range limit {
		conns = append(conns, connect(t, h, fmt.Sprint("a", i), "alice", i%2))
	}
	h.Disconnect(conns[0])
	h.Disconnect(conns[2])
	connect(t, h, "b0", "alice", 0) // room left for two: no eviction
	connect(t, h, "b1", "alice", 1)
	connect(t, h, "b2", "alice", 0) // evicts a1
	connect(t, h, "b3", "alice", 1) // evicts a3
	for i, tc := range conns {
		_, evicted := n.evictedReason(tc)
		if want := i == 1 || i == 3; evicted != want {
			t.Errorf("a%d evicted = %v, want %v", i, evicted, want)
		}
	}
	if got := h.SendToUser("alice", Publication{Data: []byte("x")}); got != limit {
		t.Errorf("SendToUser reached %d connections, want %d", got, limit)
	}
	if st := h.Stats(); st.Clients != limit || st.Users != 1 {
		t.Errorf("stats = %+v, want %d clients of 1 user", st, limit)
	}
}

// TestClientInfo: SetInfo's data is shown in presence lists and join events;
// a Client without it has none.
func TestClientInfo(t *testing.T) {
	var joins []ClientInfo
	h, _ := newTestHub(t, 1, Options{OnJoin: func(_ string, c ClientInfo) { joins = append(joins, c) }})
	a := &testConn{c: Client{ID: "a", User: "ua"}}
	a.c.SetInfo([]byte(`{"name":"Ann"}`))
	if err := h.Connect(a); err != nil {
		t.Fatal(err)
	}
	b := connect(t, h, "b", "", 0)
	if b.c.Info() != nil {
		t.Errorf("info without SetInfo: %q", b.c.Info())
	}
	subscribe(t, h, a, "room", nil)
	subscribe(t, h, b, "room", nil)
	p, err := h.Presence("room")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, c := range p.List {
		got[c.Client] = string(c.Info)
	}
	if got["a"] != `{"name":"Ann"}` || got["b"] != "" || len(got) != 2 {
		t.Errorf("presence infos = %q", got)
	}
	if len(joins) != 2 || string(joins[0].Info) != `{"name":"Ann"}` || joins[1].Info != nil {
		t.Errorf("joins = %+v", joins)
	}
}

// TestClientInfoGoesWithClient: SetInfo's data is kept apart from the Client
// (infos) and forgotten when the Client is collected, or when SetInfo is
// given none.
func TestClientInfoGoesWithClient(t *testing.T) {
	entries := func() (n int) {
		infos.Range(func(any, any) bool { n++; return true })
		return n
	}
	base := entries()
	kept := &Client{ID: "kept"}
	kept.SetInfo([]byte(`{"a":1}`))
	kept.SetInfo(nil)
	if kept.Info() != nil || entries() != base {
		t.Fatalf("SetInfo(nil): info %q, %d entries, want none and %d", kept.Info(), entries(), base)
	}
	func() {
		for i := range 100 {
			c := &Client{ID: fmt.Sprint(i)}
			c.SetInfo([]byte(`{"n":1}`))
			if string(c.Info()) != `{"n":1}` {
				t.Fatalf("Info: %q", c.Info())
			}
		}
	}()
	if entries() != base+100 {
		t.Fatalf("%d entries, want %d", entries(), base+100)
	}
	for deadline := time.Now().Add(10 * time.Second); entries() > base; {
		if time.Now().After(deadline) {
			t.Fatalf("%d entries left of collected Clients", entries()-base)
		}
		runtime.GC()
		runtime.Gosched()
	}
	runtime.KeepAlive(kept)
}
