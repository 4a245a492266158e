package server

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestWSDefaultsProtect: the zero WSOptions ping every 25s, close a socket
// silent for 60s and close a slow client after a 1s grace, as rtd serve
// does; negative durations turn the timers off, and without pings there is
// no default idle timeout (a client that only listens sends nothing).
func TestWSDefaultsProtect(t *testing.T) {
	for _, tc := range []struct {
		name            string
		in              WSOptions
		heartbeat, idle time.Duration
	}{
		{"zero", WSOptions{}, 25 * time.Second, 60 * time.Second},
		{"pings off", WSOptions{HeartbeatInterval: -1}, 0, 0},
		{"idle off", WSOptions{IdleTimeout: -1}, 25 * time.Second, 0},
		{"both off", WSOptions{HeartbeatInterval: -1, IdleTimeout: -1}, 0, 0},
		{"pings off, idle set", WSOptions{HeartbeatInterval: -1, IdleTimeout: time.Minute}, 0, time.Minute},
		{"set", WSOptions{HeartbeatInterval: time.Second, IdleTimeout: 3 * time.Second}, time.Second, 3 * time.Second},
	} {
		o := tc.in.withDefaults()
		if o.HeartbeatInterval != tc.heartbeat || o.IdleTimeout != tc.idle {
			t.Errorf("%s: heartbeat %v idle %v, want %v %v", tc.name, o.HeartbeatInterval, o.IdleTimeout, tc.heartbeat, tc.idle)
		}
	}
	o := WSOptions{}.withDefaults()
	if o.SlowClientPolicy != SlowClientClose || o.SlowClientGrace != time.Second {
		t.Errorf("slow client: %v after %v, want close after 1s", o.SlowClientPolicy, o.SlowClientGrace)
	}
	if s := (SSEOptions{}).withDefaults(); s.SlowClientPolicy != SlowClientClose || s.HeartbeatInterval != 30*time.Second {
		t.Errorf("SSE: policy %v heartbeat %v, want close and 30s", s.SlowClientPolicy, s.HeartbeatInterval)
	}
	// The send accounting is 32-bit: a larger queue is capped at 1 GiB.
	if w, s := (WSOptions{MaxSendQueueBytes: 3 << 30}).withDefaults(), (SSEOptions{MaxSendQueueBytes: 3 << 30}).withDefaults(); w.MaxSendQueueBytes != 1<<30 || s.MaxSendQueueBytes != 1<<30 {
		t.Errorf("MaxSendQueueBytes 3 GiB became %d (WS) and %d (SSE), want 1 GiB", w.MaxSendQueueBytes, s.MaxSendQueueBytes)
	}
}

// TestDefaultRouteClosesDeadPeer: a route registered with the zero
// WSOptions pings its sockets and closes (1001) one that answers none,
// while one that answers stays open. The defaults are shortened to
// milliseconds for the test; the route's options are the zero value.
func TestDefaultRouteClosesDeadPeer(t *testing.T) {
	defer func(h, i time.Duration) { defaultWSHeartbeat, defaultWSIdleTimeout = h, i }(defaultWSHeartbeat, defaultWSIdleTimeout)
	defaultWSHeartbeat, defaultWSIdleTimeout = 20*time.Millisecond, 200*time.Millisecond
	s := startServer(t, Options{}, echoWS(WSOptions{}))
	dial := func() *websocket.Conn {
		c, _, err := websocket.DefaultDialer.Dial(wsURL(s, "/echo"), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		return c
	}
	live := dial() // gorilla answers pings while it reads
	livePings := make(chan struct{}, 100)
	live.SetPingHandler(func(p string) error {
		livePings <- struct{}{}
		return live.WriteControl(websocket.PongMessage, []byte(p), time.Now().Add(time.Second))
	})
	liveErr := make(chan error, 1)
	go func() {
		_, _, err := live.ReadMessage()
		liveErr <- err
	}()
	dead := dial()
	var pings atomic.Int32
	dead.SetPingHandler(func(string) error { pings.Add(1); return nil }) // no pong
	_, _, err := dead.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != 1001 || ce.Text != "idle timeout" {
		t.Fatalf("dead peer: %v, want close 1001 idle timeout", err)
	}
	if pings.Load() == 0 {
		t.Error("the dead peer was closed without being pinged")
	}
	select {
	case err := <-liveErr:
		t.Fatalf("the live peer ended too: %v", err)
	case <-livePings:
	}
	if err := live.WriteMessage(websocket.TextMessage, []byte("still here")); err != nil {
		t.Fatal(err)
	}
	if err := <-liveErr; err != nil {
		t.Fatalf("live peer: %v", err)
	}
}

// TestPortZeroWithSharedListener: where gnet gives several loops one
// listener (macOS), port 0 is a free port picked rather than held, and the
// server serves on it.
func TestPortZeroWithSharedListener(t *testing.T) {
	defer func(g string) { goos = g }(goos)
	goos = "darwin"
	s := startServer(t, Options{Loops: 2}, echoWS(WSOptions{}))
	if !s.sharedListener() || s.portHold != -1 {
		t.Fatalf("shared %v, port held by fd %d", s.sharedListener(), s.portHold)
	}
	c, _, err := websocket.DefaultDialer.Dial(wsURL(s, "/echo"), nil)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}

// TestNoNewStreamsWhileDraining: once the server drains, a WebSocket upgrade
// and an SSE request that arrive on a connection opened before are both
// answered 503, through the one check every kind of stream passes
// (authorize); new connections are refused at accept already.
func TestNoNewStreamsWhileDraining(t *testing.T) {
	s := startServer(t, Options{}, func(s *Server) {
		echoRoutes(s)
		if err := s.WebSocket("/ws", WSHandler{}, WSOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := s.SSE("/sse", SSEHandler{}, SSEOptions{}); err != nil {
			t.Fatal(err)
		}
	})
	for _, req := range []string{
		"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
		"GET /sse HTTP/1.1\r\nHost: x\r\n\r\n",
	} {
		c := dial(t, s)
		br := bufioReader(c)
		fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n") // the connection is open before the drain
		if resp, _ := readResponse(t, br, "GET"); resp.StatusCode != 200 {
			t.Fatalf("healthz: %d", resp.StatusCode)
		}
		s.draining.Store(true)
		fmt.Fprint(c, req)
		status, err := br.ReadString('\n') // a stream's body would not end: the status line says it all
		s.draining.Store(false)
		if err != nil || !strings.HasPrefix(status, "HTTP/1.1 503 ") {
			t.Errorf("%q while draining: %q, %v; want 503", strings.SplitN(req, "\r\n", 2)[0], status, err)
		}
	}
}
