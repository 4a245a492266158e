package server

import (
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/rtd-project/rtd/proto/http1"
	"github.com/rtd-project/rtd/proto/sse"
	"github.com/rtd-project/rtd/proto/wsframe"
)

// startSSE checks and authorizes the request, then writes the stream's head.
func (l *loop) startSSE(c *conn, rt *route, r *Request) gnet.Action {
	start := time.Now()
	sr := rt.sse
	o := &sr.opts
	k := l.s.sseStats(sr.m)
	origin := r.live.Header("Origin")
	match := wsframe.MatchOrigin(origin, r.live.Header("Host"), o.Origins)
	if !match.Allowed() {
		l.refuse(c, k, r, 403, "origin not allowed")
		return gnet.Close
	}
	if !l.authorize(c, k, r, o.Authorize) {
		return gnet.Close
	}
	st := &Stream{route: sr}
	lastEventID := string(r.live.Header("Last-Event-ID"))
	if lastEventID == "" {
		lastEventID = r.Query("lastEventId")
	}
	if lastEventID != "" {
		st.extension().lastEventID = lastEventID
	}
	c.sse = st
	if !l.connect(c, &st.endpoint, k, r) {
		c.sse = nil
		return gnet.Close
	}
	b := http1.AppendStatusLine(l.wbuf, 200)
	b = http1.AppendDate(b)
	b = append(b, "Content-Type: text/event-stream\r\nCache-Control: no-cache\r\nX-Accel-Buffering: no\r\n"...)
	if match == wsframe.OriginListed {
		if o.AllowCredentials || !slices.Contains(o.Origins, "*") {
			b = http1.AppendHeader(b, "Access-Control-Allow-Origin", string(origin))
			b = append(b, "Vary: Origin\r\n"...)
		} else {
			b = append(b, "Access-Control-Allow-Origin: *\r\n"...)
		}
		if o.AllowCredentials {
			b = append(b, "Access-Control-Allow-Credentials: true\r\n"...)
		}
	}
	b = append(b, "\r\n"...)
	l.wbuf = sse.AppendPreamble(b, o.Retry)
	c.state = stateSSE
	c.deadline = l.nextBeat(o)
	// The head stays in l.wbuf, which serveHTTP writes before the loop
	// flushes anything OnOpen queues or sends: a client that sees the
	// stream open sees it after OnOpen (its subscriptions) has run.
	var onOpen func()
	if sr.h.OnOpen != nil {
		onOpen = func() { sr.h.OnOpen(st) }
	}
	l.opened(c, &st.endpoint, k, r, start, o.KeepHeaders, !o.OpenWithoutHeaders, onOpen)
	return gnet.None
}

// nextBeat returns when a stream of route options o next gets a heartbeat:
// never when they are off.
func (l *loop) nextBeat(o *SSEOptions) int64 {
	if o.HeartbeatInterval <= 0 {
		return math.MaxInt64
	}
	return l.s.now() + int64(o.HeartbeatInterval)
}

// sseTimer writes heartbeats and refreshes the backlog figure.
func (l *loop) sseTimer(c *conn, now int64) {
	st := c.sse
	l.setBacklog(&st.sendQueue, c.gc.OutboundBuffered())
	if now >= c.deadline {
		c.deadline = l.nextBeat(&st.route.opts)
		l.queue(c, heartbeat)
	}
}

// endSSE ends the response, for the reason why (logged): the connection
// closes once queued bytes are out.
func (l *loop) endSSE(c *conn, why string) {
	if c.state != stateSSE {
		return
	}
	c.sse.setCloseReason(closeReason{text: why})
	c.sse.closing.Store(true)
	l.closeAfterWrites(c)
}

// sseGoAway ends a stream at shutdown with a jittered retry hint, so that
// clients do not all reconnect to the next node at the same instant.
func (l *loop) sseGoAway(c *conn) {
	retry := c.sse.route.opts.Retry
	jittered := retry + time.Duration(rand.Int64N(int64(4*retry)+1))
	start := len(l.arena)
	l.arena = sse.AppendRetry(l.arena, jittered)
	l.queue(c, l.arena[start:len(l.arena):len(l.arena)])
	l.endSSE(c, "server shutting down")
}

// sseClosed runs from OnClose.
func (l *loop) sseClosed(c *conn) {
	st := c.sse
	l.closedEndpoint(c, &st.endpoint, l.s.sseStats(st.route.m), func(closeReason) {
		if st.route.h.OnClose != nil {
			st.route.h.OnClose(st)
		}
	})
}
