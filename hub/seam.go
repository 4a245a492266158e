package hub

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
// Deliver hands loop one batch. It is called with the channel's shard locked,
// in publish order for each channel, so it must not block, must not call back
// into the hub, and should do no more than append b to the loop's inbox and wake
// the loop. The loop later calls b.Each (on the loop's own goroutine) and then
// b.Release.
//
// Evict is called (without hub locks held) when the hub decides that a
// connection must go, for example when a user's connection limit evicts its
// oldest connection. The server closes it with reason.
type Deliverer interface {
	Deliver(loop int, b *Batch)
	Evict(s Subscriber, reason string)
}

// Encoder is implemented by the server: it encodes a publication once for every
// transport (the WebSocket frame, the SSE event, anything else in Ext). The hub
// calls Encode once per publication, before the publication reaches any loop;
// the result is shared read-only by every recipient.
type Encoder interface {
	Encode(p *Prepared)
}

// Visitor receives the recipients of a batch, one call each. The server's
// per-loop state implements it, so walking a batch allocates nothing.
type Visitor interface {
	Visit(s Subscriber, m *Prepared)
}

// Client is the hub's record of one connection. The server fills ID, User and
// Loop before Connect and must not change them afterwards.
type Client struct {
	ID   string // unique per connection
	User string // authenticated user ID; empty for anonymous connections
	Loop int    // index of the event loop that owns the connection
}

// Prepared is a publication encoded once for every transport and shared,
// read-only, by all of its recipients.
type Prepared struct {
	WS  []byte // complete WebSocket frame
	SSE []byte // complete SSE event
	Ext any    // whatever else the Encoder attached (a compressed frame, say)
}

// Batch is one prepared publication for the recipients on one loop.
type Batch struct {
	m *Prepared
}

// Each calls v.Visit for every recipient of the batch.
func (b *Batch) Each(v Visitor) {}

// Release returns the batch to the hub once the loop is done with it.
func (b *Batch) Release() {}
