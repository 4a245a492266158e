package server

import (
	"errors"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/rtd-project/rtd/hub"
	"github.com/rtd-project/rtd/metrics/latency"
)

// connState is what a connection currently speaks.
type connState uint8

const (
	stateHTTP    connState = iota // reading requests
	stateWS                       // upgraded to WebSocket
	stateSSE                      // streaming an event-stream response
	stateAwait                    // a deferred response is being made off the loop
	stateClosing                  // a close is under way; input is ignored
	stateClosed                   // OnClose ran
)

// connection flags
const (
	flagHeadPending        uint16 = 1 << iota // bytes of an unfinished request are buffered
	flagSent100                               // "100 Continue" sent for the current request
	flagCloseAfterFlush                       // close once the pending writes are out
	flagCloseAfterResponse                    // close once the deferred response is written
	flagCloseQueued                           // the close frame or the response's end is queued: nothing may follow
	flagWriteShut                             // all written and the write side shut; waiting for the peer to close
	flagWatched                               // in the loop's waiting list (outbound.go)
	flagReplaying                             // has replays in progress (loop.replays)
	flagSlowClose                             // closed as a slow client: its drain has a fixed grace
)

// conn is one accepted connection. It is touched only on its loop, except
// for the atomics inside ws/sse state that senders on other goroutines read.
type conn struct {
	gc    gnet.Conn
	l     *loop
	slot  int32 // index in l.conns
	state connState
	flags uint16
	// deadline is the connection's next timer event, by state (coarse
	// clock): the header or idle deadline of HTTP, the next ping of an open
	// WebSocket, the next heartbeat of a stream, the close deadline of a
	// closing connection.
	deadline int64

	ws  *Socket // one of ws and sse once upgraded or streaming
	sse *Stream

	// dirty is 1 + the index of the connection's entry in l.dirty (its
	// writes for the current flush), 0 when it has none: what is queued
	// lives with the loop, not with each idle connection.
	dirty int32
}

// HubClient implements hub.Subscriber for WebSocket and SSE connections.
func (c *conn) HubClient() *hub.Client { return &c.endpoint().hc }

// endpoint returns the connection's Socket or Stream part that does not
// depend on the protocol; nil for plain HTTP.
func (c *conn) endpoint() *endpoint {
	switch {
	case c.ws != nil:
		return &c.ws.endpoint
	case c.sse != nil:
		return &c.sse.endpoint
	}
	return nil
}

// traffic is OnTraffic: dispatch on the connection's state.
func (l *loop) traffic(c *conn) gnet.Action {
	var act gnet.Action
	switch c.state {
	case stateHTTP:
		act = l.serveHTTP(c)
	case stateWS:
		act = l.serveWS(c)
	case stateAwait:
		// Pipelined requests wait in the input buffer for the deferred
		// response, up to one request's worth.
		if c.gc.InboundBuffered() > l.s.maxAwaitInput() {
			act = gnet.Close
		}
	default:
		// SSE clients and closing connections have nothing to say: drop
		// what they send so it is never buffered.
		_, _ = c.gc.Discard(c.gc.InboundBuffered())
	}
	l.drain()
	return act
}

// Opening and closing a WebSocket or a stream: what both kinds check, count,
// log and announce, written once (wsconn.go and sseconn.go do the rest).

// kindStats is what opening and closing a connection of one kind counts in
// the server's and the route's metrics, and the kind's name in logs.
type kindStats struct {
	name      string        // "ws" or "sse"
	opened    *atomic.Int64 // opened in total
	rejected  *atomic.Int64 // refused before they opened
	open      *atomic.Int64 // open now
	handshake *latency.Histogram
	route     *RouteMetrics
}

func (s *Server) wsStats(rm *RouteMetrics) kindStats {
	m := &s.metrics
	return kindStats{"ws", &m.WSUpgrades, &m.WSUpgradesReject, &m.WSConnections, &m.HandshakeWS, rm}
}

func (s *Server) sseStats(rm *RouteMetrics) kindStats {
	m := &s.metrics
	return kindStats{"sse", &m.SSEStreams, &m.SSERejected, &m.SSEConnections, &m.HandshakeSSE, rm}
}

// refuse answers a request for a connection of kind k that may not open
// with status and msg (the connection closes once it is written), counted
// and logged.
func (l *loop) refuse(c *conn, k kindStats, r *Request, status int, msg string) {
	k.rejected.Add(1)
	k.route.Rejected.Add(1)
	l.logRefused(c, k.name, r.live.Request, status, msg)
	l.wbuf = appendError(l.wbuf, status, msg, false)
}

// authorize runs the route's Authorize hook (an error is answered as
// refusal says) and refuses every new connection while the server drains;
// it reports whether the connection may open.
func (l *loop) authorize(c *conn, k kindStats, r *Request, hook func(*Request) error) bool {
	if hook != nil {
		if err := hook(r); err != nil {
			status, msg := refusal(err)
			l.refuse(c, k, r, status, msg)
			return false
		}
	}
	if l.s.draining.Load() {
		l.refuse(c, k, r, 503, "shutting down")
		return false
	}
	return true
}

// refusal is the status and message an Authorize hook's or a guard's error
// is answered with: an HTTPError's own, else 403.
func refusal(err error) (int, string) {
	var he *HTTPError
	if errors.As(err, &he) {
		return he.Status, he.Message
	}
	return 403, "forbidden"
}

// connect gives ep (c's Socket or Stream, which c points at already) its
// hub client and registers it with the hub. A refusal (the user or the
// server at its connection limit) is answered and counted, and connect
// reports false.
func (l *loop) connect(c *conn, ep *endpoint, k kindStats, r *Request) bool {
	ep.hc = hub.Client{ID: strconv.FormatUint(l.s.nextID.Add(1), 36), User: r.user, Loop: int32(l.idx)}
	if err := l.s.hub.Connect(c); err != nil {
		status, msg := errHubStatus(err)
		l.refuse(c, k, r, status, msg)
		return false
	}
	return true
}

// opened counts and logs ep, now open on c (its 101 or response head is in
// l.wbuf), then runs the route's OnOpen, which still sees every request
// header with openHeaders; the request keeps them afterwards only with
// keepHeaders.
func (l *loop) opened(c *conn, ep *endpoint, k kindStats, r *Request, start time.Time, keepHeaders, openHeaders bool, onOpen func()) {
	c.flags = 0
	k.opened.Add(1)
	k.open.Add(1)
	k.route.Opened.Add(1)
	k.route.Open.Add(1)
	k.handshake.Observe(int64(time.Since(start)))
	l.logOpen(c, k.name, &ep.hc, r.live.Request)
	withHeaders := keepHeaders || onOpen != nil && openHeaders
	ep.req.Store(r.detach(withHeaders))
	if onOpen != nil {
		onOpen()
		if withHeaders && !keepHeaders {
			ep.req.Store(ep.req.Load().withoutHeaders())
		}
	}
}

// closedEndpoint ends ep, whose connection is gone (OnClose): it is
// counted, logged with why it closed, left by the hub, its context
// cancelled (so the route's OnClose sees it done), and announced to OnClose.
func (l *loop) closedEndpoint(c *conn, ep *endpoint, k kindStats, onClose func(closeReason)) {
	ep.closing.Store(true)
	k.open.Add(-1)
	k.route.Open.Add(-1)
	why := ep.reason()
	l.logClose(k.name, &ep.hc, why)
	l.s.hub.Disconnect(c)
	ep.endContext()
	onClose(why)
}
