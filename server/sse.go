package server

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"
	"github.com/valyala/bytebufferpool"

	"github.com/rtd-project/rtd/hub"
	"github.com/rtd-project/rtd/proto/http1"
	"github.com/rtd-project/rtd/proto/sse"
	"github.com/rtd-project/rtd/proto/wsframe"
)

// SSEOptions configures an SSE route. The zero value protects as rtd serve
// does: a heartbeat comment every 30s, a slow client's stream ended, a 1 MiB
// send queue, same-origin browsers only.
type SSEOptions struct {
	// HeartbeatInterval writes a comment line this often so proxies and
	// clients see the stream is alive. Default 30s; negative disables.
	HeartbeatInterval time.Duration
	// Retry is the reconnection delay hinted to clients (retry:). Default 3s.
	Retry time.Duration
	// MaxSendQueueBytes bounds what is queued for one stream in user space.
	// Default 1 MiB.
	MaxSendQueueBytes int
	// SlowClientPolicy: SlowClientClose (default: the stream ends once what
	// is queued is written, and EventSource reconnects with its
	// Last-Event-ID), SlowClientError or SlowClientDrop.
	SlowClientPolicy SlowClientPolicy
	// Origins lists the other sites whose pages may read the stream (CORS):
	// origins, patterns ("https://*.example.com") or "*", as for
	// WSOptions.Origins; a listed origin gets Access-Control-Allow-Origin.
	// Empty: same-origin only. Either way a request whose Origin is neither
	// the request's own host nor listed gets 403, and a same-origin request
	// (or one without Origin) gets no CORS headers.
	Origins []string
	// AllowCredentials lets the listed origins' EventSource send cookies
	// (withCredentials); the response names the origin, never "*". It needs
	// named Origins: SSE fails with ErrBadOrigins when Origins is empty or
	// holds "*".
	AllowCredentials bool
	// KeepHeaders keeps the request headers for Stream.Request after OnOpen.
	KeepHeaders bool
	// Authorize runs before the stream starts. A non-nil error rejects the
	// request: an *HTTPError with its status, anything else with 403.
	Authorize func(r *Request) error
}

const (
	defaultSSEHeartbeat = 30 * time.Second
	defaultSSERetry     = 3 * time.Second
)

func (o SSEOptions) withDefaults() SSEOptions {
	if o.HeartbeatInterval == 0 {
		o.HeartbeatInterval = defaultSSEHeartbeat
	}
	if o.Retry <= 0 {
		o.Retry = defaultSSERetry
	}
	if o.MaxSendQueueBytes <= 0 {
		o.MaxSendQueueBytes = defaultMaxSendQueueBytes
	}
	return o
}

// SSEHandler holds an SSE route's callbacks; they run on the stream's event
// loop and must not block.
type SSEHandler struct {
	// OnOpen runs once the response head is queued. st.Request() still has
	// every header here.
	OnOpen func(st *Stream)
	// OnClose runs once, when the connection is gone.
	OnClose func(st *Stream)
}

type sseRoute struct {
	h    SSEHandler
	opts SSEOptions
	m    *RouteMetrics
}

// SSE registers a Server-Sent Events route on GET pattern.
func (s *Server) SSE(pattern string, h SSEHandler, o SSEOptions) error {
	if s.running.Load() {
		return ErrRunning
	}
	if err := checkOrigins(o.Origins, o.AllowCredentials); err != nil {
		return err
	}
	sr := &sseRoute{h: h, opts: o.withDefaults(), m: s.newRouteMetrics(pattern, kindSSE)}
	if err := s.router.add(&route{method: "GET", pattern: pattern, kind: kindSSE, sse: sr}); err != nil {
		return err
	}
	s.addRouteMetrics(sr.m)
	return nil
}

// Stream is one SSE response stream. Send, Close and the accessors are safe
// from any goroutine; sends never block.
type Stream struct {
	c     *conn
	route *sseRoute
	ext   atomic.Pointer[streamExt] // Last-Event-ID and channel positions; nil for most streams
	req   atomic.Pointer[Request]

	hc    hub.Client // hc.ID is the stream's ID
	value atomic.Pointer[any]

	closing atomic.Bool
	sendQueue

	nextBeat int64
	ctxMu    sync.Mutex   // guards ctx
	ctx      *connContext // made by the first Context call; endedContext once closed
}

// sseConn is the connection-side name of a stream.
type sseConn = Stream

var heartbeat = []byte(":\n\n")

// startSSE checks and authorizes the request, then writes the stream's head.
func (l *loop) startSSE(c *conn, rt *route, r *Request) gnet.Action {
	s := l.s
	start := time.Now()
	o := &rt.sse.opts
	origin := r.live.Header("Origin")
	match := wsframe.MatchOrigin(origin, r.live.Header("Host"), o.Origins)
	if !match.Allowed() {
		s.metrics.SSERejected.Add(1)
		rt.sse.m.Rejected.Add(1)
		l.logRefused(c, "sse", r.live.Request, 403, "origin not allowed")
		l.wbuf = appendError(l.wbuf, 403, "origin not allowed", false)
		return gnet.Close
	}
	if o.Authorize != nil {
		if err := o.Authorize(r); err != nil {
			s.metrics.SSERejected.Add(1)
			rt.sse.m.Rejected.Add(1)
			l.wbuf = l.reject(l.wbuf, c, "sse", r.live.Request, err)
			return gnet.Close
		}
	}
	st := &Stream{c: c, route: rt.sse}
	lastEventID := string(r.live.Header("Last-Event-ID"))
	if lastEventID == "" {
		lastEventID = r.Query("lastEventId")
	}
	if lastEventID != "" {
		st.ext.Store(&streamExt{lastEventID: lastEventID})
	}
	st.hc = hub.Client{ID: strconv.FormatUint(s.nextID.Add(1), 36), User: r.user, Loop: l.idx}
	c.sse = st
	if err := s.hub.Connect(c); err != nil {
		c.sse = nil
		s.metrics.SSERejected.Add(1)
		rt.sse.m.Rejected.Add(1)
		status, msg := errHubStatus(err)
		l.logRefused(c, "sse", r.live.Request, status, msg)
		l.wbuf = appendError(l.wbuf, status, msg, false)
		return gnet.Close
	}
	if o.HeartbeatInterval > 0 {
		st.nextBeat = s.now() + int64(o.HeartbeatInterval)
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
	c.sse = st
	c.state = stateSSE
	c.flags = 0
	s.metrics.SSEStreams.Add(1)
	s.metrics.SSEConnections.Add(1)
	rt.sse.m.Opened.Add(1)
	rt.sse.m.Open.Add(1)
	s.metrics.HandshakeSSE.Observe(int64(time.Since(start)))
	l.logOpen(c, "sse", &st.hc, r.live.Request)
	// The head stays in l.wbuf, which serveHTTP writes before the loop
	// flushes anything OnOpen queues or sends: a client that sees the
	// stream open sees it after OnOpen (its subscriptions) has run.
	st.req.Store(openRequest(r, rt.sse.h.OnOpen != nil, o.KeepHeaders))
	if rt.sse.h.OnOpen != nil {
		rt.sse.h.OnOpen(st)
		if !o.KeepHeaders {
			st.req.Store(st.req.Load().withoutHeaders())
		}
	}
	return gnet.None
}

// sseTimer writes heartbeats and refreshes the backlog figure.
func (l *loop) sseTimer(c *conn, now int64) {
	st := c.sse
	l.setBacklog(&st.sendQueue, c.gc.OutboundBuffered())
	if st.route.opts.HeartbeatInterval > 0 && now >= st.nextBeat {
		st.nextBeat = now + int64(st.route.opts.HeartbeatInterval)
		l.queue(c, heartbeat)
	}
}

// endSSE ends the response: the connection closes once queued bytes are out.
func (l *loop) endSSE(c *conn) {
	if c.state != stateSSE {
		return
	}
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
	l.endSSE(c)
}

func (l *loop) sseClosed(c *conn, _ error) {
	st := c.sse
	st.closing.Store(true)
	l.s.metrics.SSEConnections.Add(-1)
	st.route.m.Open.Add(-1)
	l.logClose("sse", &st.hc, 0, "")
	l.s.hub.Disconnect(c)
	if st.route.h.OnClose != nil {
		st.route.h.OnClose(st)
	}
	st.ctxMu.Lock()
	endContext(&st.ctx)
	st.ctxMu.Unlock()
}

// ID returns the stream's server-unique ID.
func (st *Stream) ID() string { return st.hc.ID }

// LastEventID returns the id the client resumes from: the Last-Event-ID
// header, or the lastEventId query parameter for clients that cannot set
// headers. "" for a fresh stream.
func (st *Stream) LastEventID() string {
	if e := st.ext.Load(); e != nil {
		return e.lastEventID
	}
	return ""
}

// Request returns the request that opened the stream.
func (st *Stream) Request() *Request { return st.req.Load() }

// SetValue attaches user data to the stream.
func (st *Stream) SetValue(v any) { st.value.Store(&v) }

// Value returns what SetValue stored, or nil.
func (st *Stream) Value() any {
	if p := st.value.Load(); p != nil {
		return *p
	}
	return nil
}

// Context returns a context cancelled when the stream ends.
func (st *Stream) Context() context.Context {
	st.ctxMu.Lock()
	defer st.ctxMu.Unlock()
	return lazyContext(&st.ctx)
}

// Send queues one event. It fails with sse.ErrInvalidID or
// sse.ErrInvalidEventName for an ID or event name with CR, LF or NUL,
// ErrClosed once the stream ended, and per SlowClientPolicy when the
// stream's queue is full.
func (st *Stream) Send(e sse.Event) error {
	if st.closing.Load() {
		return ErrClosed
	}
	bb := bytebufferpool.Get()
	var err error
	if bb.B, err = sse.AppendEvent(bb.B[:0], e); err != nil {
		bytebufferpool.Put(bb)
		return err
	}
	return st.post(bb, opSend)
}

// SendJSON queues one event whose data is v encoded as JSON, named event
// ("" for an unnamed "message" event). It fails as Send does, or with
// json.Marshal's error.
func (st *Stream) SendJSON(event string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return st.Send(sse.Event{Event: event, Data: b})
}

// Heartbeat queues a comment line, which clients ignore and proxies see as
// traffic, behind what is already queued. It goes through the same send
// queue and slow-client policy as Send, and is not counted as an event. The
// route's periodic heartbeats (SSEOptions.HeartbeatInterval) go on as well.
func (st *Stream) Heartbeat() error {
	if st.closing.Load() {
		return ErrClosed
	}
	bb := bytebufferpool.Get()
	bb.B = append(bb.B[:0], heartbeat...)
	return st.post(bb, opSendUncounted)
}

// post admits bb against the stream's send limit and hands it to the loop
// (op opSend or opSendUncounted); it owns bb from here on.
func (st *Stream) post(bb *bytebufferpool.ByteBuffer, op inboxOp) error {
	l := st.c.l
	if !st.admit(len(bb.B), st.route.opts.MaxSendQueueBytes) {
		bytebufferpool.Put(bb)
		closeIt, err := l.s.refused(st.c, st.route.opts.SlowClientPolicy)
		if closeIt {
			_ = l.post(inboxItem{op: opClose, c: st.c, code: closeTryAgainLater})
		}
		return err
	}
	st.posted.Add(int64(len(bb.B)))
	if err := l.post(inboxItem{op: op, c: st.c, buf: bb}); err != nil {
		st.posted.Add(-int64(len(bb.B)))
		bytebufferpool.Put(bb)
		return ErrClosed
	}
	return nil
}

// RemoteAddr returns the peer's address.
func (st *Stream) RemoteAddr() string { return st.Request().RemoteAddr() }

// Close ends the stream once what is queued is written. Idempotent.
func (st *Stream) Close() error {
	if st.closing.Load() {
		return nil
	}
	return st.c.l.post(inboxItem{op: opClose, c: st.c})
}
