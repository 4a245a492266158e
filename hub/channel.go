package hub

import (
	"encoding/hex"
	"hash/maphash"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"
)

// shard holds the channels whose names hash to it. Its lock orders everything
// that happens on those channels: offsets, history, membership and the
// Deliver calls, which is what makes per-channel delivery ordered and
// recovery exactly-once.
type shard struct {
	mu       sync.Mutex
	channels map[string]*channel
	meta     metaTable     // the streams of idle channels (meta.go)
	epochs   *rand.ChaCha8 // epoch source, seeded from crypto/rand: no syscall under the lock
}

func (sh *shard) initEpochs(seed [32]byte) { sh.epochs = rand.NewChaCha8(seed) }

// newEpoch returns 8 random hex characters naming a channel incarnation.
func (sh *shard) newEpoch() string {
	var b [4]byte
	sh.epochs.Read(b[:])
	return hex.EncodeToString(b[:])
}

// channel is a live channel: it lives while it has subscribers or retained
// history. Going idle it leaves its stream (epoch and top offset) in the
// shard's records for Options.HistoryMetaTTL, and coming back within it
// continues that stream (meta.go). Otherwise it starts a new incarnation: a
// new epoch, offsets from 0, so positions from an older one never look
// recoverable.
type channel struct {
	name  string
	opts  ChannelOptions
	epoch string
	top   uint64       // offset of the last publication
	sets  []*memberSet // subscribers, one set per loop, made when the loop has its first (a channel of one subscriber costs one set, not one per loop)
	count int
	users map[string]int // named user → connections subscribed (with opts.Presence; made for the first)
	hist  history
	bus   *busLink // with a Broker: the channel's state on the bus
}

// subscription is one connection's membership in one channel.
type subscription struct {
	ch   *channel      // the incarnation; kept alive by the subscription itself
	next *subscription // the client's next subscription (Client.subs, c.mu)
	pos  int32         // index in ch.sets[client.Loop] (shard lock)
}

func (h *Hub) shardFor(name string) *shard {
	return &h.shards[maphash.String(h.seed, name)&uint64(len(h.shards)-1)]
}

// checkChannel rejects names that are empty, too long, not UTF-8 or that
// contain control characters (C0, DEL, C1): they end up in logs, JSON and
// SSE lines.
func (h *Hub) checkChannel(name string) error {
	if name == "" || len(name) > h.o.MaxChannelNameBytes || !printable(name) {
		return ErrInvalidChannel
	}
	return nil
}

// lookup returns the live channel name, with its history pruned to now, or
// nil. It drops a channel that turns out to have neither subscribers nor
// history. The shard must be locked.
func (h *Hub) lookup(sh *shard, name string, now time.Time) *channel {
	ch := sh.channels[name]
	if ch == nil {
		return nil
	}
	ch.hist.prune(now)
	if h.dropIfIdle(sh, ch, now) {
		return nil
	}
	return ch
}

// lockChannel locks the shard of name and looks the channel up (nil when it
// is not alive). The caller unlocks sh.
func (h *Hub) lockChannel(name string) (sh *shard, ch *channel, now time.Time) {
	now = h.o.Now()
	sh = h.shardFor(name)
	sh.mu.Lock()
	return sh, h.lookup(sh, name, now), now
}

// create makes the channel name live: it continues the stream the channel
// left behind when it went idle, if that is still recorded, or starts a new
// incarnation. The shard must be locked.
func (h *Hub) create(sh *shard, name string, opts ChannelOptions, now time.Time) *channel {
	// The channel outlives the caller's string, which may be a view of
	// something bigger (a request's query): keep a copy of its own.
	name = strings.Clone(name)
	ch := &channel{
		name: name,
		opts: opts,
		sets: make([]*memberSet, h.o.Loops),
		hist: history{size: opts.HistorySize, ttl: opts.HistoryTTL, used: &h.histBytes},
	}
	if m, ok := h.takeMeta(sh, name, now); ok {
		// Everything up to top was published and is no longer retained.
		ch.epoch, ch.top, ch.hist.floor = m.epochString(), m.top, m.top
	} else {
		ch.epoch = sh.newEpoch()
	}
	sh.channels[name] = ch
	h.channels.Add(1)
	if opts.HistorySize > 0 {
		h.histChannels.Add(1)
	}
	return ch
}

// dropIfIdle forgets ch if it has neither subscribers nor history, keeping
// its stream (keepMeta), and reports whether it did. The shard must be locked.
func (h *Hub) dropIfIdle(sh *shard, ch *channel, now time.Time) bool {
	switch {
	case ch.count > 0:
		return false
	case ch.bus == nil:
		if ch.hist.n > 0 {
			return false
		}
	case ch.bus.joining > 0:
		return false
	case ch.bus.sub != nil:
		// With a bus, history lives there: a node keeps a channel (and its
		// interest) only while it has subscribers.
		ch.bus.sub.Unsubscribe()
	}
	h.keepMeta(sh, ch, now)
	ch.hist.release() // a channel on a bus is dropped with what it retained
	delete(sh.channels, ch.name)
	h.channels.Add(-1)
	if ch.opts.HistorySize > 0 {
		h.histChannels.Add(-1)
	}
	return true
}

func (ch *channel) position() Position { return Position{Epoch: ch.epoch, Offset: ch.top} }

// recover returns the publications after since, if history holds all of them.
func (ch *channel) recover(since Position) ([]*Prepared, bool) {
	if !ch.covers(since) {
		return nil, false
	}
	i := ch.hist.after(since.Offset)
	return ch.hist.slice(i, ch.hist.n-i), true
}

// covers reports whether history holds every publication after since. A
// position beyond top is foreign on a single node; with a broker it comes from
// a node that read the shared stream a moment later, so nothing is missing.
func (ch *channel) covers(since Position) bool {
	if since.Epoch != ch.epoch || since.Offset < ch.hist.floor {
		return false
	}
	return since.Offset <= ch.top || ch.bus != nil
}

// fanout hands every loop with subscribers one batch of m. The shard must be
// locked.
func (h *Hub) fanout(ch *channel, m *Prepared) {
	for loop, set := range ch.sets {
		if set != nil {
			h.deliverSet(loop, set, m)
		}
	}
}

// presenceEvent publishes a join or leave of c to the channel's subscribers.
// The shard must be locked.
func (h *Hub) presenceEvent(ch *channel, kind Kind, c *Client, now time.Time) {
	if ch.count == 0 {
		return
	}
	m := &Prepared{Publication: Publication{
		Channel: ch.name,
		Epoch:   ch.epoch,
		Kind:    kind,
		Info:    c.clientInfo(), // its own: a Client may connect again with other fields
		Time:    now.UnixMilli(),
	}}
	h.o.Encoder.Encode(m)
	h.fanout(ch, m)
}

// SubscribeResult is the outcome of Subscribe.
type SubscribeResult struct {
	// Position is the channel's current position: the offset of its last
	// publication. Live delivery starts right after it.
	Position Position
	// Recovered reports, for a Subscribe with since, that Missed holds exactly
	// the publications after since. When false the gap could not be filled
	// (history too short or expired, or another epoch) and Missed is empty:
	// the client must reload its state.
	Recovered bool
	// Missed are the publications between since and Position, oldest first.
	// They are shared and read-only.
	Missed []*Prepared
}

// Subscribe adds the connection to channel. With since (the client's last
// position) it also recovers what the client missed: every publication after
// since is either in Missed or delivered live, never both and never neither,
// because both are decided under the channel's shard lock.
func (h *Hub) Subscribe(s Subscriber, channel string, since *Position) (SubscribeResult, error) {
	if h.closed.Load() {
		return SubscribeResult{}, ErrShutdown
	}
	if err := h.checkChannel(channel); err != nil {
		return SubscribeResult{}, err
	}
	c := s.HubClient()
	joined := false
	if h.o.OnJoin != nil {
		// Deferred first, so it runs after the unlock below.
		defer func() {
			if joined {
				h.o.OnJoin(channel, *c.clientInfo())
			}
		}()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case !c.connected:
		return SubscribeResult{}, ErrNotConnected
	case c.subFor(channel) != nil:
		return SubscribeResult{}, ErrAlreadySubscribed
	case c.subCount() >= h.o.MaxChannelsPerClient:
		return SubscribeResult{}, ErrTooManyChannels
	}
	sh, ch, now, err := h.lockOrAttach(channel)
	if err != nil {
		return SubscribeResult{}, err
	}
	res := SubscribeResult{Position: ch.position()}
	if since != nil {
		res.Missed, res.Recovered = ch.recover(*since)
	}
	sub := &subscription{ch: ch}
	set := ch.sets[c.Loop]
	if set == nil {
		set = new(memberSet)
		ch.sets[c.Loop] = set
	}
	set.add(c.s, &sub.pos)
	ch.count++
	if ch.opts.Presence && c.User != "" {
		if ch.users == nil { // made for the first named user: anonymous subscribers need none
			ch.users = make(map[string]int)
		}
		ch.users[c.User]++
	}
	if ch.opts.JoinLeave {
		h.presenceEvent(ch, KindJoin, c, now)
	}
	sh.mu.Unlock()
	c.addSub(sub)
	h.subscriptions.Add(1)
	joined = true
	return res, nil
}

// lockOrAttach returns the channel a subscriber joins, created if need be,
// with its shard locked.
func (h *Hub) lockOrAttach(name string) (*shard, *channel, time.Time, error) {
	if h.o.Broker != nil {
		return h.attachBus(name)
	}
	sh, ch, now := h.lockChannel(name)
	if ch == nil {
		ch = h.create(sh, name, h.o.channelOptions(name), now)
	}
	return sh, ch, now, nil
}

// Unsubscribe removes the connection from channel (with a leave event where
// enabled). It fails with ErrNotSubscribed when it was not subscribed.
func (h *Hub) Unsubscribe(s Subscriber, channel string) error {
	c := s.HubClient()
	now := h.o.Now()
	left := false
	if h.o.OnLeave != nil {
		defer func() { // after the unlock below
			if left {
				h.o.OnLeave(channel, *c.clientInfo())
			}
		}()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	sub := c.subFor(channel)
	if sub == nil {
		return ErrNotSubscribed
	}
	left = true
	h.unsubscribeLocked(c, channel, sub, now)
	c.removeSub(sub)
	return nil
}

// subFor returns c's subscription to channel, or nil. c.mu must be held. (A
// channel's name never changes, so reading it needs no shard lock.)
func (c *Client) subFor(channel string) *subscription {
	for sub := c.subs; sub != nil; sub = sub.next {
		if sub.ch.name == channel {
			return sub
		}
	}
	return nil
}

// subCount returns how many channels c is subscribed to. c.mu must be held.
func (c *Client) subCount() int {
	n := 0
	for sub := c.subs; sub != nil; sub = sub.next {
		n++
	}
	return n
}

// addSub appends sub to c's list (subscription order). c.mu must be held.
func (c *Client) addSub(sub *subscription) {
	p := &c.subs
	for *p != nil {
		p = &(*p).next
	}
	*p = sub
}

// removeSub takes sub out of c's list. c.mu must be held.
func (c *Client) removeSub(sub *subscription) {
	for p := &c.subs; *p != nil; p = &(*p).next {
		if *p == sub {
			*p = sub.next
			sub.next = nil
			return
		}
	}
}

// unsubscribeLocked removes c's subscription sub to channel. c.mu must be held.
func (h *Hub) unsubscribeLocked(c *Client, channel string, sub *subscription, now time.Time) {
	sh := h.shardFor(channel)
	sh.mu.Lock()
	ch := sub.ch
	ch.sets[c.Loop].remove(int(sub.pos))
	ch.count--
	if ch.opts.Presence && c.User != "" {
		if ch.users[c.User]--; ch.users[c.User] == 0 {
			delete(ch.users, c.User)
		}
	}
	if ch.opts.JoinLeave {
		h.presenceEvent(ch, KindLeave, c, now)
	}
	ch.hist.prune(now)
	h.dropIfIdle(sh, ch, now)
	sh.mu.Unlock()
	h.subscriptions.Add(-1)
}

// Publish publishes p on channel: it assigns the next offset, encodes p once
// (Encoder), retains it in history and hands each loop with subscribers one
// batch, all under the channel's shard lock, so every subscriber receives the
// channel's publications in offset order. It returns the publication's
// position. A publication on a channel that has neither subscribers nor
// history goes nowhere; Publish returns the position it takes in the
// channel's stream if that is still recorded (HistoryMetaTTL), so that
// clients coming back learn they missed it, else the zero Position. It fails
// with ErrInvalidEvent for a bad p.Event, and with ErrTooManyHistoryChannels
// when the publication would create a channel with history beyond
// Options.MaxHistoryChannels (a channel that exists already always takes it).
func (h *Hub) Publish(channel string, p Publication) (Position, error) {
	if h.closed.Load() {
		return Position{}, ErrShutdown
	}
	if err := h.checkChannel(channel); err != nil {
		return Position{}, err
	}
	if err := CheckEvent(p.Event); err != nil {
		return Position{}, err
	}
	if h.o.Broker != nil {
		return h.publishBus(channel, p)
	}
	sh, ch, now := h.lockChannel(channel)
	defer sh.mu.Unlock()
	if ch == nil {
		opts := h.o.channelOptions(channel)
		if opts.HistorySize == 0 {
			// Nobody gets it and nothing keeps it, but an idle channel's
			// stream still counts it.
			return h.bumpMeta(sh, channel, now), nil
		}
		if !h.historyRoom() {
			h.histRefused.Add(1)
			return Position{}, ErrTooManyHistoryChannels
		}
		ch = h.create(sh, channel, opts, now)
	}
	ch.top++
	m := &Prepared{Publication: p}
	// The channel's own name, not the caller's string: the publication is
	// retained (history) and read by the loops after Publish returns.
	m.Channel, m.Offset, m.Epoch, m.Kind, m.Info, m.Time = ch.name, ch.top, ch.epoch, KindMessage, nil, now.UnixMilli()
	h.o.Encoder.Encode(m)
	ch.hist.push(m)
	h.fanout(ch, m)
	h.published.Add(1)
	return Position{Epoch: ch.epoch, Offset: ch.top}, nil
}

// Presence is who is subscribed to a channel.
type Presence struct {
	Clients int          // connections subscribed
	Users   int          // distinct named users among them (anonymous ones are not counted)
	UserIDs []string     // those users, sorted; at most Options.MaxPresenceList, shorter than Users when cut
	List    []ClientInfo // at most Options.MaxPresenceList connections; shorter than Clients when cut
}

// Presence returns the channel's presence, or ErrPresenceDisabled.
func (h *Hub) Presence(channel string) (Presence, error) {
	if err := h.checkChannel(channel); err != nil {
		return Presence{}, err
	}
	sh, ch, _ := h.lockChannel(channel)
	defer sh.mu.Unlock()
	if ch == nil {
		if !h.o.channelOptions(channel).Presence {
			return Presence{}, ErrPresenceDisabled
		}
		return Presence{}, nil
	}
	if !ch.opts.Presence {
		return Presence{}, ErrPresenceDisabled
	}
	p := Presence{Clients: ch.count, Users: len(ch.users)}
	p.UserIDs = make([]string, 0, min(len(ch.users), h.o.MaxPresenceList))
	for u := range ch.users {
		if len(p.UserIDs) == h.o.MaxPresenceList {
			break
		}
		p.UserIDs = append(p.UserIDs, u)
	}
	slices.Sort(p.UserIDs)
	p.List = make([]ClientInfo, 0, min(ch.count, h.o.MaxPresenceList))
	for _, c := range ch.clients(h.o.MaxPresenceList) {
		p.List = append(p.List, *c.clientInfo())
	}
	return p, nil
}

// clients returns up to limit subscribers of ch. The shard must be locked.
func (ch *channel) clients(limit int) []*Client {
	out := make([]*Client, 0, min(ch.count, limit))
	for _, set := range ch.sets {
		if set == nil {
			continue
		}
		for s := range set.view().all {
			if len(out) == limit {
				return out
			}
			out = append(out, s.HubClient())
		}
	}
	return out
}

// ClientsByChannel returns the connections subscribed to channel.
func (h *Hub) ClientsByChannel(channel string) []*Client {
	sh := h.shardFor(channel)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	ch := sh.channels[channel]
	if ch == nil {
		return nil
	}
	return ch.clients(ch.count)
}

// Channels returns the names of the live channels, in no particular order.
func (h *Hub) Channels() []string {
	out := make([]string, 0, h.channels.Load())
	for i := range h.shards {
		sh := &h.shards[i]
		sh.mu.Lock()
		for name := range sh.channels {
			out = append(out, name)
		}
		sh.mu.Unlock()
	}
	return out
}

// HistoryResult is what History returns.
type HistoryResult struct {
	Position     Position    // the channel's current position
	Publications []*Prepared // oldest first; shared and read-only
	Recovered    bool        // with since: Publications start right after since (nothing lost)
}

// History returns retained publications of channel. Without since it returns
// the latest limit of them; with since, the first limit after since (when
// since is too old or from another epoch, the oldest retained, and Recovered
// is false). limit <= 0 means all retained.
func (h *Hub) History(channel string, since *Position, limit int) (HistoryResult, error) {
	if err := h.checkChannel(channel); err != nil {
		return HistoryResult{}, err
	}
	sh, ch, now := h.lockChannel(channel)
	if h.o.Broker != nil && (ch == nil || !ch.bus.synced) {
		sh.mu.Unlock()
		return h.historyFromBus(channel, since, limit)
	}
	defer sh.mu.Unlock()
	if ch == nil {
		if h.o.channelOptions(channel).HistorySize == 0 {
			return HistoryResult{}, ErrHistoryDisabled
		}
		// An idle channel: nothing retained, but its stream may be known,
		// and a client at its top has missed nothing.
		m, ok := h.peekMeta(sh, channel, now)
		if !ok {
			return HistoryResult{}, nil
		}
		pos := m.position()
		return HistoryResult{Position: pos, Recovered: since != nil && *since == pos}, nil
	}
	if ch.hist.size == 0 {
		return HistoryResult{}, ErrHistoryDisabled
	}
	return ch.history(since, limit), nil
}

// history answers History from the channel's ring. The shard must be locked
// (or ch private).
func (ch *channel) history(since *Position, limit int) HistoryResult {
	n := ch.hist.n
	if limit <= 0 {
		limit = n
	}
	res := HistoryResult{Position: ch.position()}
	switch {
	case since == nil:
		k := min(n, limit)
		res.Publications = ch.hist.slice(n-k, k)
	case ch.covers(*since):
		from := ch.hist.after(since.Offset)
		res.Publications = ch.hist.slice(from, min(n-from, limit))
		res.Recovered = true
	default:
		res.Publications = ch.hist.slice(0, min(n, limit))
	}
	return res
}

// RetainedPublications returns how many publications the channels' histories
// hold now, expired ones the next Sweep or lookup drops included: what their
// memory is spent on. It locks each shard in turn and costs O(channels), like
// Sweep: call it when scraping metrics, not per publication.
func (h *Hub) RetainedPublications() int {
	n := 0
	for i := range h.shards {
		sh := &h.shards[i]
		sh.mu.Lock()
		for _, ch := range sh.channels {
			n += ch.hist.n
		}
		sh.mu.Unlock()
	}
	return n
}

// Sweep drops expired history and the channels left with neither subscribers
// nor history. Lookups do the same for the channels they touch; Sweep is for
// the ones nobody touches. The server calls it periodically (every few
// seconds is plenty); it costs O(channels).
func (h *Hub) Sweep() {
	now := h.o.Now()
	for i := range h.shards {
		sh := &h.shards[i]
		sh.mu.Lock()
		for _, ch := range sh.channels {
			ch.hist.prune(now)
			h.dropIfIdle(sh, ch, now)
		}
		h.sweepMeta(sh, now)
		sh.mu.Unlock()
	}
}
