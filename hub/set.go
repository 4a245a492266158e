package hub

// chunkSize is the number of subscribers per chunk of a memberSet: big enough
// that a walk is a tight loop over contiguous memory, small enough that copying
// one chunk (4 KiB of interface values) on a write is cheap.
const chunkSize = 256

// chunk is a fixed block of subscribers. Slots that a snapshot may read are
// never written again: a write to such a slot copies the chunk first.
type chunk struct {
	subs    [chunkSize]Subscriber
	written int // slots [0, written) have been written and may be visible to a snapshot
}

// view is an immutable snapshot of a memberSet: its first n subscribers, read
// from chunks. A view is a value (a slice header and a count), so taking one
// allocates nothing and a Batch carries it inline.
type view struct {
	chunks []*chunk
	n      int
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

// memberSet is a set of subscribers with copy-on-write snapshots: the
// subscribers of one channel on one loop, or every connection of one loop.
//
// Members sit in fixed-size chunks reached through a directory. Adding writes
// a slot that no snapshot has seen, in place; removing moves the last member
// into the hole (swap-remove) in a copy of the hole's chunk and a copy of the
// directory. So a change costs O(n/chunkSize + chunkSize) at worst, however
// many snapshots are still being walked by event loops, and a snapshot (view)
// costs nothing. All methods but the views' walks need the owner's lock.
type memberSet struct {
	chunks     []*chunk
	dirWritten int // directory slots [0, dirWritten) may be visible to a snapshot
	n          int
	// pos[i] points at the int32 where member i's index is recorded (in its
	// subscription or Client), so that swap-remove can tell the moved member
	// its new place. Only the owner reads it; it is never shared.
	pos []*int32
}

func (s *memberSet) len() int { return s.n }

func (s *memberSet) view() view { return view{s.chunks, s.n} }

// add appends sub and records its index in *pos.
func (s *memberSet) add(sub Subscriber, pos *int32) {
	ci, si := s.n/chunkSize, s.n%chunkSize
	var c *chunk
	switch {
	case ci == len(s.chunks):
		c = new(chunk)
		s.setChunk(ci, c)
	case si < s.chunks[ci].written:
		// The slot was used before (and may be in a snapshot): copy the valid part.
		c = cloneChunk(s.chunks[ci], si)
		s.setChunk(ci, c)
	default:
		c = s.chunks[ci]
	}
	c.subs[si] = sub
	c.written = si + 1
	*pos = int32(s.n)
	s.pos = append(s.pos, pos)
	s.n++
}

// remove deletes the member at index i.
func (s *memberSet) remove(i int) {
	last := s.n - 1
	lc, ls := last/chunkSize, last%chunkSize
	if i != last {
		ci, si := i/chunkSize, i%chunkSize
		keep := chunkSize
		if ci == lc {
			keep = ls // the last slot moves into the hole
		}
		c := cloneChunk(s.chunks[ci], keep)
		c.subs[si] = s.chunks[lc].subs[ls]
		s.setChunk(ci, c)
		moved := s.pos[last]
		*moved = int32(i)
		s.pos[i] = moved
	}
	s.pos[last] = nil
	s.pos = s.pos[:last]
	s.n = last
	if ls == 0 {
		// The last chunk is empty: drop it from the directory (a reslice, no
		// write; the slot stays marked as written).
		s.chunks = s.chunks[:lc]
	}
	switch {
	case s.n == 0:
		*s = memberSet{}
	case cap(s.pos) > 64 && s.n < cap(s.pos)/4:
		s.pos = append([]*int32(nil), s.pos...)
	}
}

// setChunk puts c at directory index ci (ci <= len(s.chunks)), copying the
// directory unless it is an append into a slot no snapshot has seen.
func (s *memberSet) setChunk(ci int, c *chunk) {
	if ci == len(s.chunks) && ci < cap(s.chunks) && ci >= s.dirWritten {
		s.chunks = s.chunks[:ci+1]
		s.chunks[ci] = c
		s.dirWritten = ci + 1
		return
	}
	n := max(len(s.chunks), ci+1)
	d := make([]*chunk, n, n+n/4+2)
	copy(d, s.chunks)
	d[ci] = c
	s.chunks = d
	s.dirWritten = n
}

// cloneChunk copies the first keep slots of c into a new chunk.
func cloneChunk(c *chunk, keep int) *chunk {
	nc := new(chunk)
	copy(nc.subs[:keep], c.subs[:keep])
	nc.written = keep
	return nc
}
