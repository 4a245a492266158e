package hub_test

import (
	"fmt"

	"github.com/rtd-project/rtd/hub"
)

// conn is a server connection as the hub sees it.
type conn struct {
	client hub.Client
	name   string
}

func (c *conn) HubClient() *hub.Client { return &c.client }

// server plays the server's side: it encodes publications and, instead of
// queueing batches for event loops, walks them at once.
type server struct{}

func (server) Encode(p *hub.Prepared) {
	p.SSE = fmt.Appendf(nil, "id: %s\ndata: %s\n\n", p.Position(), p.Data)
}

func (s server) Deliver(loop int, b *hub.Batch) {
	b.Each(s)
	b.Release()
}

func (server) Evict(sub hub.Subscriber, reason string) {}

func (server) Visit(sub hub.Subscriber, m *hub.Prepared) {
	fmt.Printf("%s <- %s #%d: %s\n", sub.(*conn).name, m.Channel, m.Offset, m.Data)
}

func ExampleNew() {
	h, err := hub.New(hub.Options{Loops: 1, Deliverer: server{}, Encoder: server{}})
	if err != nil {
		panic(err)
	}
	alice := &conn{client: hub.Client{ID: "c1", User: "alice", Loop: 0}, name: "alice"}
	if err := h.Connect(alice); err != nil {
		panic(err)
	}
	if _, err := h.Subscribe(alice, "news", nil); err != nil {
		panic(err)
	}
	if _, err := h.Publish("news", hub.Publication{Data: []byte("hello")}); err != nil {
		panic(err)
	}
	p, _ := h.Presence("news")
	fmt.Println("subscribers:", p.Clients, "users:", p.Users)
	// Output:
	// alice <- news #1: hello
	// subscribers: 1 users: 1
}

// A client that lost its connection resubscribes with the position of the
// last publication it saw and gets exactly what it missed.
func ExampleHub_Subscribe_recovery() {
	h, _ := hub.New(hub.Options{Loops: 1, Deliverer: server{}, Encoder: server{}})
	bob := &conn{client: hub.Client{ID: "c2", Loop: 0}, name: "bob"}
	h.Connect(bob)
	h.Subscribe(bob, "news", nil)
	last, _ := h.Publish("news", hub.Publication{Data: []byte("one")})
	h.Disconnect(bob)

	h.Publish("news", hub.Publication{Data: []byte("two")})
	h.Publish("news", hub.Publication{Data: []byte("three")})

	h.Connect(bob)
	since, _ := hub.ParsePosition(last.String()) // what the client sent back
	res, _ := h.Subscribe(bob, "news", &since)
	fmt.Println("recovered:", res.Recovered)
	for _, m := range res.Missed {
		fmt.Printf("missed #%d: %s\n", m.Offset, m.Data)
	}
	// Output:
	// bob <- news #1: one
	// recovered: true
	// missed #2: two
	// missed #3: three
}

func ExampleHub_Publish() {
	h, _ := hub.New(hub.Options{Loops: 1, Deliverer: server{}, Encoder: server{}})
	// Nobody is subscribed, but history keeps the publication for later subscribers.
	pos, _ := h.Publish("scores", hub.Publication{Event: "goal", Data: []byte(`{"home":1}`)})
	fmt.Println("offset:", pos.Offset, "epoch length:", len(pos.Epoch))
	res, _ := h.History("scores", nil, 10)
	fmt.Printf("history: %d publication(s), last event %q\n", len(res.Publications), res.Publications[0].Event)
	// Output:
	// offset: 1 epoch length: 8
	// history: 1 publication(s), last event "goal"
}
