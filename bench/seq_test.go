package bench

import "testing"

func TestSeqTrackerLossAndDuplicates(t *testing.T) {
	type obs struct {
		pub       int
		seq       uint64
		lost, dup uint64
	}
	cases := []struct {
		name      string
		seen      []obs
		published []uint64
		tail      uint64
	}{
		{"in order", []obs{{0, 1, 0, 0}, {0, 2, 0, 0}, {0, 3, 0, 0}}, []uint64{3}, 0},
		{"gap", []obs{{0, 1, 0, 0}, {0, 4, 2, 0}, {0, 5, 0, 0}}, []uint64{5}, 0},
		{"first lost", []obs{{0, 2, 1, 0}}, []uint64{2}, 0},
		{"duplicate", []obs{{0, 1, 0, 0}, {0, 2, 0, 0}, {0, 2, 0, 1}, {0, 3, 0, 0}}, []uint64{3}, 0},
		{"late one is lost then duplicated", []obs{{0, 1, 0, 0}, {0, 3, 1, 0}, {0, 2, 0, 1}}, []uint64{3}, 0},
		{"tail lost", []obs{{0, 1, 0, 0}}, []uint64{4}, 3},
		{"publishers apart", []obs{{1, 1, 0, 0}, {0, 1, 0, 0}, {1, 2, 0, 0}, {0, 3, 1, 0}}, []uint64{3, 3}, 1},
		{"nothing seen", nil, []uint64{2, 5}, 7},
	}
	for _, c := range cases {
		var tr seqTracker
		for i, o := range c.seen {
			lost, dup := tr.observe(o.pub, o.seq)
			if lost != o.lost || dup != o.dup {
				t.Errorf("%s: #%d (pub %d seq %d): lost %d dup %d, want %d %d", c.name, i, o.pub, o.seq, lost, dup, o.lost, o.dup)
			}
		}
		if got := tr.tail(c.published); got != c.tail {
			t.Errorf("%s: tail %d, want %d", c.name, got, c.tail)
		}
	}
}

func TestStampRoundTrip(t *testing.T) {
	s := stamp{ch: 12, pub: 3, seq: 987654321, ts: 1732000000123456789}
	for _, size := range []int{0, 10, 64, 300} {
		b := appendStamp(nil, s, size)
		if size > 70 && len(b) != size {
			t.Errorf("size %d: got %d bytes", size, len(b))
		}
		got, ok := parseStamp(b)
		if !ok || got != s {
			t.Errorf("size %d: parsed %+v %v from %s", size, got, ok, b)
		}
	}
	// Inside an envelope, re-encoded with spaces.
	got, ok := parseStamp([]byte(`{"channel":"bench12","offset":5,"data":{"ch" : 12, "pub": 3,"seq":987654321 ,"ts": 1732000000123456789}}`))
	if !ok || got != s {
		t.Errorf("envelope: parsed %+v %v", got, ok)
	}
	if _, ok := parseStamp([]byte(`{"op":"pong"}`)); ok {
		t.Error("a pong parsed as a publication")
	}
}
