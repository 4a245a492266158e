package hub

import (
	"hash/maphash"
	"math/rand/v2"
	"strconv"
	"testing"
)

// TestIDTableModel checks the registry's ID index against a map through
// random adds and removes, growing and shrinking across several sizes.
func TestIDTableModel(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	tb := idTable{seed: maphash.MakeSeed()}
	model := map[string]*Client{}
	var live []*Client
	next := 0
	for step := 0; step < 200000; step++ {
		grow := step%40000 < 25000
		if len(live) == 0 || (grow && r.IntN(3) > 0) || (!grow && r.IntN(3) == 0) {
			c := &Client{ID: strconv.Itoa(next)}
			next++
			if tb.get(c.ID) != nil {
				t.Fatalf("step %d: %s found before it was added", step, c.ID)
			}
			tb.put(c)
			model[c.ID] = c
			live = append(live, c)
		} else {
			i := r.IntN(len(live))
			c := live[i]
			live[i] = live[len(live)-1]
			live = live[:len(live)-1]
			tb.remove(c)
			delete(model, c.ID)
			if tb.get(c.ID) != nil {
				t.Fatalf("step %d: %s found after its removal", step, c.ID)
			}
		}
		if tb.len() != len(model) {
			t.Fatalf("step %d: len %d, want %d", step, tb.len(), len(model))
		}
		if step%997 == 0 {
			for id, c := range model {
				if tb.get(id) != c {
					t.Fatalf("step %d: %s not found", step, id)
				}
			}
			n := 0
			tb.each(func(*Client) { n++ })
			if n != len(model) {
				t.Fatalf("step %d: each saw %d, want %d", step, n, len(model))
			}
		}
	}
	tb.remove(&Client{ID: "absent"}) // harmless
}
