package server_test

import (
	"testing"
	"time"

	"github.com/rtd-project/rtd/proto/sse"
	"github.com/rtd-project/rtd/server"
	"github.com/rtd-project/rtd/server/servertest"
)

// Each route counts its own connections, messages by kind and close codes.
// The counts are read once the connections' OnClose ran: on the loop, after
// everything written to them was counted.
func TestRouteMetrics(t *testing.T) {
	closed := make(chan struct{}, 2)
	h := servertest.Start(t, server.Options{}, func(s *server.Server) error {
		echo := server.WSHandler{
			OnMessage: func(sock *server.Socket, m server.Message) { _ = sock.Send(m) },
			OnClose:   func(*server.Socket, int, string) { closed <- struct{}{} },
		}
		if err := s.WebSocket("/a", echo, server.WSOptions{}); err != nil {
			return err
		}
		if err := s.WebSocket("/b", echo, server.WSOptions{}); err != nil {
			return err
		}
		return s.SSE("/e", server.SSEHandler{
			OnOpen: func(st *server.Stream) {
				_ = st.Send(sse.Event{Data: []byte("x")})
				_ = st.Close()
			},
			OnClose: func(*server.Stream) { closed <- struct{}{} },
		}, server.SSEOptions{})
	})
	a := h.WebSocket("/a").Connect()
	a.SendText("t").ExpectText("t").SendBinary([]byte{1}).ExpectBinary([]byte{1})
	a.Close()
	h.WebSocket("/a").Origin("https://elsewhere.example").ExpectRejected(403)
	h.SSE("/e").Connect().ExpectData("x").ExpectEnd()
	for range 2 {
		select {
		case <-closed:
		case <-time.After(5 * time.Second):
			t.Fatal("the connections' OnClose did not run")
		}
	}

	rm := map[string]*server.RouteMetrics{}
	for _, m := range h.Server.RouteMetrics() {
		rm[m.Pattern] = m
	}
	ma, mb, me := rm["/a"], rm["/b"], rm["/e"]
	if ma == nil || mb == nil || me == nil || ma.Kind != "websocket" || me.Kind != "sse" {
		t.Fatalf("routes %v", h.Server.RouteMetrics())
	}
	for _, c := range []struct {
		name      string
		got, want int64
	}{
		{"/a opened", ma.Opened.Load(), 1},
		{"/a rejected", ma.Rejected.Load(), 1},
		{"/a open", ma.Open.Load(), 0},
		{"/a text in", ma.MessagesIn[0].Load(), 1},
		{"/a binary in", ma.MessagesIn[1].Load(), 1},
		{"/a out", ma.MessagesOut.Load(), 2},
		{"/a closed 1000", ma.CloseCount(1000), 1},
		{"/b opened", mb.Opened.Load(), 0},
		{"/b out", mb.MessagesOut.Load(), 0},
		{"/e opened", me.Opened.Load(), 1},
		{"/e out", me.MessagesOut.Load(), 1},
	} {
		if c.got != c.want {
			t.Errorf("%s: %d, want %d", c.name, c.got, c.want)
		}
	}
}
