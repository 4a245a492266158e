package server

import (
	"testing"

	"github.com/rtd-project/rtd/hub"
)

// TestFanoutRetainsLittlePerConnection: a publication to every connection
// of a loop leaves the loop holding a small entry per connection it wrote
// (the dirty list's capacity), not a slice of writes each (which kept ~250
// bytes per connection alive after any fan-out, for good).
func TestFanoutRetainsLittlePerConnection(t *testing.T) {
	if testing.Short() {
		t.Skip("opens thousands of connections")
	}
	const n = 2000
	const budget = 100 // bytes per connection kept after the fan-out
	s := startServer(t, Options{Loops: 1}, func(s *Server) {
		err := s.WebSocket("/ws", WSHandler{OnOpen: func(sock *Socket) {
			if _, err := sock.Subscribe("fan", nil); err != nil {
				t.Error(err)
			}
		}}, WSOptions{})
		if err != nil {
			t.Fatal(err)
		}
	})
	req := []byte("GET /ws HTTP/1.1\r\nHost: " + s.Addr() + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	rs := newRawSockets(t, s, n)
	for range n {
		rs.readUntil(rs.open(req), "\r\n\r\n") // the 101: OnOpen has run, the socket is subscribed
	}
	before := heapAlloc()
	if _, err := s.Hub().Publish("fan", hub.Publication{Data: []byte("hello")}); err != nil {
		t.Fatal(err)
	}
	for _, fd := range rs.fds {
		rs.readUntil(fd, "hello")
	}
	per := (heapAlloc() - before) / n
	t.Logf("after a publication to %d connections the loop keeps %d bytes per connection", n, per)
	if per > budget {
		t.Errorf("a fan-out left %d bytes per connection behind, more than %d", per, budget)
	}
}
