package fanout

import (
	"sync"
	"time"

	"github.com/rtd-project/rtd/server"
)

// With a message bus (hub.Options.Broker), publishing waits for the bus to
// acknowledge, and history and cluster figures may be read from it: a round
// trip that must not be taken on the event loop, where every other
// connection of the loop would wait too. API handlers defer their response
// (server.ResponseWriter.Defer); /ws publications go through a per-connection
// queue served by a goroutine, which keeps their order.

// offLoop runs fn now, or, when mayWait, after the handler on a goroutine of
// its own (its time counted in the API latency from now: guard counts the
// handlers that answer on the loop). fn must not touch the Request.
func (t *Tier) offLoop(w *server.ResponseWriter, mayWait bool, fn func(w *server.ResponseWriter)) {
	if mayWait {
		start := time.Now()
		w.Defer(func(w *server.ResponseWriter) {
			fn(w)
			t.apiLatency.Observe(int64(time.Since(start)))
		})
		return
	}
	fn(w)
}

// maxBusJobs bounds the publications of one /ws connection that wait for the
// bus; past it the client is told to slow down (CodeLimitExceeded).
const maxBusJobs = 64

// busQueue runs one connection's bus work in order, on a goroutine that
// exists while there is work.
type busQueue struct {
	mu      sync.Mutex
	jobs    []func()
	running bool
}

// push queues f and reports false, queuing nothing, when the queue is full.
func (q *busQueue) push(f func()) bool {
	q.mu.Lock()
	if len(q.jobs) >= maxBusJobs {
		q.mu.Unlock()
		return false
	}
	q.jobs = append(q.jobs, f)
	start := !q.running
	q.running = true
	q.mu.Unlock()
	if start {
		go q.run()
	}
	return true
}

func (q *busQueue) run() {
	for {
		q.mu.Lock()
		if len(q.jobs) == 0 {
			q.running = false
			q.jobs = nil
			q.mu.Unlock()
			return
		}
		f := q.jobs[0]
		q.jobs[0] = nil
		q.jobs = q.jobs[1:]
		q.mu.Unlock()
		f()
	}
}
