package server

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/valyala/bytebufferpool"

	"github.com/rtd-project/rtd/hub"
	"github.com/rtd-project/rtd/proto/sse"
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
	// MaxSendQueueBytes bounds what is queued for one stream in user space
	// (rtd's queue plus gnet's outbound buffer), and so an event: a larger
	// one could never be queued (ErrTooLarge). Default 1 MiB, at most 1 GiB.
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
	// OpenWithoutHeaders: OnOpen reads no request header, so none is copied
	// for it (see WSOptions.OpenWithoutHeaders).
	OpenWithoutHeaders bool
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
	orDefault(&o.Retry, defaultSSERetry)
	orDefault(&o.MaxSendQueueBytes, defaultMaxSendQueueBytes)
	o.MaxSendQueueBytes = min(o.MaxSendQueueBytes, maxSendQueueBytes)
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
	sr := &sseRoute{h: h, opts: o.withDefaults(), m: s.newRouteMetrics(pattern, kindSSE)}
	return s.handleConns(&route{method: "GET", pattern: pattern, kind: kindSSE, sse: sr}, sr.m, o.Origins, o.AllowCredentials)
}

// Stream is one SSE response stream. Send, Close and the accessors are safe
// from any goroutine; sends never block.
type Stream struct {
	endpoint
	route *sseRoute
	// The next heartbeat is the connection's deadline.
}

var heartbeat = []byte(":\n\n")

// LastEventID returns the id the client resumes from: the Last-Event-ID
// header, or the lastEventId query parameter for clients that cannot set
// headers. "" for a fresh stream.
func (st *Stream) LastEventID() string {
	if e := st.ext.Load(); e != nil {
		return e.lastEventID
	}
	return ""
}

// Send queues one event. It fails with sse.ErrInvalidID or
// sse.ErrInvalidEventName for an ID or event name with CR, LF or NUL,
// ErrClosed once the stream ended, ErrTooLarge for an event larger than
// MaxSendQueueBytes, and per SlowClientPolicy when the stream's queue is
// full.
func (st *Stream) Send(e sse.Event) error {
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
	bb := bytebufferpool.Get()
	bb.B = append(bb.B[:0], heartbeat...)
	return st.post(bb, opSendUncounted)
}

// Close ends the stream once what is queued is written. Idempotent.
func (st *Stream) Close() error { return st.close(0, "") }

// ParseEventID reads a Last-Event-ID that a Stream's events carried: one
// position per channel of the stream, in the order the stream subscribed to
// them (one for a stream of one channel).
func ParseEventID(id string) ([]hub.Position, error) {
	if id == "" {
		return nil, ErrInvalidEventID
	}
	out := make([]hub.Position, 0, strings.Count(id, ",")+1)
	for part := range strings.SplitSeq(id, ",") {
		p, err := hub.ParsePosition(part)
		if err != nil {
			return nil, ErrInvalidEventID
		}
		out = append(out, p)
	}
	return out, nil
}

// Notice queues e, an event about the stream's channels (a channel that
// could not be resumed, say), in order with what the stream is sent, under
// an id naming the stream's position in each of its channels when it is
// written: what the client has received by then, so that a Last-Event-ID
// taken from the notice resumes exactly, neither repeating nor skipping.
// e.ID is ignored; e must not change after the call. Like a reply, a notice
// is never dropped: a stream with no room for it is ended. Call it from the
// stream's callbacks, after its Subscribe calls.
func (st *Stream) Notice(e sse.Event) error {
	if st.closing.Load() {
		return ErrClosed
	}
	e.ID = ""
	if _, err := sse.AppendEvent(nil, e); err != nil {
		return err
	}
	c := st.conn()
	l := c.l
	st.pinPositions(l)
	return l.post(inboxItem{op: opRun, c: c, run: func(l *loop) {
		if c.state != stateSSE {
			return
		}
		start := len(l.arena)
		if x := st.ext.Load(); x != nil && len(x.positions) > 0 {
			l.arena = appendPositions(l.arena, x.positions)
		}
		l.arena, _ = sse.AppendEvent(l.arena, e)
		l.deliver(c, l.arena[start:len(l.arena):len(l.arena)], admitReply)
	}})
}
