package hub

import (
	"sync/atomic"
	"time"
)

// history is a channel's ring of its latest publications. Every publication
// of the channel passes through it, so the retained entries are exactly the
// channel's publications after floor, oldest first. On a single node their
// offsets are consecutive; with a broker they are the bus's stream sequences,
// increasing but sparse, so the ring is searched rather than indexed.
type history struct {
	size  int           // capacity; 0: no history
	ttl   time.Duration // 0: no expiry
	buf   []*Prepared   // grows up to size as publications arrive
	head  int           // index of the oldest entry in buf
	n     int           // entries retained
	floor uint64        // offset of the newest publication no longer retained
	used  *atomic.Int64 // the hub's count of bytes retained by every history (Options.MaxHistoryBytes)
}

// retainedSize is what a retained publication holds in memory: its data and
// its encodings.
func retainedSize(m *Prepared) int64 { return int64(len(m.Data) + len(m.WS) + len(m.SSE)) }

// account adds n retained bytes to the hub's count.
func (h *history) account(n int64) {
	if h.used != nil {
		h.used.Add(n)
	}
}

func (h *history) at(i int) *Prepared { return h.buf[(h.head+i)%len(h.buf)] }

// push retains m, dropping the oldest entry when full.
func (h *history) push(m *Prepared) {
	if h.size == 0 {
		h.floor = m.Offset
		return
	}
	h.account(retainedSize(m))
	switch {
	case h.n < len(h.buf):
		h.buf[(h.head+h.n)%len(h.buf)] = m
		h.n++
	case len(h.buf) < h.size:
		// Full but allowed to grow: linearise into a bigger buffer. Channels
		// that see few publications never pay for the whole ring.
		nb := make([]*Prepared, h.n, min(max(2*h.n, 4), h.size))
		for i := range h.n {
			nb[i] = h.at(i)
		}
		h.buf, h.head = append(nb, m), 0
		h.n++
	default:
		h.floor = h.buf[h.head].Offset
		h.account(-retainedSize(h.buf[h.head]))
		h.buf[h.head] = m
		h.head = (h.head + 1) % len(h.buf)
	}
}

// prune drops the entries older than the TTL.
func (h *history) prune(now time.Time) {
	if h.ttl == 0 || h.n == 0 {
		return
	}
	cutoff := now.Add(-h.ttl).UnixMilli()
	for h.n > 0 && h.buf[h.head].Time <= cutoff {
		h.floor = h.buf[h.head].Offset
		h.account(-retainedSize(h.buf[h.head]))
		h.buf[h.head] = nil
		h.head = (h.head + 1) % len(h.buf)
		h.n--
	}
	if h.n == 0 {
		h.buf, h.head = nil, 0
	}
}

// release gives back the bytes of what h retains: its channel is dropped.
func (h *history) release() {
	for i := range h.n {
		h.account(-retainedSize(h.at(i)))
	}
}

// slice returns k retained entries starting at the i-th oldest, in order, in
// a new slice (nil when k is 0).
func (h *history) slice(i, k int) []*Prepared {
	if k <= 0 {
		return nil
	}
	out := make([]*Prepared, k)
	for j := range out {
		out[j] = h.at(i + j)
	}
	return out
}

// after returns the index of the first retained entry with an offset above
// off (n when there is none).
func (h *history) after(off uint64) int {
	lo, hi := 0, h.n
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if h.at(mid).Offset <= off {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// reset forgets every entry: the channel's publications up to floor are no
// longer known.
func (h *history) reset(floor uint64) {
	clear(h.buf)
	h.buf, h.head, h.n, h.floor = nil, 0, 0, floor
}
