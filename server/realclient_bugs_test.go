package server

import (
	"bufio"
	"net/http"
	"testing"
	"time"
)

// TestSSERealClientRequestFromGoroutine: Stream's doc says its accessors are
// safe from any goroutine, so a feed goroutine started in OnOpen may call
// st.Request(). startSSE assigns st.req = r.detach(...) after OnOpen
// returns, unsynchronised with that goroutine's read (a data race), and
// until then st.req points at the loop's live, reused request.
func TestSSERealClientRequestFromGoroutine(t *testing.T) {
	got := make(chan string, 64)
	s := startServer(t, Options{Loops: 1}, func(s *Server) {
		err := s.SSE("/r/:room", SSEHandler{OnOpen: func(st *Stream) {
			go func() {
				r := st.Request()
				got <- r.Param("room") + "?" + r.Query("q")
				_ = st.Close()
			}()
		}}, SSEOptions{})
		if err != nil {
			t.Fatal(err)
		}
	})
	for i := range 20 {
		resp := getStream(t, httpURL(s, "/r/lobby?q=1"))
		readPreamble(t, bufio.NewReader(resp.Body), defaultSSERetry)
		select {
		case v := <-got:
			if v != "lobby?1" {
				t.Fatalf("stream %d: the goroutine read %q from st.Request(), want lobby?1", i, v)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no value")
		}
	}
}

// TestRealClientSocketContextFromGoroutine: Socket.Context reads the
// loop-only c.state; called first from a goroutine (its natural use: a feed
// that stops when the socket closes) it races with the loop's write of
// c.state when the connection closes.
func TestRealClientSocketContextFromGoroutine(t *testing.T) {
	done := make(chan struct{})
	s := startServer(t, Options{}, func(s *Server) {
		err := s.WebSocket("/w", WSHandler{OnOpen: func(sock *Socket) {
			go func() {
				<-sock.Context().Done()
				close(done)
			}()
		}}, WSOptions{})
		if err != nil {
			t.Fatal(err)
		}
	})
	c, _ := rawWS(t, s, "/w")
	c.Close()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the socket's context was not cancelled")
	}
}

// TestSSERealClientHeadAfterOnOpen: startSSE writes the response head and
// preamble to the socket before OnOpen runs, so a client can see its stream
// open while OnOpen (say, a hub subscription) has not happened yet.
// TestHubFanOutToWebSocketAndSSE assumes the opposite and loses events.
// OnOpen here waits (at most 1s) to hear whether the client already read
// the preamble.
func TestSSERealClientHeadAfterOnOpen(t *testing.T) {
	sawHead := make(chan struct{}, 1)
	early := make(chan bool, 1)
	s := startServer(t, Options{}, func(s *Server) {
		err := s.SSE("/s", SSEHandler{OnOpen: func(*Stream) {
			select {
			case <-sawHead:
				early <- true
			case <-time.After(time.Second):
				early <- false
			}
		}}, SSEOptions{})
		if err != nil {
			t.Fatal(err)
		}
	})
	go func() {
		resp, err := http.Get(httpURL(s, "/s"))
		if err != nil {
			return
		}
		defer resp.Body.Close()
		br := bufio.NewReader(resp.Body)
		if _, err := br.ReadString('\n'); err == nil {
			sawHead <- struct{}{}
		}
		_, _ = br.ReadString('\n') // hold the stream until the server stops
	}()
	if <-early {
		t.Fatal("the client read the stream's preamble before OnOpen returned")
	}
}
