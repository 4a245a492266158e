package fanout

import "testing"

// TestBusQueueOrderAndBound: jobs run one at a time in push order, and a full
// queue refuses more instead of growing.
func TestBusQueueOrderAndBound(t *testing.T) {
	var q busQueue
	gate := make(chan struct{})
	ran := make(chan int, maxBusJobs+1)
	for i := range maxBusJobs {
		if !q.push(func() { <-gate; ran <- i }) {
			t.Fatalf("push %d refused below the bound", i)
		}
	}
	// The first job may already have left the queue for the worker; fill
	// what it freed, then the queue must be full.
	extra := 0
	for {
		n := maxBusJobs + extra
		if !q.push(func() { <-gate; ran <- n }) {
			break
		}
		extra++
		if extra > 1 {
			t.Fatalf("the queue took %d jobs past its bound of %d", extra, maxBusJobs)
		}
	}
	close(gate)
	for want := range maxBusJobs + extra {
		if got := <-ran; got != want {
			t.Fatalf("job %d ran in place %d", got, want)
		}
	}
	if !q.push(func() { ran <- -1 }) || <-ran != -1 {
		t.Fatal("the drained queue does not take work again")
	}
}
