package hub

import "sync/atomic"

// chunkSize is the number of subscribers per chunk of a memberSet: big enough
// that a walk is a tight loop over contiguous memory, small enough that copying
// one chunk (4 KiB of interface values) on a write is cheap: 256 slots are
// exactly 4096 bytes, a size class.
const chunkSize = 256

// chunk is a block of up to chunkSize subscribers. A set's last chunk grows
// as members come (1, 2, 4, … slots, then chunkSize), so that a channel with
// one subscriber on a loop (a user's own channel, say) costs a slot, not
// 4 KiB; full chunks and the ones before the last have all chunkSize.
type chunk struct {
	subs    []Subscriber // len == cap; slots [0, written) may be in a snapshot
	written int          // slots [0, written) have been written and may be visible to a snapshot
	gen     uint64       // the set's generation when the chunk was made
}

// newChunk makes a chunk of the set's generation with room for n slots
// (rounded up to a power of two, at most chunkSize), holding a copy of keep.
func newChunk(gen uint64, n int, keep []Subscriber) *chunk {
	size := 1
	for size < n {
		size *= 2
	}
	c := &chunk{subs: make([]Subscriber, min(size, chunkSize)), gen: gen}
	c.written = copy(c.subs, keep)
	return c
}

// view is a read-only window on a memberSet: its first n subscribers, read
// from chunks. A view is a value (a slice header, a count and a pointer), so
// taking one allocates nothing and a Batch carries it inline. A view from
// memberSet.snapshot stays valid until released; one from memberSet.view only
// while the owner's lock is held.
type view struct {
	chunks   []*chunk
	n        int
	inflight *atomic.Int64 // the set's snapshot count, for release; nil for unlocked views
}

func (v view) each(fn Visitor, m *Prepared) {
	n := v.n
	for _, c := range v.chunks {
		if n <= 0 {
			return
		}
		k := min(n, chunkSize)
		for _, s := range c.subs[:k] {
			fn.Visit(s, m)
		}
		n -= k
	}
}

// all yields the members of the view (an iter.Seq, for the slow paths).
func (v view) all(yield func(Subscriber) bool) {
	n := v.n
	for _, c := range v.chunks {
		for _, s := range c.subs[:min(max(n, 0), chunkSize)] {
			if !yield(s) {
				return
			}
		}
		n -= chunkSize
	}
}

// release ends a snapshot.
func (v view) release() {
	if v.inflight != nil {
		v.inflight.Add(-1)
	}
}

// memberSet is a set of subscribers with cheap immutable snapshots: the
// subscribers of one channel on one loop, or every connection of one loop.
//
// Members sit in chunks of chunkSize slots reached through a directory; the
// last chunk grows to that size in steps and shrinks when a quarter full,
// each step a new chunk. While no snapshot is out (no batch of this set is
// waiting for or being walked by a loop), changes happen in place. While one
// is, a change never writes memory a snapshot can see: adding writes a slot
// that was never written, in place, or else a copy of its chunk (a bigger
// one when it is full); removing moves the last member into the hole
// (swap-remove) in a copy of the hole's chunk and a copy of the directory.
// Chunks and directories made since the last snapshot are nobody else's and
// change in place, so a burst of changes between two publications copies each
// chunk at most once. A change thus costs O(n/chunkSize + chunkSize) at
// worst, and a snapshot costs one atomic add. All methods need the owner's
// lock; only snapshots are read without it.
type memberSet struct {
	chunks     []*chunk
	dirWritten int    // directory slots [0, dirWritten) may be visible to a snapshot
	dirGen     uint64 // generation when the directory's backing array was made
	n          int
	gen        uint64 // counts snapshots; a chunk or directory of the current generation is unseen
	// pos[i] points at the int32 where member i's index is recorded (in its
	// subscription or Client), so that swap-remove can tell the moved member
	// its new place. Only the owner reads it; it is never shared.
	pos []*int32
	// inflight counts the snapshots not yet released. The release of the
	// last one happens before a change that loads zero, which may then write
	// in place.
	inflight atomic.Int64
}

func (s *memberSet) len() int { return s.n }

// view returns the current members for reading under the owner's lock.
func (s *memberSet) view() view { return view{chunks: s.chunks, n: s.n} }

// snapshot returns the current members for reading without the lock, until
// the view is released.
func (s *memberSet) snapshot() view {
	s.inflight.Add(1)
	s.gen++
	return view{chunks: s.chunks, n: s.n, inflight: &s.inflight}
}

// add appends sub and records its index in *pos.
func (s *memberSet) add(sub Subscriber, pos *int32) {
	shared := s.inflight.Load() != 0
	ci, si := s.n/chunkSize, s.n%chunkSize
	var c *chunk
	switch {
	case ci == len(s.chunks):
		c = newChunk(s.gen, 1, nil)
		s.setChunk(ci, c, shared)
	case si >= len(s.chunks[ci].subs):
		// Full: a bigger one with the members so far (the old one stays
		// as it is for the snapshots that read it).
		c = newChunk(s.gen, 2*si, s.chunks[ci].subs[:si])
		s.setChunk(ci, c, shared)
	case shared && s.chunks[ci].gen != s.gen && si < s.chunks[ci].written:
		// The slot was used before and may be in a snapshot: copy the valid part.
		c = s.cloneChunk(s.chunks[ci], si)
		s.setChunk(ci, c, shared)
	default:
		c = s.chunks[ci]
	}
	c.subs[si] = sub
	c.written = max(c.written, si+1)
	*pos = int32(s.n)
	s.pos = append(s.pos, pos)
	s.n++
}

// remove deletes the member at index i.
func (s *memberSet) remove(i int) {
	shared := s.inflight.Load() != 0
	last := s.n - 1
	lc, ls := last/chunkSize, last%chunkSize
	if i != last {
		ci, si := i/chunkSize, i%chunkSize
		lastSub := s.chunks[lc].subs[ls]
		c := s.chunks[ci]
		if shared && c.gen != s.gen {
			keep := chunkSize
			if ci == lc {
				keep = ls // the last slot moves into the hole
			}
			c = s.cloneChunk(c, keep)
			s.setChunk(ci, c, shared)
		}
		c.subs[si] = lastSub
		moved := s.pos[last]
		*moved = int32(i)
		s.pos[i] = moved
	}
	if lastChunk := s.chunks[lc]; !shared || lastChunk.gen == s.gen {
		lastChunk.subs[ls] = nil // nobody reads it: let the connection go
	}
	s.pos[last] = nil
	s.pos = s.pos[:last]
	s.n = last
	if ls == 0 {
		// The last chunk is empty: drop it from the directory (a reslice,
		// no write; the slot stays marked as written).
		s.chunks = s.chunks[:lc]
	}
	switch {
	case s.n == 0:
		s.chunks, s.dirWritten, s.pos = nil, 0, nil
	case cap(s.pos) > 64 && s.n < cap(s.pos)/4:
		s.pos = append([]*int32(nil), s.pos...)
	}
	// A last chunk a quarter full gives back its room (a channel that
	// had many subscribers on this loop and has few now).
	if k := s.n % chunkSize; s.n > 0 && k > 0 && len(s.chunks[len(s.chunks)-1].subs) > 8 && k < len(s.chunks[len(s.chunks)-1].subs)/4 {
		ci := len(s.chunks) - 1
		s.setChunk(ci, newChunk(s.gen, 2*k, s.chunks[ci].subs[:k]), shared)
	}
}

// setChunk puts c at directory index ci (ci <= len(s.chunks)). While
// snapshots are out it copies the directory unless this is an append into a
// slot no snapshot has seen.
func (s *memberSet) setChunk(ci int, c *chunk, shared bool) {
	private := !shared || s.dirGen == s.gen
	switch {
	case ci < len(s.chunks) && private:
		s.chunks[ci] = c
		return
	case ci == len(s.chunks) && ci < cap(s.chunks) && (private || ci >= s.dirWritten):
		s.chunks = s.chunks[:ci+1]
		s.chunks[ci] = c
		s.dirWritten = max(s.dirWritten, ci+1)
		return
	}
	n := max(len(s.chunks), ci+1)
	d := make([]*chunk, n, n+n/4+2)
	copy(d, s.chunks)
	d[ci] = c
	s.chunks = d
	s.dirWritten, s.dirGen = n, s.gen
}

// cloneChunk copies the first keep slots of c into a new chunk of c's size.
func (s *memberSet) cloneChunk(c *chunk, keep int) *chunk {
	return newChunk(s.gen, len(c.subs), c.subs[:min(keep, len(c.subs))])
}
