package hub

import (
	"crypto/rand"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"
)

// Hub routes publications from any goroutine to the subscribers of channels,
// spread over the server's event loops. All methods are safe for concurrent use.
type Hub struct {
	o      Options
	seed   maphash.Seed
	shards []shard
	pools  []batchPool // one per loop
	reg    registry
	done   chan struct{} // closed by Shutdown: stops bus catch-ups

	start        time.Time // channelMeta.expires counts seconds from here
	metaPerShard int       // records a shard keeps at most

	closed        atomic.Bool
	channels      atomic.Int64
	histChannels  atomic.Int64  // channels alive with history on (Options.MaxHistoryChannels)
	histRefused   atomic.Uint64 // publications refused with ErrTooManyHistoryChannels
	histBytes     atomic.Int64  // bytes retained by every history (Options.MaxHistoryBytes)
	subscriptions atomic.Int64
	published     atomic.Uint64
	deliveries    atomic.Uint64
	evicted       atomic.Uint64
}

// registry is the set of connected clients: by ID, by user, and per loop (the
// recipients of Broadcast).
type registry struct {
	mu     sync.Mutex
	closed bool
	seq    uint64 // numbers the connections of big users (userConns)
	byID   idTable
	byUser map[string]userConns // named users only
	loops  []memberSet
}

// New returns a hub configured by o.
func New(o Options) (*Hub, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	h := &Hub{
		o:      o,
		seed:   maphash.MakeSeed(),
		shards: make([]shard, o.Shards),
		pools:  make([]batchPool, o.Loops),
		done:   make(chan struct{}),
		start:  o.Now(),
		// Rounded up: every shard may hold its share.
		metaPerShard: (o.MaxHistoryMeta + o.Shards - 1) / o.Shards,
		reg: registry{
			byID:   idTable{seed: maphash.MakeSeed()},
			byUser: make(map[string]userConns),
			loops:  make([]memberSet, o.Loops),
		},
	}
	for i := range h.shards {
		sh := &h.shards[i]
		sh.channels = make(map[string]*channel)
		var seed [32]byte
		rand.Read(seed[:]) // never fails (crypto/rand.Read documents it)
		sh.initEpochs(seed)
	}
	if o.Broker != nil {
		o.Broker.OnReconnect(h.resyncBus)
	}
	return h, nil
}

// Connect registers a connection. s.HubClient() must have ID, User and Loop
// set. It fails with ErrTooManyConns, ErrTooManyUserConns (policy
// UserLimitReject), ErrDuplicateClient, ErrInvalidLoop, ErrAlreadyConnected or
// ErrShutdown. With UserLimitEvictOldest a full user's oldest connection is
// disconnected and handed to Deliverer.Evict before Connect returns.
func (h *Hub) Connect(s Subscriber) error {
	c := s.HubClient()
	if c.Loop < 0 || int(c.Loop) >= h.o.Loops {
		return ErrInvalidLoop
	}
	c.mu.Lock()
	if c.connected {
		c.mu.Unlock()
		return ErrAlreadyConnected
	}
	c.s = s
	victim, err := h.register(c)
	if err != nil {
		c.mu.Unlock()
		return err
	}
	c.connected = true
	c.mu.Unlock()
	if victim != nil {
		h.evict(victim, ReasonUserLimit)
	}
	return nil
}

// register adds c to the registry, applying the limits. It returns the
// connection to evict, already taken out of the registry, if any.
func (h *Hub) register(c *Client) (victim *Client, err error) {
	r := &h.reg
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.closed:
		return nil, ErrShutdown
	case r.byID.get(c.ID) != nil:
		return nil, ErrDuplicateClient
	case h.o.MaxConns > 0 && r.byID.len() >= h.o.MaxConns:
		return nil, ErrTooManyConns
	}
	if c.User != "" && h.o.MaxConnsPerUser > 0 {
		if u := r.byUser[c.User]; u.len() >= h.o.MaxConnsPerUser {
			if h.o.UserLimit == UserLimitReject {
				return nil, ErrTooManyUserConns
			}
			victim = u.oldest()
			r.removeLocked(victim)
		}
	}
	c.registered = true
	r.byID.put(c)
	if c.User != "" {
		u := r.byUser[c.User]
		u.add(c, r)
		r.byUser[c.User] = u
	}
	r.loops[c.Loop].add(c.s, &c.regPos)
	return victim, nil
}

func (r *registry) remove(c *Client) {
	r.mu.Lock()
	r.removeLocked(c)
	r.mu.Unlock()
}

func (r *registry) removeLocked(c *Client) {
	if !c.registered {
		return
	}
	c.registered = false
	r.byID.remove(c)
	if c.User != "" {
		u := r.byUser[c.User]
		u.remove(c)
		if u.len() == 0 {
			delete(r.byUser, c.User)
		} else {
			r.byUser[c.User] = u
		}
	}
	r.loops[c.Loop].remove(int(c.regPos))
}

// Disconnect unsubscribes the connection from every channel (with leave
// events where enabled) and forgets it. It is idempotent.
func (h *Hub) Disconnect(s Subscriber) { h.disconnect(s.HubClient()) }

func (h *Hub) disconnect(c *Client) bool {
	var left []string
	if h.o.OnLeave != nil {
		defer func() { // after the unlock below
			for _, ch := range left {
				h.o.OnLeave(ch, *c.clientInfo())
			}
		}()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.connected {
		return false
	}
	c.connected = false
	now := h.o.Now()
	for sub := c.subs; sub != nil; sub = sub.next {
		h.unsubscribeLocked(c, sub.ch.name, sub, now)
		if h.o.OnLeave != nil {
			left = append(left, sub.ch.name)
		}
	}
	c.subs = nil
	h.reg.remove(c)
	return true
}

// evict disconnects c and tells the server to close it.
func (h *Hub) evict(c *Client, reason string) {
	if h.disconnect(c) {
		h.evicted.Add(1)
		h.o.Deliverer.Evict(c.s, reason)
	}
}

// Shutdown refuses new connections and evicts every connected one (reason
// ReasonShutdown). Publish and Subscribe fail with ErrShutdown afterwards.
func (h *Hub) Shutdown() {
	if !h.closed.Swap(true) {
		close(h.done)
	}
	r := &h.reg
	r.mu.Lock()
	r.closed = true
	all := make([]*Client, 0, r.byID.len())
	r.byID.each(func(c *Client) { all = append(all, c) })
	r.mu.Unlock()
	for _, c := range all {
		h.evict(c, ReasonShutdown)
	}
}

// prepare makes a Prepared for a direct send (no channel stream) and encodes it.
func (h *Hub) prepare(p Publication) *Prepared {
	m := &Prepared{Publication: p}
	m.Offset, m.Epoch, m.Kind, m.Info = 0, "", KindMessage, nil
	m.Time = h.o.Now().UnixMilli()
	h.o.Encoder.Encode(m)
	h.published.Add(1)
	return m
}

// Broadcast sends p to every connected client, one batch per loop. p.Channel
// is passed through as given (it need not name a channel).
func (h *Hub) Broadcast(p Publication) error {
	if h.closed.Load() {
		return ErrShutdown
	}
	if err := CheckEvent(p.Event); err != nil {
		return err
	}
	m := h.prepare(p)
	r := &h.reg
	r.mu.Lock()
	defer r.mu.Unlock()
	for loop := range r.loops {
		h.deliverSet(loop, &r.loops[loop], m)
	}
	return nil
}

// SendTo sends p to the connection with the given ID and reports whether it
// is connected.
func (h *Hub) SendTo(clientID string, p Publication) bool {
	r := &h.reg
	r.mu.Lock()
	c := r.byID.get(clientID)
	r.mu.Unlock()
	if c == nil {
		return false
	}
	m := h.prepare(p)
	b := h.pools[c.Loop].get()
	b.m, b.list = m, append(b.list, c.s)
	h.deliveries.Add(1)
	h.o.Deliverer.Deliver(int(c.Loop), b)
	return true
}

// SendToUser sends p to every connection of the (non-anonymous) user, one
// batch per loop, and returns how many connections that was.
func (h *Hub) SendToUser(userID string, p Publication) int {
	if userID == "" {
		return 0
	}
	r := &h.reg
	r.mu.Lock()
	defer r.mu.Unlock()
	u := r.byUser[userID]
	n := u.len()
	if n == 0 {
		return 0
	}
	m := h.prepare(p)
	batches := make([]*Batch, h.o.Loops)
	add := func(c *Client) {
		b := batches[c.Loop]
		if b == nil {
			b = h.pools[c.Loop].get()
			b.m = m
			batches[c.Loop] = b
		}
		b.list = append(b.list, c.s)
	}
	for _, c := range u.list {
		add(c)
	}
	for c := range u.seq {
		add(c)
	}
	for loop, b := range batches {
		if b != nil {
			h.o.Deliverer.Deliver(loop, b)
		}
	}
	h.deliveries.Add(uint64(n))
	return n
}

// deliverSet hands loop one batch of m for the members of set, if any.
func (h *Hub) deliverSet(loop int, set *memberSet, m *Prepared) {
	if set.len() == 0 {
		return
	}
	b := h.pools[loop].get()
	b.m, b.set = m, set.snapshot()
	h.deliveries.Add(uint64(set.len()))
	h.o.Deliverer.Deliver(loop, b)
}

// Client returns the connected client with the given ID.
func (h *Hub) Client(id string) (*Client, bool) {
	h.reg.mu.Lock()
	c := h.reg.byID.get(id)
	h.reg.mu.Unlock()
	return c, c != nil
}

// Clients returns every connected client, in no particular order.
func (h *Hub) Clients() []*Client {
	r := &h.reg
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*Client, 0, r.byID.len())
	r.byID.each(func(c *Client) { out = append(out, c) })
	return out
}

// historyRoom reports whether another channel with history may be created.
// The count is read without the other shards' locks, so concurrent creators
// may pass the bound by a few: it caps memory, it is not an exact quota.
func (h *Hub) historyRoom() bool {
	return (h.o.MaxHistoryChannels < 0 || h.histChannels.Load() < int64(h.o.MaxHistoryChannels)) &&
		(h.o.MaxHistoryBytes < 0 || h.histBytes.Load() < h.o.MaxHistoryBytes)
}

// Stats are the hub's totals.
type Stats struct {
	Clients  int // connected clients
	Users    int // distinct named users connected
	Channels int // channels alive (with subscribers or history)
	// HistoryChannels are the channels alive with history on, and
	// HistoryChannelsRefused the publications refused because there were
	// Options.MaxHistoryChannels of them.
	HistoryChannels        int
	HistoryChannelsRefused uint64
	// HistoryBytes is what the histories retain (data and encodings),
	// bounded for new channels by Options.MaxHistoryBytes.
	HistoryBytes  int64
	Subscriptions int    // (client, channel) pairs
	Published     uint64 // publications accepted (channel, broadcast and direct)
	Deliveries    uint64 // recipients handed to the loops
	Evicted       uint64 // connections evicted (user limit, shutdown)
}

// Stats returns the hub's totals.
func (h *Hub) Stats() Stats {
	h.reg.mu.Lock()
	st := Stats{Clients: h.reg.byID.len(), Users: len(h.reg.byUser)}
	h.reg.mu.Unlock()
	st.Channels = int(h.channels.Load())
	st.HistoryChannels = int(h.histChannels.Load())
	st.HistoryChannelsRefused = h.histRefused.Load()
	st.HistoryBytes = h.histBytes.Load()
	st.Subscriptions = int(h.subscriptions.Load())
	st.Published = h.published.Load()
	st.Deliveries = h.deliveries.Load()
	st.Evicted = h.evicted.Load()
	return st
}
