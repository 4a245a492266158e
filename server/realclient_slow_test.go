package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rtd-project/rtd/proto/sse"
)

// dialSmallWindow connects to s with a 16 KiB receive buffer, set before
// connect so the advertised window stays small.
func dialSmallWindow(t *testing.T, s *Server) net.Conn {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second, Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 16<<10)
		})
		return errors.Join(err, serr)
	}}
	c, err := d.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// slowSSEResult is what slowSSERun observed.
type slowSSEResult struct {
	err      error     // the Send error the slow stream's policy produced
	slow     *Stream   // the slow stream
	slowConn net.Conn  // its client, which has read nothing yet
	slowGone chan bool // receives once the slow stream's OnClose ran
	s        *Server
}

// slowSSERun opens, on one loop, a stream whose client never reads and a
// go-sse client that does, then sends 16 KiB events to both in lockstep with
// the fast client's reads until the slow stream's policy acts, and 20 rounds
// more. The fast client must get every event, in order and intact, and the
// slow stream's backlog must stay within MaxSendQueueBytes.
func slowSSERun(t *testing.T, policy SlowClientPolicy) slowSSEResult {
	const limit = 256 << 10
	opened := make(chan *Stream, 2)
	gone := make(chan bool, 2)
	s := startServer(t, Options{Loops: 1, SocketSendBuffer: 64 << 10}, func(s *Server) {
		err := s.SSE("/feed", SSEHandler{
			OnOpen:  func(st *Stream) { opened <- st },
			OnClose: func(*Stream) { gone <- true },
		}, SSEOptions{MaxSendQueueBytes: limit, SlowClientPolicy: policy, HeartbeatInterval: -1})
		if err != nil {
			t.Fatal(err)
		}
	})
	slowConn := dialSmallWindow(t, s)
	fmt.Fprint(slowConn, "GET /feed HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
	slow := <-opened

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	events := goSSEEvents(t, ctx, httpURL(s, "/feed"))
	fast := <-opened

	data := []byte(strings.Repeat("x", 16<<10))
	var slowErr error
	maxOut, extra := 0, 0
	const rounds = 400 // 6.4 MiB to each: far beyond any kernel buffering
	for i := 1; extra < 20; i++ {
		if i > rounds {
			t.Fatalf("the slow client took %d MiB without the policy acting", rounds*len(data)>>20)
		}
		if slowErr != nil {
			extra++
		}
		id := strconv.Itoa(i)
		if err := fast.Send(sse.Event{ID: id, Data: data}); err != nil {
			t.Fatalf("fast send %d: %v", i, err)
		}
		if slowErr == nil {
			if slowErr = slow.Send(sse.Event{ID: id, Data: data}); slowErr != nil {
				t.Logf("the slow stream's policy acted at event %d", i)
			}
			maxOut = max(maxOut, outbound(t, &slow.endpoint))
		}
		// One event in flight to the fast client: it never has a reason
		// to be treated as slow.
		if e := nextData(t, ctx, events); e != (receivedEvent{"message", id, string(data)}) {
			t.Fatalf("fast client got event %s (%d bytes), want %s", e.ID, len(e.Data), id)
		}
	}
	if maxOut > limit {
		t.Fatalf("slow stream's outbound buffer reached %d bytes, limit %d", maxOut, limit)
	}
	return slowSSEResult{err: slowErr, slow: slow, slowConn: slowConn, slowGone: gone, s: s}
}

// nextData returns the next event with data (skipping go-sse's dispatch of
// the preamble's retry block).
func nextData(t *testing.T, ctx context.Context, events <-chan receivedEvent) receivedEvent {
	t.Helper()
	for {
		select {
		case e := <-events:
			if e.Data != "" {
				return e
			}
		case <-ctx.Done():
			t.Fatal("the go-sse client got no event")
		}
	}
}

// TestSSERealClientSlowError: with SlowClientError the slow stream's Send
// fails with ErrSlowClient and the stream stays open.
func TestSSERealClientSlowError(t *testing.T) {
	t.Parallel()
	r := slowSSERun(t, SlowClientError)
	if !errors.Is(r.err, ErrSlowClient) {
		t.Fatalf("slow send error %v, want ErrSlowClient", r.err)
	}
	if r.s.Metrics().SSEBackpressure.Load() == 0 {
		t.Error("backpressure not counted")
	}
	select {
	case <-r.slow.Context().Done():
		t.Fatal("SlowClientError ended the stream")
	default:
	}
}

// TestSSERealClientSlowClose: with SlowClientClose the slow stream's Send
// fails with ErrSlowClient and the stream ends: OnClose runs, the context is
// cancelled, later sends fail with ErrClosed, and the client, reading at
// last, finds whole events numbered from 1 without a gap, then the end.
func TestSSERealClientSlowClose(t *testing.T) {
	t.Parallel()
	r := slowSSERun(t, SlowClientClose)
	if !errors.Is(r.err, ErrSlowClient) {
		t.Fatalf("slow send error %v, want ErrSlowClient", r.err)
	}
	select {
	case <-r.slowGone:
	case <-time.After(10 * time.Second):
		t.Fatal("the slow stream did not end")
	}
	select {
	case <-r.slow.Context().Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the slow stream's context was not cancelled")
	}
	if err := r.slow.Send(sse.Event{Data: []byte("late")}); !errors.Is(err, ErrClosed) {
		t.Fatalf("send after the end: %v, want ErrClosed", err)
	}
	_ = r.slowConn.SetReadDeadline(time.Now().Add(10 * time.Second))
	body, err := io.ReadAll(r.slowConn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("the slow client's connection stayed open")
	}
	head, stream, ok := strings.Cut(string(body), "\r\n\r\n")
	if !ok || !strings.HasPrefix(head, "HTTP/1.1 200 ") {
		t.Fatalf("slow client read %.200q", body)
	}
	n := 0
	err = sse.NewDecoder(sse.Options{}).Feed([]byte(stream), func(e sse.Event) {
		n++
		if e.ID != strconv.Itoa(n) || len(e.Data) != 16<<10 {
			t.Fatalf("slow client's event %d: id %q, %d bytes", n, e.ID, len(e.Data))
		}
	})
	if err != nil || n == 0 {
		t.Fatalf("slow client decoded %d events: %v", n, err)
	}
	t.Logf("the slow client read %d whole events, then the end", n)
}
