package server

import (
	"errors"

	"github.com/gobwas/ws"

	"github.com/rtd-project/rtd/hub"
	"github.com/rtd-project/rtd/proto/wsframe"
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
	_ = c.l.post(inboxItem{op: opClose, c: c, code: int(ws.StatusPolicyViolation), reason: reason})
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

// Subscribe subscribes the socket to channel. With since (the client's last
// position) the result says whether what it missed was recovered; the missed
// publications follow whatever was sent to the socket before Subscribe, and
// the live ones follow them, with no gap and no duplicate. A replay larger
// than the send queue is written as the socket reads it (it is not held to
// MaxSendQueueBytes, nor dropped by the slow-client policy); a client that
// cannot keep up with the channel meanwhile is closed with 1013 and resumes
// from where it got to. Call it from the socket's callbacks (they run on its
// loop).
func (sock *Socket) Subscribe(channel string, since *hub.Position) (hub.SubscribeResult, error) {
	return sock.c.subscribe(channel, since)
}

// Unsubscribe removes the socket from channel. Call it from the socket's
// callbacks.
func (sock *Socket) Unsubscribe(channel string) error {
	c := sock.c
	if err := c.l.s.hub.Unsubscribe(c, channel); err != nil {
		return err
	}
	c.l.dropReplay(c, channel)
	return nil
}

// Subscribe subscribes the stream to channel; see Socket.Subscribe. Call it
// from OnOpen. A stream on several channels gives its events ids that name a
// position in each (see ParseEventID), so that a Last-Event-ID resumes them
// all: subscribe in the same order when the client comes back.
func (st *Stream) Subscribe(channel string, since *hub.Position) (hub.SubscribeResult, error) {
	return st.c.subscribe(channel, since)
}

// Unsubscribe removes the stream from channel. Call it from the stream's
// callbacks.
func (st *Stream) Unsubscribe(channel string) error {
	c := st.c
	if err := c.l.s.hub.Unsubscribe(c, channel); err != nil {
		return err
	}
	st.untrackPosition(channel)
	c.l.dropReplay(c, channel)
	return nil
}

// subscribe registers c now; what it missed is written from the inbox, in
// order with what was posted to c before (the live publications of channel
// wait for it).
func (c *conn) subscribe(channel string, since *hub.Position) (hub.SubscribeResult, error) {
	l := c.l
	res, err := l.s.hub.Subscribe(c, channel, since)
	if err != nil {
		return res, err
	}
	if c.sse != nil {
		// Where the client is in channel: what it saw, when the missed
		// publications follow; else where the channel is now. Tracked
		// before any replay is written, so that every event a stream of
		// several channels writes names a position in each.
		at := res.Position
		if since != nil && res.Recovered {
			at = *since
		}
		c.sse.trackPosition(l, channel, at)
	}
	if len(res.Missed) > 0 {
		r := l.addReplay(c, channel, res.Missed, false)
		_ = l.post(inboxItem{op: opRun, c: c, run: func(l *loop) {
			r.started = true
			l.resume(c)
		}})
	}
	return res, nil
}

// SubscribeWith is Subscribe for protocols that answer a subscribe request.
// The subscription is made on the socket's loop once everything sent to the
// socket before is queued; reply then returns the text message to send
// (appended to dst), which goes out ahead of the missed publications and of
// every live one. A reply is never dropped: if the socket's send queue has
// no room for it, the socket is closed with 1013. reply must not keep dst,
// and may run after SubscribeWith returns: it must not use the Message of
// the callback that called SubscribeWith. Call it from the socket's
// callbacks.
func (sock *Socket) SubscribeWith(channel string, since *hub.Position, reply func(dst []byte, res hub.SubscribeResult, err error) []byte) {
	c := sock.c
	_ = c.l.post(inboxItem{op: opRun, c: c, run: func(l *loop) {
		if !c.accepting() {
			return
		}
		res, err := l.s.hub.Subscribe(c, channel, since)
		l.scratch = reply(l.scratch[:0], res, err)
		if len(l.scratch) > 0 {
			start := len(l.arena)
			l.arena = wsframe.AppendFrame(l.arena, ws.OpText, l.scratch)
			l.deliver(c, l.arena[start:len(l.arena):len(l.arena)], admitReply)
		}
		if err == nil && len(res.Missed) > 0 {
			l.addReplay(c, channel, res.Missed, true)
			l.resume(c)
		}
	}})
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
