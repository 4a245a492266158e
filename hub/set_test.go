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
// no write touches memory it can see. It grows to about 3 chunks, shrinks to
// empty and grows again.
func TestMemberSetSnapshots(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	churnMemberSet(t, r, 6000, func(step, n int) bool {
		grow := (step/1500)%2 == 0
		return grow && r.IntN(4) != 0 || !grow && r.IntN(4) == 0
	})
}

// TestMemberSetChurnAcrossSizes does the same with sizes that wander around
// the last chunk's growth steps (1, 2, 4 … 256 slots), where it grows and
// gives room back, and across full chunks.
func TestMemberSetChurnAcrossSizes(t *testing.T) {
	targets := []int{1, 2, 3, 5, 9, 17, 33, 65, 129, 255, 256, 257, 300, 513, 40, 3, 600, 70, 0, 12}
	for seed := range uint64(8) {
		r := rand.New(rand.NewPCG(seed, seed*7+1))
		target := targets[r.IntN(len(targets))]
		churnMemberSet(t, r, 4000, func(step, n int) bool {
			if r.IntN(60) == 0 {
				target = targets[r.IntN(len(targets))]
			}
			return n < target != (r.IntN(5) == 0)
		})
	}
}

// churnMemberSet adds to a set (when add says so, or it is empty) or
// removes a random member, steps times, taking and releasing snapshots at
// random; after every step it checks each member's index, that every chunk
// but the last is full, and that every snapshot out reads (with all and
// each) what it read when taken.
func churnMemberSet(t *testing.T, r *rand.Rand, steps int, add func(step, n int) bool) {
	t.Helper()
	var s memberSet
	var members []*setMember
	type snap struct {
		v    view
		want []int
	}
	var out []snap
	next := 0
	for step := range steps {
		if len(members) == 0 || add(step, len(members)) {
			m := &setMember{id: next}
			next++
			s.add(m, &m.pos)
			members = append(members, m)
		} else {
			i := r.IntN(len(members))
			s.remove(int(members[i].pos))
			members = slices.Delete(members, i, i+1)
		}
		ids := viewIDs(s.view())
		if s.len() != len(members) || len(ids) != len(members) {
			t.Fatalf("step %d: len %d and %d ids, want %d", step, s.len(), len(ids), len(members))
		}
		for _, m := range members {
			if got := ids[m.pos]; got != m.id {
				t.Fatalf("step %d: member %d thinks it is at %d, where %d is", step, m.id, m.pos, got)
			}
		}
		for ci, c := range s.chunks {
			if ci < len(s.chunks)-1 && len(c.subs) != chunkSize {
				t.Fatalf("step %d: chunk %d of %d has %d slots", step, ci, len(s.chunks), len(c.subs))
			}
		}
		switch r.IntN(7) {
		case 0: // take one
			out = append(out, snap{s.snapshot(), ids})
		case 1, 2: // release one
			if len(out) > 0 {
				j := r.IntN(len(out))
				out[j].v.release()
				out = slices.Delete(out, j, j+1)
			}
		}
		for _, sn := range out {
			var each []int
			sn.v.each(visitFunc(func(sub Subscriber) { each = append(each, sub.(*setMember).id) }), nil)
			if got := viewIDs(sn.v); !slices.Equal(got, sn.want) || !slices.Equal(each, sn.want) {
				t.Fatalf("step %d: a snapshot changed while it was out", step)
			}
		}
		if got := s.inflight.Load(); got != int64(len(out)) {
			t.Fatalf("step %d: %d snapshots in flight, want %d", step, got, len(out))
		}
	}
	for _, sn := range out {
		sn.v.release()
	}
}

type visitFunc func(Subscriber)

func (f visitFunc) Visit(s Subscriber, _ *Prepared) { f(s) }

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
