package server

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/rtd-project/rtd/internal/nodeclient"
	"github.com/rtd-project/rtd/proto/sse"
)

// idLog records, in order, the Last-Event-ID each stream of a route opened
// with. OnOpen appends on the loop; the test reads from its own goroutine.
type idLog struct {
	mu  sync.Mutex
	ids []string
}

func (l *idLog) add(id string) {
	l.mu.Lock()
	l.ids = append(l.ids, id)
	l.mu.Unlock()
}

func (l *idLog) get() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.ids)
}

// mountNumbered registers GET pattern as cmd/rtd's /echo/sse (copied: that
// is package main): events "id: N", "data: N", numbered on from the client's
// Last-Event-ID; ?rate=R events per second (0 = no pause, the default here so
// tests never wait on a ticker), ?count=C ends the response after C events.
// Each stream's Last-Event-ID is recorded in ids.
func mountNumbered(t testing.TB, s *Server, pattern string, o SSEOptions, ids *idLog) {
	t.Helper()
	err := s.SSE(pattern, SSEHandler{OnOpen: func(st *Stream) {
		ids.add(st.LastEventID())
		numberedStream(st)
	}}, o)
	if err != nil {
		t.Fatal(err)
	}
}

// numberedStream feeds one stream from its own goroutine (Send is safe off the
// loop), as cmd/rtd's echoStream does.
func numberedStream(st *Stream) {
	r := st.Request()
	rate := 0.0
	if v, err := strconv.ParseFloat(r.Query("rate"), 64); err == nil && v >= 0 {
		rate = v
	}
	count := -1
	if v, err := strconv.Atoi(r.Query("count")); err == nil && v >= 0 {
		count = v
	}
	next, _ := strconv.ParseUint(st.LastEventID(), 10, 64)
	ctx := st.Context()
	go func() {
		var tick <-chan time.Time
		if rate > 0 {
			t := time.NewTicker(time.Duration(float64(time.Second) / rate))
			defer t.Stop()
			tick = t.C
		}
		for sent := 0; count < 0 || sent < count; sent++ {
			if tick != nil {
				select {
				case <-ctx.Done():
					return
				case <-tick:
				}
			} else if ctx.Err() != nil {
				return
			}
			next++
			n := strconv.FormatUint(next, 10)
			if err := st.Send(sse.Event{ID: n, Data: []byte(n)}); err != nil && err != ErrSlowClient {
				return
			}
		}
		_ = st.Close()
	}()
}

// ticksPerStream is how many events a /ticks stream carries before it ends.
const ticksPerStream = 2

// mountTicks registers GET /ticks: each stream sends, from OnOpen, the next
// ticksPerStream events after its Last-Event-ID and then ends, so a client
// only sees them all by reconnecting with the right Last-Event-ID. Odd ids
// are named "tick", even ids unnamed; data is tickData(id), three lines
// separated by LF, CRLF.
func mountTicks(t testing.TB, s *Server, o SSEOptions, ids *idLog) {
	t.Helper()
	err := s.SSE("/ticks", SSEHandler{OnOpen: func(st *Stream) {
		ids.add(st.LastEventID())
		n, _ := strconv.Atoi(st.LastEventID())
		for id := n + 1; id <= n+ticksPerStream; id++ {
			if err := st.Send(tickEvent(id)); err != nil {
				panic(err)
			}
		}
		_ = st.Close()
	}}, o)
	if err != nil {
		t.Fatal(err)
	}
}

func tickEvent(id int) sse.Event {
	e := sse.Event{ID: strconv.Itoa(id), Data: fmt.Appendf(nil, "a%d\nb\r\nc", id)}
	if id%2 == 1 {
		e.Event = "tick"
	}
	return e
}

// receivedEvent is an event as a client reports it: the dispatched type
// ("message" for an unnamed event), the last event id and the data.
type receivedEvent struct{ Event, ID, Data string }

// wantTicks is what a client must report for /ticks events first..last: data
// lines joined by LF whatever the line ending sent.
func wantTicks(first, last int) []receivedEvent {
	var want []receivedEvent
	for id := first; id <= last; id++ {
		name := "message"
		if id%2 == 1 {
			name = "tick"
		}
		want = append(want, receivedEvent{name, strconv.Itoa(id), fmt.Sprintf("a%d\nb\nc", id)})
	}
	return want
}

// wantNumbered is what a client must report for numbered events first..last.
func wantNumbered(first, last int) []receivedEvent {
	var want []receivedEvent
	for id := first; id <= last; id++ {
		n := strconv.Itoa(id)
		want = append(want, receivedEvent{"message", n, n})
	}
	return want
}

// runNode runs a test/node client script, bounded by timeout, and returns
// its decoded lines; a script that fails fails the test.
func runNode(t *testing.T, timeout time.Duration, script string, args ...string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	lines, err := nodeclient.Run(ctx, script, args...)
	if err != nil {
		t.Fatalf("%s: %v\noutput:\n%q", script, err, lines)
	}
	return lines
}

func httpURL(s *Server, path string) string { return "http://" + s.Addr() + path }
