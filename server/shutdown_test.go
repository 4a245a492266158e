package server

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestGracefulShutdown: WebSocket clients get close 1001, SSE streams a
// retry hint and the end of the response, new connections are refused, and
// Run returns once everything is closed.
func TestGracefulShutdown(t *testing.T) {
	o := Options{Addr: "127.0.0.1:0"}
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	echoWS(WSOptions{})(s)
	s.SSE("/events", SSEHandler{}, SSEOptions{Retry: time.Second})
	errc := make(chan error, 1)
	go func() { errc <- s.Run(context.Background()) }()
	<-s.Ready()

	ws, _, err := websocket.DefaultDialer.Dial(wsURL(s, "/echo"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.Get("http://" + s.Addr() + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sse := bufio.NewReader(resp.Body)
	// Read past the preamble so what follows is the shutdown's doing.
	for {
		line, err := sse.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(line, "retry:") {
			sse.ReadString('\n')
			break
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	shut := make(chan error, 1)
	go func() { shut <- s.Shutdown(ctx) }()

	_, _, err = ws.ReadMessage()
	if !websocket.IsCloseError(err, websocket.CloseGoingAway) {
		t.Fatalf("websocket: %v, want close 1001", err)
	}
	ws.Close()
	rest := new(strings.Builder)
	for {
		line, err := sse.ReadString('\n')
		rest.WriteString(line)
		if err != nil {
			break
		}
	}
	var retry int
	if _, err := fmt.Sscanf(strings.TrimSpace(rest.String()), "retry: %d", &retry); err != nil || retry < 1000 || retry > 5000 {
		t.Fatalf("SSE ended with %q, want a jittered retry hint in [1000, 5000] ms", rest.String())
	}
	if err := <-shut; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := <-errc; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !s.Draining() {
		t.Fatal("not draining after shutdown")
	}
}
