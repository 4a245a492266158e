package hubtest

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rtd-project/rtd/hub"
)

// Hub is a hub.Hub for one test, without sockets or event loops: a
// publication reaches its recipients before Publish returns, so what each
// Client received can be read at once, in order. Its clock stands still
// until Advance moves it (history TTLs, idle channels).
type Hub struct {
	*hub.Hub

	t       testing.TB
	mu      sync.Mutex
	now     time.Time
	clients int
}

// New returns a Hub configured by o; its Loops, Deliverer, Encoder and Now
// are the helper's own. The test's cleanup shuts it down. An error from
// hub.New fails the test.
func New(t testing.TB, o hub.Options) *Hub {
	t.Helper()
	h := &Hub{t: t, now: time.Unix(1_700_000_000, 0)}
	o.Loops = 1
	o.Deliverer = deliverer{}
	o.Encoder = encoder{}
	o.Now = h.clock
	hb, err := hub.New(o)
	if err != nil {
		t.Fatalf("hubtest: hub.New: %v", err)
	}
	h.Hub = hb
	t.Cleanup(hb.Shutdown)
	return h
}

func (h *Hub) clock() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.now
}

// Advance moves the hub's clock on by d.
func (h *Hub) Advance(d time.Duration) {
	h.mu.Lock()
	h.now = h.now.Add(d)
	h.mu.Unlock()
}

// Register connects a client of user ("" for anonymous), with the ID
// "c1", "c2", … in order of registration. A refusal fails the test.
func (h *Hub) Register(user string) *Client {
	h.t.Helper()
	h.mu.Lock()
	h.clients++
	id := "c" + strconv.Itoa(h.clients)
	h.mu.Unlock()
	c := &Client{h: h, hc: hub.Client{ID: id, User: user}}
	if err := h.Connect(c); err != nil {
		h.t.Fatalf("hubtest: registering %s (user %q): %v", id, user, err)
	}
	return c
}

// Publish publishes data on channel and returns its position; a refusal
// fails the test.
func (h *Hub) Publish(channel, data string) hub.Position {
	h.t.Helper()
	return h.PublishEvent(channel, "", data)
}

// PublishEvent publishes data on channel under an event name.
func (h *Hub) PublishEvent(channel, event, data string) hub.Position {
	h.t.Helper()
	pos, err := h.Hub.Publish(channel, hub.Publication{Event: event, Data: []byte(data)})
	if err != nil {
		h.t.Fatalf("hubtest: publishing %q on %s: %v", data, channel, err)
	}
	return pos
}

// Client is a registered connection: what the hub delivered to it is kept,
// in order, until Take.
type Client struct {
	h  *Hub
	hc hub.Client

	mu      sync.Mutex
	got     []hub.Publication
	evicted string
}

// HubClient implements hub.Subscriber.
func (c *Client) HubClient() *hub.Client { return &c.hc }

// ID returns the client's ID.
func (c *Client) ID() string { return c.hc.ID }

// Join subscribes the client to channel; a refusal fails the test.
func (c *Client) Join(channel string) *Client {
	c.h.t.Helper()
	if _, err := c.h.Subscribe(c, channel, nil); err != nil {
		c.h.t.Fatalf("hubtest: %s joining %s: %v", c.hc.ID, channel, err)
	}
	return c
}

// Resume subscribes the client to channel from since, the last position it
// saw, and returns what the hub recovered (Missed, Recovered); a refusal
// fails the test.
func (c *Client) Resume(channel string, since hub.Position) hub.SubscribeResult {
	c.h.t.Helper()
	res, err := c.h.Subscribe(c, channel, &since)
	if err != nil {
		c.h.t.Fatalf("hubtest: %s resuming %s from %v: %v", c.hc.ID, channel, since, err)
	}
	return res
}

// Leave unsubscribes the client from channel; a refusal fails the test.
func (c *Client) Leave(channel string) *Client {
	c.h.t.Helper()
	if err := c.h.Unsubscribe(c, channel); err != nil {
		c.h.t.Fatalf("hubtest: %s leaving %s: %v", c.hc.ID, channel, err)
	}
	return c
}

// Disconnect takes the client out of the hub.
func (c *Client) Disconnect() { c.h.Disconnect(c) }

// Received returns what the client has been delivered and not yet taken,
// in order.
func (c *Client) Received() []hub.Publication {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]hub.Publication(nil), c.got...)
}

// Take returns what Received would and forgets it.
func (c *Client) Take() []hub.Publication {
	c.mu.Lock()
	defer c.mu.Unlock()
	got := c.got
	c.got = nil
	return got
}

// Evicted returns the reason the hub evicted the client for ("" if it
// did not).
func (c *Client) Evicted() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.evicted
}

// Expect takes what the client received and fails the test unless it is
// want, in order: each entry as Describe writes a publication
// ("news@3 hello", "news join c2", "* hello" for a broadcast or direct
// message).
func (c *Client) Expect(want ...string) {
	c.h.t.Helper()
	got := c.Take()
	have := make([]string, len(got))
	for i := range got {
		have[i] = Describe(&got[i])
	}
	if strings.Join(have, "\n") != strings.Join(want, "\n") || len(have) != len(want) {
		c.h.t.Fatalf("hubtest: %s received\n\t%s\nwant\n\t%s", c.hc.ID, list(have), list(want))
	}
}

func list(s []string) string {
	if len(s) == 0 {
		return "nothing"
	}
	return strings.Join(s, "\n\t")
}

// Describe writes a publication as Expect compares it: "CHANNEL@OFFSET
// DATA" for a channel message (with ":EVENT" after the offset when it has
// an event name), "CHANNEL join CLIENT" and "CHANNEL leave CLIENT" for
// presence events, "* DATA" for a message sent to clients directly.
func Describe(p *hub.Publication) string {
	ev := ""
	if p.Event != "" {
		ev = ":" + p.Event
	}
	switch {
	case p.Kind == hub.KindJoin || p.Kind == hub.KindLeave:
		who := ""
		if p.Info != nil {
			who = p.Info.Client
		}
		return fmt.Sprintf("%s %v %s", p.Channel, p.Kind, who)
	case p.Channel == "" || p.Offset == 0:
		return "*" + ev + " " + string(p.Data)
	}
	return fmt.Sprintf("%s@%d%s %s", p.Channel, p.Offset, ev, p.Data)
}

// deliverer walks each batch as the hub hands it over: recording is all a
// visit does, so it is safe under the hub's locks.
type deliverer struct{}

func (deliverer) Deliver(_ int, b *hub.Batch) {
	b.Each(visitor{})
	b.Release()
}

func (deliverer) Evict(s hub.Subscriber, reason string) {
	c := s.(*Client)
	c.mu.Lock()
	c.evicted = reason
	c.mu.Unlock()
}

type visitor struct{}

func (visitor) Visit(s hub.Subscriber, m *hub.Prepared) {
	c := s.(*Client)
	c.mu.Lock()
	c.got = append(c.got, m.Publication)
	c.mu.Unlock()
}

// encoder encodes nothing: there is no wire here.
type encoder struct{}

func (encoder) Encode(*hub.Prepared) {}
