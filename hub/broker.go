package hub

import (
	"time"
)

// This file is the seam between the hub and a message bus that joins the hubs
// of several nodes (package broker/natsbroker implements it on NATS). Without
// a Broker the hub is the whole truth for one node: it numbers a channel's
// publications itself and keeps their history in memory. With one, the bus
// numbers them: Publish only hands the publication to the bus, and every node
// with local subscribers (this one included) receives it back from the bus,
// prepares it once (Encoder) and routes it through the same per-loop batches
// as before. History and recovery read the bus's stored stream, so a position
// handed out by one node is understood by every other.

// Broker is a message bus shared by the hubs of several nodes. Its methods are
// called without hub locks held, except BrokerSubscription.Unsubscribe.
type Broker interface {
	// Publish stores p on channel and returns its position: the offset the
	// bus assigned and the bus's epoch. It returns an error (wrapping
	// ErrBrokerUnavailable when the bus cannot be reached) unless the bus has
	// accepted the publication; then it is delivered to every node with
	// interest in the channel.
	Publish(channel string, p *Publication) (Position, error)
	// Subscribe registers this node's interest in channel: from its return
	// on, deliver is called with every publication the bus stores on channel,
	// one at a time and in the bus's order. Deliveries may be lost (a broken
	// connection, a slow consumer): BrokerMessage.Prev lets the hub notice and
	// catch up with Read.
	Subscribe(channel string, deliver func(BrokerMessage)) (BrokerSubscription, error)
	// Read returns what the bus retains of channel after offset after.
	Read(channel string, after uint64) (BrokerRead, error)
	// OnReconnect registers f, called after the bus connection was lost and
	// is back (interest re-registered): the hub then catches every channel up
	// with Read.
	OnReconnect(f func())
	// Healthy reports whether the bus is reachable now.
	Healthy() bool
}

// BrokerSubscription is one channel's interest registration on the bus.
type BrokerSubscription interface {
	// Unsubscribe ends the interest. It must not block: the hub calls it with
	// the channel's shard locked.
	Unsubscribe()
}

// BrokerMessage is a publication as delivered by the bus: Offset, Epoch and
// Time are set, and Prev is the offset of the channel's previous publication
// on the bus (0 for none), so a receiver that last saw offset Prev knows it
// missed nothing.
type BrokerMessage struct {
	Publication
	Prev uint64
}

// BrokerRead is what the bus retains of one channel.
type BrokerRead struct {
	Epoch string // the bus's epoch: it changes when the bus loses its history
	// Top is a position no later publication of the channel can be at or
	// below (the bus's last offset over all channels when it was read).
	Top uint64
	// Floor is an offset above which the bus still retains every publication
	// the channel ever had: a client whose position is at least Floor can be
	// recovered exactly.
	Floor uint64
	// Publications are the retained publications after the offset asked for,
	// oldest first, with Offset, Epoch and Time set.
	Publications []Publication
}

// maxBusPending bounds the publications a channel buffers while it catches up
// with the bus; later ones are dropped and read back from the bus.
const maxBusPending = 4096

// busLink is a channel's state on the bus (shard lock).
type busLink struct {
	sub        BrokerSubscription
	ready      chan struct{} // closed when the first catch-up ends
	err        error         // why the first catch-up failed
	synced     bool          // the first catch-up succeeded
	catchingUp bool          // a catch-up is running; arrivals wait in pending
	pending    []BrokerMessage
	last       uint64 // offset of the last publication routed (the chain's end)
	joining    int    // subscribers between attach and add: keep the channel
}

// HasBroker reports whether the hub runs on a message bus (Options.Broker):
// then publishing, and reading history of channels without local
// subscribers, wait for the bus.
func (h *Hub) HasBroker() bool { return h.o.Broker != nil }

// BrokerHealthy reports whether the hub's bus is reachable; true without one.
func (h *Hub) BrokerHealthy() bool { return h.o.Broker == nil || h.o.Broker.Healthy() }

// publishBus hands p to the bus; the bus's delivery routes it, here as on
// every other node with subscribers. (A function of its own so that p escapes
// to the heap only with a broker.)
func (h *Hub) publishBus(channel string, p Publication) (Position, error) {
	pos, err := h.o.Broker.Publish(channel, &p)
	if err != nil {
		return Position{}, err
	}
	h.published.Add(1)
	return pos, nil
}

// attachBus returns the channel name, live on the bus, with its shard locked.
// The first local subscriber registers the node's interest and loads the
// channel's retained history; concurrent ones wait for it.
func (h *Hub) attachBus(name string) (*shard, *channel, time.Time, error) {
	for {
		sh, ch, now := h.lockChannel(name)
		if ch != nil && ch.bus.synced {
			return sh, ch, now, nil
		}
		opener := ch == nil
		if opener {
			ch = h.create(sh, name, h.o.channelOptions(name), now)
			ch.bus = &busLink{ready: make(chan struct{}), catchingUp: true}
		}
		ch.bus.joining++
		ready := ch.bus.ready
		sh.mu.Unlock()
		if opener {
			h.openBus(ch)
		}
		<-ready
		sh.mu.Lock()
		ch.bus.joining--
		if ch.bus.synced && sh.channels[name] == ch {
			return sh, ch, h.o.Now(), nil
		}
		err := ch.bus.err
		h.dropIfIdle(sh, ch, time.Time{}) // a bus channel keeps no record
		sh.mu.Unlock()
		if err != nil {
			return nil, nil, time.Time{}, err
		}
	}
}

// openBus registers the node's interest in ch and runs its first catch-up.
func (h *Hub) openBus(ch *channel) {
	sub, err := h.o.Broker.Subscribe(ch.name, func(m BrokerMessage) { h.busArrival(ch, m) })
	if err != nil {
		sh := h.shardFor(ch.name)
		sh.mu.Lock()
		ch.bus.err, ch.bus.catchingUp = err, false
		close(ch.bus.ready)
		sh.mu.Unlock()
		return
	}
	sh := h.shardFor(ch.name)
	sh.mu.Lock()
	ch.bus.sub = sub
	sh.mu.Unlock()
	h.catchUp(ch, true)
}

// busArrival routes a publication delivered by the bus, or parks it while the
// channel catches up.
func (h *Hub) busArrival(ch *channel, m BrokerMessage) {
	sh := h.shardFor(ch.name)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.channels[ch.name] != ch {
		return // an earlier incarnation's interest, not yet gone
	}
	b := ch.bus
	if b.catchingUp {
		if len(b.pending) < maxBusPending {
			b.pending = append(b.pending, m)
		}
		return
	}
	if !h.routeBus(ch, &m) {
		b.pending = append(b.pending, m)
		b.catchingUp = true
		go h.catchUp(ch, false)
	}
}

// routeBus routes m if it continues the channel's chain and reports whether it
// did (or had routed it already). False means a gap: something before m was
// missed, or the bus has a new epoch. The shard must be locked.
func (h *Hub) routeBus(ch *channel, m *BrokerMessage) bool {
	b := ch.bus
	switch {
	case m.Epoch != ch.epoch:
		return false
	case m.Offset <= b.last:
		return true // seen already (read back during a catch-up)
	case m.Prev > b.last:
		return false
	}
	h.routeBusPublication(ch, m.Publication)
	return true
}

// routeBusPublication prepares p once for this node, retains it and hands it
// to the loops. The shard must be locked.
func (h *Hub) routeBusPublication(ch *channel, p Publication) {
	m := &Prepared{Publication: p}
	m.Channel, m.Epoch, m.Kind, m.Info = ch.name, ch.epoch, KindMessage, nil
	h.o.Encoder.Encode(m)
	ch.hist.push(m)
	h.fanout(ch, m)
	ch.bus.last = p.Offset
	ch.top = max(ch.top, p.Offset)
}

// catchUp reads what the channel missed from the bus, routes it, then routes
// the publications that arrived meanwhile, until no gap is left. The first
// catch-up of a channel gives up on the first error (its subscriber gets the
// error); later ones retry until the bus is back or the channel is gone.
func (h *Hub) catchUp(ch *channel, first bool) {
	sh := h.shardFor(ch.name)
	backoff := 20 * time.Millisecond
	for {
		sh.mu.Lock()
		if sh.channels[ch.name] != ch {
			sh.mu.Unlock()
			return
		}
		after := ch.bus.last
		sh.mu.Unlock()
		rd, err := h.o.Broker.Read(ch.name, after)
		if err != nil {
			if first {
				sh.mu.Lock()
				ch.bus.err, ch.bus.catchingUp = err, false
				close(ch.bus.ready)
				sh.mu.Unlock()
				return
			}
			t := time.NewTimer(backoff)
			select {
			case <-t.C:
			case <-h.done:
				t.Stop()
				return
			}
			backoff = min(2*backoff, time.Second)
			continue
		}
		sh.mu.Lock()
		if sh.channels[ch.name] != ch {
			sh.mu.Unlock()
			return
		}
		if rd.Epoch != ch.epoch {
			// A new bus history (or the channel's first read): what this node
			// knew is gone, and positions of the old epoch recover nothing.
			ch.epoch, ch.top, ch.bus.last = rd.Epoch, 0, 0
			ch.hist.reset(0)
			if after != 0 {
				sh.mu.Unlock()
				continue
			}
		}
		if done := h.applyRead(ch, &rd); done {
			ch.bus.catchingUp = false
			if !ch.bus.synced {
				ch.bus.synced = true
				close(ch.bus.ready)
			}
			sh.mu.Unlock()
			return
		}
		sh.mu.Unlock()
	}
}

// applyRead routes the publications of rd the channel has not seen, then the
// pending arrivals that follow them, and reports whether no gap is left. The
// shard must be locked.
func (h *Hub) applyRead(ch *channel, rd *BrokerRead) bool {
	b := ch.bus
	if rd.Floor > b.last {
		// Publications after b.last are gone from the bus (expired while
		// this node was away): history here is no longer contiguous.
		ch.hist.reset(rd.Floor)
		b.last = rd.Floor
	}
	for _, p := range rd.Publications {
		if p.Offset > b.last {
			h.routeBusPublication(ch, p)
		}
	}
	ch.top = max(ch.top, rd.Top, b.last)
	kept := b.pending[:0]
	gap := false
	for i := range b.pending {
		m := &b.pending[i]
		switch {
		case m.Epoch != ch.epoch:
			// from an epoch the read has superseded: drop
		case gap || !h.routeBus(ch, m):
			gap = true
			kept = append(kept, *m)
		}
	}
	clear(b.pending[len(kept):])
	b.pending = kept
	return !gap
}

// resyncBus catches every channel up after the bus connection came back.
func (h *Hub) resyncBus() {
	for i := range h.shards {
		sh := &h.shards[i]
		sh.mu.Lock()
		for _, ch := range sh.channels {
			if b := ch.bus; b != nil && b.synced && !b.catchingUp {
				b.catchingUp = true
				go h.catchUp(ch, false)
			}
		}
		sh.mu.Unlock()
	}
}

// historyFromBus answers History for a channel this node has no interest in,
// from what the bus retains.
func (h *Hub) historyFromBus(name string, since *Position, limit int) (HistoryResult, error) {
	opts := h.o.channelOptions(name)
	if opts.HistorySize == 0 {
		return HistoryResult{}, ErrHistoryDisabled
	}
	rd, err := h.o.Broker.Read(name, 0)
	if err != nil {
		return HistoryResult{}, err
	}
	ch := &channel{
		name:  name,
		opts:  opts,
		epoch: rd.Epoch,
		bus:   &busLink{},
		hist:  history{size: opts.HistorySize, ttl: opts.HistoryTTL},
	}
	h.applyRead(ch, &rd)
	ch.hist.prune(h.o.Now())
	return ch.history(since, limit), nil
}

// Counts yields every channel with local subscribers, with its subscriber
// count and distinct named users (0 where presence is off): what a node
// shares with the others (see natsbroker.Broker.SharePresence).
func (h *Hub) Counts(yield func(channel string, clients, users int) bool) {
	type count struct {
		name           string
		clients, users int
	}
	for i := range h.shards {
		sh := &h.shards[i]
		sh.mu.Lock()
		cs := make([]count, 0, len(sh.channels))
		for _, ch := range sh.channels {
			if ch.count > 0 {
				cs = append(cs, count{ch.name, ch.count, len(ch.users)})
			}
		}
		sh.mu.Unlock()
		for _, c := range cs {
			if !yield(c.name, c.clients, c.users) {
				return
			}
		}
	}
}
