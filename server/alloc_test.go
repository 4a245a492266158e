package server

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rtd-project/rtd/hub"
)

// TestDeliveryAllocsPerPublication counts the process's allocations per
// publication, delivery included (f waits until every subscriber has read
// the frame), with 20 and then 200 WebSocket subscribers over two loops.
// Each publication is prepared once — its WebSocket frame, SSE event and
// Prepared, a dozen or so allocations kept by history — and each loop is
// woken once; routing, queueing and writing allocate nothing, so the count
// must not grow with the subscribers. Under the race detector sync.Pool
// drops items on purpose, so the margins are wider there.
func TestDeliveryAllocsPerPublication(t *testing.T) {
	const subscribers = 200
	s := startServer(t, Options{Loops: 2}, func(s *Server) {
		if err := s.WebSocket("/feed", WSHandler{OnOpen: func(sock *Socket) {
			if _, err := sock.Subscribe("feed", nil); err != nil {
				t.Error(err)
			}
		}}, WSOptions{}); err != nil {
			t.Fatal(err)
		}
	})
	// Each subscriber counts what it reads; a publication is delivered
	// when every count has moved (the server writes a frame with one
	// write, so a subscriber that can read any of it has all of it).
	received := make([]atomic.Int64, subscribers)
	subscribe := func(i int) {
		c, br := rawWS(t, s, "/feed")
		_ = c.SetReadDeadline(time.Now().Add(time.Minute))
		go func() {
			buf := make([]byte, 4096)
			for {
				n, err := br.Read(buf)
				received[i].Add(int64(n))
				if err != nil {
					return
				}
			}
		}()
	}
	n := 20
	for i := range n {
		subscribe(i)
	}
	data := []byte(`{"n":12345678}`)
	before := make([]int64, subscribers)
	publish := func() {
		for i := range n {
			before[i] = received[i].Load()
		}
		if _, err := s.Hub().Publish("feed", hub.Publication{Data: data}); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for i := range n {
			for received[i].Load() == before[i] {
				if time.Now().After(deadline) {
					t.Fatalf("subscriber %d got nothing", i)
				}
				runtime.Gosched()
			}
		}
	}
	publish() // warm the pools and the loops' slices
	few := testing.AllocsPerRun(50, publish)
	for i := n; i < subscribers; i++ {
		subscribe(i)
	}
	n = subscribers
	publish()
	many := testing.AllocsPerRun(50, publish)
	t.Logf("allocations per publication: %.1f with 20 subscribers, %.1f with %d", few, many, subscribers)
	limit, growth := 24.0, 1.0
	if raceEnabled {
		limit, growth = 48, 12
	}
	if many > limit || many-few > growth {
		t.Fatalf("allocations per publication: %.1f with 20 subscribers, %.1f with %d; want at most %.0f and no growth with the subscribers", few, many, subscribers, limit)
	}
}

// TestHTTPRequestAllocs: a keep-alive GET answered by a handler costs the
// server no allocation (the request is parsed in place, the Request the
// handler sees is the loop's, the response is written from the loop's
// buffer). The client side here is a raw socket with fixed buffers.
func TestHTTPRequestAllocs(t *testing.T) {
	s := startServer(t, Options{Loops: 1}, func(s *Server) {
		if err := s.HandleFunc("GET", "/items/:id", func(w *ResponseWriter, r *Request) {
			_, _ = w.WriteString(r.Param("id"))
		}); err != nil {
			t.Fatal(err)
		}
	})
	c := dial(t, s)
	req := []byte("GET /items/7?x=1 HTTP/1.1\r\nHost: x\r\nUser-Agent: alloc-test\r\n\r\n")
	buf := make([]byte, 4096)
	roundTrip := func() {
		if _, err := c.Write(req); err != nil {
			t.Fatal(err)
		}
		got := 0
		for got == 0 || buf[got-1] != '7' {
			n, err := c.Read(buf[got:])
			if err != nil {
				t.Fatal(err)
			}
			got += n
		}
	}
	roundTrip()
	allocs := testing.AllocsPerRun(200, roundTrip)
	t.Logf("allocations per request: %.2f", allocs)
	if limit := 0.5; allocs > limit && !raceEnabled {
		t.Fatalf("a request costs %.2f allocations, want none", allocs)
	}
}
