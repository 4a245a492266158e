package hub

import (
	"fmt"
	"sync"
	"testing"
)

// TestPublishUnderMembershipChurn: subscribers that stay get every
// publication exactly once, in order, while others subscribe and
// unsubscribe on the same loops all the time (the last chunk growing
// through 1, 2, 4 … slots and shrinking when a quarter full, snapshots out
// on the loops); churners never see an offset twice or out of order.
func TestPublishUnderMembershipChurn(t *testing.T) {
	const loops, stable, churners, pubs = 2, 3, 24, 3000
	h, n := newTestHub(t, loops, Options{})
	var stay []*testConn
	for i := range stable {
		tc := connect(t, h, fmt.Sprintf("s%d", i), "", i%loops)
		subscribe(t, h, tc, "c", nil)
		stay = append(stay, tc)
	}
	churn := connectMany(t, h, "x", churners, loops)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i, tc := range churn {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; ; k++ {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := h.Subscribe(tc, "c", nil); err != nil {
					t.Errorf("subscribe: %v", err)
					return
				}
				// hold a while, longer for some: sizes wander
				for range (i % 7) * 50 {
					select {
					case <-stop:
						return
					default:
					}
				}
				if err := h.Unsubscribe(tc, "c"); err != nil {
					t.Errorf("unsubscribe: %v", err)
					return
				}
			}
		}()
	}
	for range pubs {
		publish(t, h, "c", "m")
	}
	close(stop)
	wg.Wait()
	n.flush()
	for _, tc := range stay {
		got := tc.offsets("c")
		if len(got) != pubs {
			t.Fatalf("%s got %d publications, want %d", tc.c.ID, len(got), pubs)
		}
		for i, o := range got {
			if o != uint64(i+1) {
				t.Fatalf("%s: publication %d has offset %d", tc.c.ID, i, o)
			}
		}
	}
	for _, tc := range churn {
		got := tc.offsets("c")
		for i := 1; i < len(got); i++ {
			if got[i] <= got[i-1] {
				t.Fatalf("%s: offsets %d then %d", tc.c.ID, got[i-1], got[i])
			}
		}
	}
}
