package server

import (
	"errors"

	"github.com/gobwas/ws"

	"github.com/rtd-project/rtd/hub"
)

// Hub returns the server's hub: channels, presence, history. Publishing on it
// from any goroutine reaches every subscribed WebSocket and SSE connection.
func (s *Server) Hub() *hub.Hub { return s.hub }

// newHub builds the hub with the server as its Deliverer and Encoder.
func (s *Server) newHub(o hub.Options) (*hub.Hub, error) {
	o.Loops = s.opts.Loops
	o.Deliverer = (*hubSeam)(s)
	o.Encoder = (*hubSeam)(s)
	return hub.New(o)
}

// hubSeam is the server seen from the hub: it delivers batches to event loops
// and encodes publications. A separate type keeps Deliver/Encode out of the
// Server's public method set.
type hubSeam Server

// Deliver implements hub.Deliverer: the batch joins the loop's inbox.
func (h *hubSeam) Deliver(loop int, b *hub.Batch) {
	loops := *h.loops.Load()
	if loop >= len(loops) {
		b.Release() // no connection was ever opened on that loop
		return
	}
	if loops[loop].post(inboxItem{op: opBatch, batch: b}) != nil {
		b.Release()
	}
}

// Evict implements hub.Deliverer: close a connection the hub let go.
func (h *hubSeam) Evict(sub hub.Subscriber, reason string) {
	c := sub.(*conn)
	_ = c.l.post(inboxItem{op: opClose, c: c, why: closeReason{int(ws.StatusPolicyViolation), reason}})
}

// errHubStatus maps hub errors at connect time to HTTP statuses.
func errHubStatus(err error) (int, string) {
	switch {
	case errors.Is(err, hub.ErrTooManyUserConns):
		return 429, "too many connections for this user"
	case errors.Is(err, hub.ErrTooManyConns), errors.Is(err, hub.ErrShutdown):
		return 503, "server is at limit"
	}
	return 500, "internal error"
}

// Disconnect closes the connection with hub client ID id (WebSocket with
// 1008 and reason, SSE by ending the stream). It reports whether the
// connection was found.
func (s *Server) Disconnect(id, reason string) bool {
	c, ok := s.hub.Client(id)
	if !ok {
		return false
	}
	(*hubSeam)(s).Evict(c.Subscriber(), reason)
	return true
}

// DisconnectUser closes every connection of user; it returns how many.
func (s *Server) DisconnectUser(user, reason string) int {
	n := 0
	for _, c := range s.hub.Clients() {
		if c.User == user {
			(*hubSeam)(s).Evict(c.Subscriber(), reason)
			n++
		}
	}
	return n
}
