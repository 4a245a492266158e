package hub

import (
	"encoding/binary"
	"encoding/hex"
	"hash/maphash"
	"math"
	"time"
)

// A position is a promise: a client that comes back with it gets what it
// missed or is told it cannot. A channel's stream (its epoch and its last
// offset) must therefore outlive both its subscribers and its retained
// publications: were the channel forgotten when it goes idle, its next
// incarnation would restart at offset 0 under a new epoch and every client
// would be told to reload, even one that missed nothing.
//
// So a channel that goes idle (no subscribers, no history) leaves a record
// behind for Options.HistoryMetaTTL, and comes back from it: same epoch,
// offsets continuing, history empty above its top. The record is 16 bytes
// under a 64-bit hash of the name, not the name itself, so its cost does not
// depend on the name's length (about 40 B per idle channel with the map's
// overhead). Two names with the same 64-bit hash (odds of about n²/2⁶⁵ for n
// records: 3·10⁻¹⁰ at 100,000) would share a record; mostly the channel that
// finds the other's continues an epoch none of its clients hold, and they
// are told recovered:false.

// channelMeta is an idle channel's stream.
type channelMeta struct {
	top     uint64 // offset of the channel's last publication
	epoch   uint32 // the epoch's 8 hex characters, decoded
	expires uint32 // seconds after the hub's start when the record goes
}

// metaTable is a shard's records (shard lock).
type metaTable struct {
	m    map[uint64]channelMeta
	peak int // len(m) since it was last rebuilt: Go maps do not shrink
}

// metaKey is the key of name's record.
func (h *Hub) metaKey(name string) uint64 { return maphash.String(h.seed, name) }

// metaClock returns the seconds since the hub started (the unit of
// channelMeta.expires).
func (h *Hub) metaClock(now time.Time) uint32 {
	return uint32(max(now.Sub(h.start), 0) / time.Second)
}

// keepMeta records the stream of ch, which is going idle. The shard must be
// locked.
func (h *Hub) keepMeta(sh *shard, ch *channel, now time.Time) {
	if h.o.HistoryMetaTTL == 0 || ch.bus != nil {
		// With a bus the stream is the bus's: its epoch and offsets
		// outlive this node's interest by themselves.
		return
	}
	var e [4]byte
	if _, err := hex.Decode(e[:], []byte(ch.epoch)); err != nil {
		return // not an epoch this hub made
	}
	t := &sh.meta
	if t.m == nil {
		t.m = make(map[uint64]channelMeta)
	}
	k := h.metaKey(ch.name)
	if _, ok := t.m[k]; !ok && len(t.m) >= h.metaPerShard {
		// Full: let one record go (map order is random). That channel's
		// next incarnation gets a new epoch, which is what happened to
		// every idle channel before records were kept.
		for old := range t.m {
			delete(t.m, old)
			break
		}
	}
	t.m[k] = channelMeta{
		top:     ch.top,
		epoch:   binary.BigEndian.Uint32(e[:]),
		expires: h.metaExpiry(now),
	}
	t.peak = max(t.peak, len(t.m))
}

// metaExpiry is when a record made or refreshed now goes (rounded up to the
// second; at most the clock's range, some 136 years).
func (h *Hub) metaExpiry(now time.Time) uint32 {
	ttl := uint64((h.o.HistoryMetaTTL + time.Second - 1) / time.Second)
	return uint32(min(uint64(h.metaClock(now))+ttl, math.MaxUint32))
}

// peekMeta returns name's record, if it has not expired. The shard must be
// locked.
func (h *Hub) peekMeta(sh *shard, name string, now time.Time) (channelMeta, bool) {
	if len(sh.meta.m) == 0 {
		return channelMeta{}, false
	}
	m, ok := sh.meta.m[h.metaKey(name)]
	return m, ok && m.expires > h.metaClock(now)
}

// takeMeta removes and returns name's record, if it has not expired: the
// channel is coming back. (An expired one is left to Sweep.) The shard must
// be locked.
func (h *Hub) takeMeta(sh *shard, name string, now time.Time) (channelMeta, bool) {
	m, ok := h.peekMeta(sh, name, now)
	if ok {
		delete(sh.meta.m, h.metaKey(name))
	}
	return m, ok
}

// bumpMeta counts a publication on an idle channel that keeps no history:
// nobody received it, so a client that comes back at the record's old top
// must be told it missed something (the offset moved, nothing retained). It
// returns the publication's position (zero without a record, as for a
// channel nobody knows). The shard must be locked.
func (h *Hub) bumpMeta(sh *shard, name string, now time.Time) Position {
	m, ok := h.peekMeta(sh, name, now)
	if !ok {
		return Position{}
	}
	m.top++
	m.expires = h.metaExpiry(now)
	sh.meta.m[h.metaKey(name)] = m
	return m.position()
}

func (m *channelMeta) epochString() string {
	var e [4]byte
	binary.BigEndian.PutUint32(e[:], m.epoch)
	return hex.EncodeToString(e[:])
}

func (m *channelMeta) position() Position {
	return Position{Epoch: m.epochString(), Offset: m.top}
}

// sweepMeta drops expired records, and rebuilds the map once it holds a
// quarter of its peak, so that memory follows the count down. The shard must
// be locked.
func (h *Hub) sweepMeta(sh *shard, now time.Time) {
	t := &sh.meta
	if len(t.m) == 0 {
		return
	}
	clock := h.metaClock(now)
	for k, m := range t.m {
		if m.expires <= clock {
			delete(t.m, k)
		}
	}
	if len(t.m) <= t.peak/4 {
		if len(t.m) == 0 {
			t.m = nil
		} else {
			nm := make(map[uint64]channelMeta, len(t.m))
			for k, m := range t.m {
				nm[k] = m
			}
			t.m = nm
		}
		t.peak = len(t.m)
	}
}
