package server

import (
	"errors"
	"math"
	"time"

	"github.com/gobwas/ws"
	"github.com/panjf2000/gnet/v2"

	"github.com/rtd-project/rtd/hub"
	"github.com/rtd-project/rtd/proto/wsframe"
)

// protocolIndex returns the index of p in protocols, -1 for "" or none.
func protocolIndex(protocols []string, p string) int8 {
	if p != "" {
		for i, q := range protocols {
			if q == p {
				return int8(i)
			}
		}
	}
	return -1
}

// upgradeWS validates an upgrade request, runs Authorize and switches the
// connection to WebSocket.
func (l *loop) upgradeWS(c *conn, rt *route, r *Request) gnet.Action {
	start := time.Now()
	wr := rt.ws
	k := l.s.wsStats(wr.m)
	req := r.live.Request
	up, err := wsframe.CheckUpgrade(req.Method, req.Major, req.Minor, req, &wr.up)
	if err != nil {
		// Answered as RFC 6455 asks (426 names the version it speaks).
		k.rejected.Add(1)
		wr.m.Rejected.Add(1)
		l.logRefused(c, k.name, req, wsframe.HandshakeStatus(err), err.Error())
		l.wbuf = wsframe.AppendHandshakeRejection(l.wbuf, err)
		return gnet.Close
	}
	if !l.authorize(c, k, r, wr.opts.Authorize) {
		return gnet.Close
	}
	sock := &Socket{route: wr}
	sock.protocol, sock.deflate = protocolIndex(wr.opts.Protocols, up.Protocol), up.Deflate
	c.ws = sock
	if !l.connect(c, &sock.endpoint, k, r) {
		c.ws = nil
		return gnet.Close
	}
	l.wbuf = wsframe.AppendUpgradeResponse(l.wbuf, req.Header("Sec-WebSocket-Key"), &up)
	c.state = stateWS
	sock.lastRead = l.s.now()
	c.deadline = l.nextPing(&wr.opts)
	// The 101 stays in l.wbuf, which serveHTTP writes before the loop
	// flushes anything OnOpen queues or sends.
	var onOpen func()
	if wr.h.OnOpen != nil {
		onOpen = func() { wr.h.OnOpen(sock) }
	}
	l.opened(c, &sock.endpoint, k, r, start, wr.opts.KeepHeaders, !wr.opts.OpenWithoutHeaders, onOpen)
	return gnet.None
}

// nextPing returns when a socket of route options o is next pinged: never
// when pings are off.
func (l *loop) nextPing(o *WSOptions) int64 {
	if o.HeartbeatInterval <= 0 {
		return math.MaxInt64
	}
	return l.s.now() + int64(o.HeartbeatInterval)
}

// serveWS parses every whole frame in the input buffer, with a Reader from
// the loop's pool that goes back once the socket is between messages.
func (l *loop) serveWS(c *conn) gnet.Action {
	sock := c.ws
	if sock.reader == nil {
		sock.reader = l.takeReader(sock)
	}
	act := l.serveFrames(c)
	if sock.reader != nil && sock.reader.Idle() {
		l.putReader(sock)
	}
	return act
}

// takeReader returns a Reader for sock from the loop's pool.
func (l *loop) takeReader(sock *Socket) *wsframe.Reader {
	var r *wsframe.Reader
	if n := len(l.readers); n > 0 {
		r, l.readers = l.readers[n-1], l.readers[:n-1]
	} else {
		r = new(wsframe.Reader)
	}
	r.Init(wsframe.ReaderOptions{MaxMessageBytes: sock.route.opts.MaxMessageBytes, Deflate: sock.deflate})
	return r
}

// putReader gives sock's Reader back to the loop's pool.
func (l *loop) putReader(sock *Socket) {
	sock.reader.Release()
	l.readers = append(l.readers, sock.reader)
	sock.reader = nil
}

// serveFrames is serveWS's work.
func (l *loop) serveFrames(c *conn) gnet.Action {
	s := l.s
	sock := c.ws
	sock.lastRead = s.now()
	for c.state == stateWS {
		buf, _ := c.gc.Peek(-1)
		if len(buf) == 0 {
			return gnet.None
		}
		n, ev, err := sock.reader.Next(buf)
		if err != nil {
			var ce *wsframe.CloseError
			code := ws.StatusProtocolError
			reason := err.Error()
			if errors.As(err, &ce) {
				code, reason = ce.Code, ce.Reason
			}
			_, _ = c.gc.Discard(c.gc.InboundBuffered())
			l.failWS(c, closeReason{int(code), reason})
			return gnet.None
		}
		if n == 0 {
			return gnet.None
		}
		l.onFrame(c, ev)
		_, _ = c.gc.Discard(n)
	}
	_, _ = c.gc.Discard(c.gc.InboundBuffered())
	return gnet.None
}

// onFrame handles one parsed event; ev's payload dies when it returns.
func (l *loop) onFrame(c *conn, ev wsframe.Event) {
	s := l.s
	sock := c.ws
	switch ev.Kind {
	case wsframe.Text, wsframe.Binary:
		mt := Text
		if ev.Kind == wsframe.Binary {
			mt = Binary
		}
		s.metrics.WSMessagesIn.Add(1)
		s.metrics.WSBytesIn.Add(int64(len(ev.Payload)))
		sock.route.m.MessagesIn[mt-1].Add(1)
		sock.route.m.BytesIn.Add(int64(len(ev.Payload)))
		if sock.closing.Load() || sock.route.h.OnMessage == nil {
			return
		}
		sock.route.h.OnMessage(sock, Message{Type: mt, Data: ev.Payload})
	case wsframe.Ping:
		if !sock.closing.Load() {
			l.postControl(c, ws.OpPong, ev.Payload)
		}
	case wsframe.Pong:
	case wsframe.Close:
		code, reason := int(ev.Code), string(ev.Reason)
		c.state = stateClosing
		c.deadline = s.now() + int64(sock.route.opts.CloseTimeout)
		if sock.closing.Swap(true) {
			// Our close was answered: the handshake is complete once
			// what is queued (our close frame last) is written.
			_ = l.post(inboxItem{op: opFail, c: c})
			return
		}
		sock.setCloseReason(closeReason{code, reason})
		reply := code
		if code == int(ws.StatusNoStatusRcvd) {
			reply = int(ws.StatusNormalClosure)
		}
		// Posted, so that what the handler sent before (an echo of the
		// message right before the close) goes out first.
		_ = l.post(inboxItem{op: opFail, c: c, why: closeReason{code: reply}})
	}
}

// failWS sends a close frame for a protocol error, behind what is already
// posted, and drops the connection once it is written.
func (l *loop) failWS(c *conn, why closeReason) {
	sock := c.ws
	c.state = stateClosing
	c.deadline = l.s.now() + int64(sock.route.opts.CloseTimeout)
	if sock.closing.Swap(true) {
		why.code = 0 // our close frame is queued already
	} else {
		sock.setCloseReason(why)
	}
	_ = l.post(inboxItem{op: opFail, c: c, why: why})
}

// startCloseWS begins a server-initiated closing handshake: the close frame
// is queued behind what is already queued, then rtd waits for the peer's
// close frame (or the deadline) before dropping TCP.
func (l *loop) startCloseWS(c *conn, why closeReason, wait time.Duration) {
	sock := c.ws
	if c.state != stateWS || sock.closing.Swap(true) {
		return
	}
	sock.setCloseReason(why)
	l.queueClose(c, why)
	c.deadline = l.s.now() + int64(wait)
}

// wsTimer: heartbeats, idle timeout, closing deadline; refreshes the backlog
// figure that senders on other goroutines check.
func (l *loop) wsTimer(c *conn, now int64) {
	sock := c.ws
	o := &sock.route.opts
	l.setBacklog(&sock.sendQueue, c.gc.OutboundBuffered())
	if sock.closing.Load() {
		if now >= c.deadline {
			_ = c.gc.Close()
		}
		return
	}
	if o.IdleTimeout > 0 && now-sock.lastRead >= int64(o.IdleTimeout) {
		l.startCloseWS(c, closeReason{int(ws.StatusGoingAway), "idle timeout"}, o.CloseTimeout)
		return
	}
	if now >= c.deadline {
		c.deadline = l.nextPing(o)
		l.queue(c, ws.CompiledPing)
	}
}

func (l *loop) wsGoAway(c *conn) {
	l.startCloseWS(c, closeReason{int(ws.StatusGoingAway), "server shutting down"}, c.ws.route.opts.CloseTimeout)
}

// wsClosed runs from OnClose.
func (l *loop) wsClosed(c *conn) {
	sock := c.ws
	sock.setCloseReason(closeReason{code: int(ws.StatusAbnormalClosure)}) // TCP dropped without a close frame
	code := int(sock.closeCode)
	l.s.metrics.WSCloseByCode[closeSlot(code)].Add(1)
	sock.route.m.closes[closeSlot(code)].Add(1)
	if sock.reader != nil {
		l.putReader(sock)
	}
	l.closedEndpoint(c, &sock.endpoint, l.s.wsStats(sock.route.m), func(why closeReason) {
		if sock.route.h.OnClose != nil {
			sock.route.h.OnClose(sock, why.code, why.text)
		}
	})
}

// frameOf picks the frame of a prepared publication this socket takes.
func (sock *Socket) frameOf(m *hub.Prepared) []byte {
	if sock.deflate {
		return deflateFrame(m)
	}
	return m.WS
}
