package hub

import (
	"runtime"
	"sync"
	"weak"
)

// This file is the seam between the hub and the server that drives it. The server
// owns the event loops and the sockets; the hub owns channels, subscriber sets,
// presence and history. Neither side does the other's work: the hub never does
// I/O, the server never walks a channel's subscriber set itself.

// Subscriber is a connection as the hub sees it. The server's connection type
// implements it; the hub stores Subscribers in its per-loop sets and hands them
// back to the server in batches.
type Subscriber interface {
	// HubClient returns the hub's record for this connection. It must return the
	// same pointer for the connection's whole life.
	HubClient() *Client
}

// Deliverer is implemented by the server: one delivery target per event loop.
//
// Deliver hands loop one batch. It may be called with a hub lock held (for
// channel publications always: the channel's shard lock, which is what keeps
// them in publish order per channel), so it must not block, must not call back
// into the hub, and should do no more than append b to the loop's inbox and
// wake the loop. The loop later calls b.Each
// (on the loop's own goroutine) and then b.Release.
//
// Evict is called (without hub locks held) when the hub decides that a
// connection must go, for example when a user's connection limit evicts its
// oldest connection or at Shutdown. By then the hub has already disconnected
// it (unsubscribed it everywhere); the server closes it with reason (one of the
// Reason constants) and may still call Disconnect, which is then a no-op.
type Deliverer interface {
	Deliver(loop int, b *Batch)
	Evict(s Subscriber, reason string)
}

// Encoder is implemented by the server: it encodes a publication once for every
// transport (the WebSocket frame, the SSE event, anything else in Ext). The hub
// calls Encode once per publication, before the publication reaches any loop;
// the result is shared read-only by every recipient. For channel publications
// Encode runs with the channel's shard locked (the offset it encodes is
// assigned there), so it must be quick and must not call back into the hub.
type Encoder interface {
	Encode(p *Prepared)
}

// Visitor receives the recipients of a batch, one call each. The server's
// per-loop state implements it, so walking a batch allocates nothing.
type Visitor interface {
	Visit(s Subscriber, m *Prepared)
}

// Client is the hub's record of one connection. The server fills ID, User and
// Loop (and optionally the info, with SetInfo) before Connect and must not
// change them afterwards; the hub reads them from any goroutine.
//
// Every connection embeds one, so it is packed: 80 bytes, which keeps the
// server's Socket and Stream that embed it a size class lower (a field
// added carelessly costs every idle connection; server/size_test.go holds
// the budget). What few connections use (the info) is kept apart (infos),
// and the connect order that evicting a user's oldest connection needs is
// kept by the registry (userConns), not here.
type Client struct {
	ID     string // unique per connection
	User   string // authenticated user ID; empty for anonymous connections
	Loop   int32  // index of the event loop that owns the connection
	regPos int32  // index in the registry's set for Loop (registry lock)

	s Subscriber

	mu sync.Mutex // guards connected and subs; taken before any shard or registry lock
	// subs lists the subscriptions, in subscription order, through
	// subscription.next: a list head is 8 bytes where a slice header is 24
	// (and its array another allocation).
	subs *subscription

	registered bool // in the registry (registry lock)
	connected  bool // (mu)
	hasInfo    bool // SetInfo gave data: infos holds it (set before Connect)
	infoKept   bool // infos forgets c's entry when c is collected (a cleanup is attached)
}

// infos holds SetInfo's data apart from the Clients, which every connection
// embeds and which the server's never give any: 8 bytes a Client would cost
// every connection. Keyed weakly, so an entry goes with its Client.
var infos sync.Map // weak.Pointer[Client] → []byte

// SetInfo sets the optional application data (JSON) shown for the connection
// in presence lists and join/leave events. Like ID, User and Loop it is set
// before Connect and not changed afterwards; info is kept, not copied, and
// must not be modified. Most connections have none and the Client has no
// room for it: the hub keeps it in a table of its own until the Client is
// collected.
func (c *Client) SetInfo(info []byte) {
	key := weak.Make(c)
	if len(info) == 0 {
		if c.hasInfo {
			infos.Delete(key)
			c.hasInfo = false
		}
		return
	}
	if !c.infoKept {
		runtime.AddCleanup(c, func(k weak.Pointer[Client]) { infos.Delete(k) }, key)
		c.infoKept = true
	}
	infos.Store(key, info)
	c.hasInfo = true
}

// Info returns the data given to SetInfo (nil when none); it is read-only.
func (c *Client) Info() []byte {
	if !c.hasInfo {
		return nil
	}
	info, _ := infos.Load(weak.Make(c))
	b, _ := info.([]byte)
	return b
}

// Prepared is a publication encoded once for every transport and shared,
// read-only, by all of its recipients (and by the history that retains it).
type Prepared struct {
	Publication        // what was published, with Offset, Epoch and Time assigned
	WS          []byte // complete WebSocket frame
	SSE         []byte // complete SSE event
	Ext         any    // whatever else the Encoder attached (a compressed frame, say)
	// At is when the publication was prepared, Unix nanoseconds, if the
	// Encoder stamps it (the server does, for its delivery latency).
	At int64
}

// Batch is one prepared publication for the recipients on one loop. Its
// recipient list is an immutable snapshot taken when the publication was
// routed, so walking it needs no lock: a connection that subscribed after the
// publication is not in it, and one that left since may still be (the server
// skips connections it has closed).
type Batch struct {
	m    *Prepared
	set  view         // a channel's (or the registry's) recipients on this loop
	list []Subscriber // explicit recipients (SendTo, SendToUser); capacity reused
	pool *batchPool
}

// Message returns the publication the batch carries.
func (b *Batch) Message() *Prepared { return b.m }

// Each calls v.Visit for every recipient of the batch, in no particular order.
// It allocates nothing and takes no lock, so Visit may call back into the hub
// (to unsubscribe or disconnect a slow client, say).
func (b *Batch) Each(v Visitor) {
	for _, s := range b.list {
		v.Visit(s, b.m)
	}
	b.set.each(v, b.m)
}

// Release returns the batch to the hub once the loop is done with it. Call it
// exactly once; the batch must not be used afterwards.
func (b *Batch) Release() {
	b.set.release()
	clear(b.list)
	b.m, b.set, b.list = nil, view{}, b.list[:0]
	b.pool.put(b)
}

// batchPool recycles the batches of one loop. Batches for loop L are taken by
// publishers and released on loop L, so one small mutex per loop is contended
// by those two sides only. (A sync.Pool would do too, but it drops items at
// random under the race detector, which would make allocation tests flaky.)
type batchPool struct {
	mu   sync.Mutex
	free []*Batch
}

// maxFreeBatches bounds what a pool keeps after a burst.
const maxFreeBatches = 1024

func (p *batchPool) get() *Batch {
	p.mu.Lock()
	if n := len(p.free); n > 0 {
		b := p.free[n-1]
		p.free[n-1] = nil
		p.free = p.free[:n-1]
		p.mu.Unlock()
		return b
	}
	p.mu.Unlock()
	return &Batch{pool: p}
}

func (p *batchPool) put(b *Batch) {
	p.mu.Lock()
	if len(p.free) < maxFreeBatches {
		p.free = append(p.free, b)
	}
	p.mu.Unlock()
}

// Subscriber returns the connection c belongs to (nil before Connect).
func (c *Client) Subscriber() Subscriber { return c.s }

// clientInfo describes c for presence lists and join/leave events. It is
// built when asked for rather than kept per connection: most connections are
// never listed.
func (c *Client) clientInfo() *ClientInfo {
	return &ClientInfo{Client: c.ID, User: c.User, Info: c.Info()}
}

// Channels returns the channels c is subscribed to, in the order it
// subscribed.
func (c *Client) Channels() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, 0, c.subCount())
	for sub := c.subs; sub != nil; sub = sub.next {
		out = append(out, sub.ch.name)
	}
	return out
}

// Subscriptions returns how many channels c is subscribed to.
func (c *Client) Subscriptions() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.subCount()
}
