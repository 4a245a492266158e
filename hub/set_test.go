package hub

import (
	"math/rand/v2"
	"slices"
	"testing"
	"unsafe"
)

// setMember is a Subscriber with the index slot a memberSet maintains.
type setMember struct {
	id  int
	pos int32
}

func (m *setMember) HubClient() *Client { return nil }

func viewIDs(v view) []int {
	var ids []int
	for s := range v.all {
		ids = append(ids, s.(*setMember).id)
	}
	return ids
}

// TestMemberSetSnapshots runs random adds and removes across chunk
// boundaries, with snapshots taken and released at random, and checks after
// every step that each member knows its index and that every snapshot still
// out reads exactly what it read when it was taken: while a snapshot is out,
// no write touches memory it can see.
func TestMemberSetSnapshots(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var s memberSet
	var members []*setMember
	type snap struct {
		v    view
		want []int
	}
	var out []snap
	check := func(step int, sn snap) {
		if got := viewIDs(sn.v); !slices.Equal(got, sn.want) {
			t.Fatalf("step %d: a snapshot changed while it was out", step)
		}
	}
	next := 0
	for step := range 6000 {
		// Grow to about 3 chunks, shrink to empty, grow again.
		grow := (step/1500)%2 == 0
		if len(members) == 0 || (grow && r.IntN(4) != 0) || (!grow && r.IntN(4) == 0) {
			m := &setMember{id: next}
			next++
			s.add(m, &m.pos)
			members = append(members, m)
		} else {
			i := r.IntN(len(members))
			s.remove(int(members[i].pos))
			members = slices.Delete(members, i, i+1)
		}
		if s.len() != len(members) {
			t.Fatalf("step %d: len %d, want %d", step, s.len(), len(members))
		}
		ids := viewIDs(s.view())
		for _, m := range members {
			if got := ids[m.pos]; got != m.id {
				t.Fatalf("step %d: member %d thinks it is at %d, where %d is", step, m.id, m.pos, got)
			}
		}
		switch r.IntN(8) {
		case 0: // take one
			out = append(out, snap{s.snapshot(), ids})
		case 1, 2: // release the oldest (and check it once more)
			if len(out) > 0 {
				check(step, out[0])
				out[0].v.release()
				out = out[1:]
			}
		}
		if step%50 == 0 {
			for _, sn := range out {
				check(step, sn)
			}
		}
		if got := s.inflight.Load(); got != int64(len(out)) {
			t.Fatalf("step %d: %d snapshots in flight, want %d", step, got, len(out))
		}
	}
}

// TestChunkSizeClass keeps a full chunk's slots exactly the 4096-byte size
// class.
func TestChunkSizeClass(t *testing.T) {
	if n := chunkSize * unsafe.Sizeof(Subscriber(nil)); n != 4096 {
		t.Errorf("a full chunk's slots are %d bytes, not the 4096 of their size class", n)
	}
}

// TestSmallSetsAreSmall: a set's last chunk grows with its members, so a
// set of one member (a user's own channel on a loop) costs a slot, not a
// full chunk, and a set that shrinks gives its room back.
func TestSmallSetsAreSmall(t *testing.T) {
	var s memberSet
	m := &setMember{}
	s.add(m, &m.pos)
	if n := len(s.chunks[0].subs); n != 1 {
		t.Fatalf("one member: a chunk of %d slots", n)
	}
	members := []*setMember{m}
	for i := range 3 * chunkSize {
		m := &setMember{id: i + 1}
		s.add(m, &m.pos)
		members = append(members, m)
	}
	for len(members) > 3 {
		last := members[len(members)-1]
		s.remove(int(last.pos))
		members = members[:len(members)-1]
	}
	if len(s.chunks) != 1 || len(s.chunks[0].subs) > 8 {
		t.Fatalf("3 members left of %d: %d chunks, the last of %d slots", 3*chunkSize+1, len(s.chunks), len(s.chunks[len(s.chunks)-1].subs))
	}
	if got := viewIDs(s.view()); !slices.Equal(got, []int{0, 1, 2}) {
		t.Fatalf("members %v", got)
	}
}

// TestSubscriptionSizeClass keeps a subscription in the 24-byte class.
func TestSubscriptionSizeClass(t *testing.T) {
	if n := unsafe.Sizeof(subscription{}); n > 24 {
		t.Errorf("a subscription is %d bytes, more than its 24-byte size class", n)
	}
}

// TestClientSize keeps a Client at 80 bytes: the server embeds one in every
// connection (server/size_test.go holds the structs that embed it to their
// size classes).
func TestClientSize(t *testing.T) {
	if n := unsafe.Sizeof(Client{}); n > 80 {
		t.Errorf("a Client is %d bytes, more than 80", n)
	}
}
