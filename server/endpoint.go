package server

import (
	"context"
	"sync/atomic"

	"github.com/valyala/bytebufferpool"

	"github.com/rtd-project/rtd/hub"
)

// What a Socket and a Stream have in common is written once, here: the
// endpoint both embed. Its exported methods are safe from any goroutine
// unless their comment says otherwise; what only the loop touches is marked.

// endpoint is the part of a WebSocket or SSE connection that does not depend
// on the protocol: its hub client (ID, user, subscriptions), the request that
// opened it, the application's value, its send accounting and the admission
// of what other goroutines send, whether it is closing, and why it closed;
// what few connections need (a context, a close's text, a stream's resume
// state) is in an extension made when first needed. Every idle connection
// pays for these fields: size_test.go holds their budget.
type endpoint struct {
	req   atomic.Pointer[Request]
	hc    hub.Client // hc.ID is the connection's ID
	value atomic.Pointer[any]

	// Read by senders on any goroutine.
	sendQueue

	ext atomic.Pointer[endpointExt] // nil for most connections; see extension

	closing   atomic.Bool // a close is under way or the connection is gone (any goroutine)
	closeCode uint16      // loop only: see closeReason

	// A Socket's negotiation, set before it opens, then read-only. Here
	// rather than in Socket because they fit in the endpoint's padding,
	// which keeps a Socket in the 144-byte size class.
	protocol int8 // index of the subprotocol in the route's Protocols; -1 for none
	deflate  bool // permessage-deflate negotiated
}

// endpointExt is what few connections need, made when first needed
// (extension) and never replaced: the context (any goroutine), the text of
// why the connection closed (loop), and for a stream the Last-Event-ID it
// opened with (set before the stream is visible, then read-only) and its
// positions on several channels (loop, ssepos.go).
type endpointExt struct {
	ctx         atomic.Pointer[connContext] // made by the first Context call; endedContext once closed
	closeText   string
	lastEventID string
	positions   []streamPosition
}

// extension returns e's extension, making it if it has none (any
// goroutine: Context may race the loop).
func (e *endpoint) extension() *endpointExt {
	for {
		if x := e.ext.Load(); x != nil {
			return x
		}
		e.ext.CompareAndSwap(nil, new(endpointExt))
	}
}

// endedExt stands for the extension of every connection that closed
// without one: its context is done.
var endedExt = func() *endpointExt {
	x := new(endpointExt)
	x.ctx.Store(endedContext)
	return x
}()

// closeReason is why a connection closed, as logs, metrics and OnClose see
// it: the WebSocket close code (1006 when TCP just dropped; 0 for an SSE
// stream, which has none) and its text.
type closeReason struct {
	code int
	text string
}

// setCloseReason records why the connection closes, once: the first reason
// stands (loop only).
func (e *endpoint) setCloseReason(r closeReason) {
	if e.closeCode != 0 || e.closeText() != "" {
		return
	}
	e.closeCode = uint16(r.code)
	if r.text == "" {
		return
	}
	if x := e.extension(); x != endedExt { // shared by closed connections: never written
		x.closeText = r.text
	}
}

func (e *endpoint) closeText() string {
	if x := e.ext.Load(); x != nil {
		return x.closeText
	}
	return ""
}

// reason returns why the connection closed (loop only).
func (e *endpoint) reason() closeReason { return closeReason{int(e.closeCode), e.closeText()} }

// sendQueue is the part of a connection's send accounting that senders on
// any goroutine read: bytes posted to the loop and not yet flushed, and
// gnet's outbound buffer as of the last flush or tick. Both stay under
// maxSendQueueBytes (1 GiB), which fits an int32 with room to spare.
type sendQueue struct {
	posted  atomic.Int32
	backlog atomic.Int32
}

// maxSendQueueBytes caps MaxSendQueueBytes.
const maxSendQueueBytes = 1 << 30

// admit reports whether n more bytes fit under limit.
func (q *sendQueue) admit(n, limit int) bool {
	return int64(q.posted.Load())+int64(q.backlog.Load())+int64(n) <= int64(limit)
}

// conn returns the connection e belongs to: its hub client's subscriber,
// set by hub.Connect before e is visible to anyone (connect), and kept
// there rather than in a field of its own (8 bytes that would take Socket
// and Stream up a size class).
func (e *endpoint) conn() *conn { return e.hc.Subscriber().(*conn) }

// ID returns the connection's server-unique ID (its hub client's).
func (e *endpoint) ID() string { return e.hc.ID }

// Request returns the request that opened the connection (see Request for
// what is kept after OnOpen).
func (e *endpoint) Request() *Request { return e.req.Load() }

// RemoteAddr returns the peer's address.
func (e *endpoint) RemoteAddr() string { return e.Request().RemoteAddr() }

// SetValue attaches application data to the connection; Value returns it.
func (e *endpoint) SetValue(v any) { e.value.Store(&v) }

// Value returns what SetValue stored, or nil.
func (e *endpoint) Value() any {
	if p := e.value.Load(); p != nil {
		return *p
	}
	return nil
}

// Closed reports whether the connection is closing or gone: a close frame
// was sent or received, the stream was ended, or TCP dropped. From then on
// every send fails with ErrClosed.
func (e *endpoint) Closed() bool { return e.closing.Load() }

// Context returns a context cancelled when the connection closes, before
// the route's OnClose runs.
func (e *endpoint) Context() context.Context {
	x := e.extension()
	for {
		if cc := x.ctx.Load(); cc != nil {
			return cc.ctx
		}
		ctx, cancel := context.WithCancel(context.Background())
		if x.ctx.CompareAndSwap(nil, &connContext{ctx, cancel}) {
			return ctx
		}
		cancel() // the connection ended meanwhile, or another caller won
	}
}

// endContext cancels the connection's context, or marks it ended if nobody
// asked for one (loop only, once, at close).
func (e *endpoint) endContext() {
	if e.ext.CompareAndSwap(nil, endedExt) {
		return
	}
	if cc := e.ext.Load().ctx.Swap(endedContext); cc != nil {
		cc.cancel()
	}
}

// connContext is a connection's context, made only when asked for.
type connContext struct {
	ctx    context.Context
	cancel context.CancelFunc
}

// endedContext stands for the context of every connection that closed
// before anyone asked for one.
var endedContext = func() *connContext {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return &connContext{ctx, cancel}
}()

// post admits bb (a whole message as it goes on the wire) against the
// connection's send limit and hands it to the loop as op (opSend or
// opSendUncounted); it owns bb from here on. This is the senders' side of
// the one admission rule (outbound.go: deliver is the loop's side): a
// message larger than the limit could never be queued (ErrTooLarge); one
// the queue has no room for now goes to the slow-client policy.
func (e *endpoint) post(bb *bytebufferpool.ByteBuffer, op inboxOp) error {
	c := e.conn()
	l := c.l
	limit, policy := c.sendLimits()
	n := len(bb.B)
	if e.closing.Load() {
		bytebufferpool.Put(bb)
		return ErrClosed
	}
	if n > limit {
		bytebufferpool.Put(bb)
		return ErrTooLarge
	}
	if !e.admit(n, limit) {
		bytebufferpool.Put(bb)
		closeIt, err := l.s.refused(c, policy)
		if closeIt {
			_ = l.post(inboxItem{op: opClose, c: c, why: closeReason{code: closeTryAgainLater}})
		}
		return err
	}
	e.posted.Add(int32(n))
	if err := l.post(inboxItem{op: op, c: c, buf: bb}); err != nil {
		e.posted.Add(-int32(n))
		bytebufferpool.Put(bb)
		return ErrClosed
	}
	return nil
}

// close asks the loop to close the connection: a WebSocket with code and
// reason, a stream by ending it. Idempotent.
func (e *endpoint) close(code int, reason string) error {
	if e.closing.Load() {
		return nil
	}
	c := e.conn()
	return c.l.post(inboxItem{op: opClose, c: c, why: closeReason{code, reason}})
}

// Subscribe subscribes the connection to channel. With since (the client's
// last position) the result says whether what it missed was recovered; the
// missed publications follow whatever was sent to the connection before
// Subscribe, and the live ones follow them, with no gap and no duplicate. A
// replay larger than the send queue is written as the client reads it (it
// is not held to MaxSendQueueBytes, nor dropped by the slow-client policy);
// a client that cannot keep up with the channel meanwhile is closed as slow
// and resumes from where it got to. A stream on several channels gives its
// events ids that name a position in each (see ParseEventID), so that a
// Last-Event-ID resumes them all: subscribe in the same order when the
// client comes back. Call it from the connection's callbacks (they run on
// its loop).
func (e *endpoint) Subscribe(channel string, since *hub.Position) (hub.SubscribeResult, error) {
	return e.conn().subscribe(channel, since)
}

// Unsubscribe removes the connection from channel. Call it from the
// connection's callbacks.
func (e *endpoint) Unsubscribe(channel string) error {
	c := e.conn()
	if err := c.l.s.hub.Unsubscribe(c, channel); err != nil {
		return err
	}
	if c.sse != nil {
		c.sse.untrackPosition(channel)
	}
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

// SlowClientPolicy says what happens when a message would push a
// connection's send queue over its limit. The zero value is SlowClientClose,
// as in rtd serve: a client that cannot keep up is closed (and recovers what
// it missed from history when it comes back) rather than left to fall
// further behind.
type SlowClientPolicy uint8

const (
	// SlowClientClose closes the connection (the default): WebSocket with
	// 1013 (try again later) after a short grace so the close frame can
	// still be delivered, SSE by ending the stream.
	SlowClientClose SlowClientPolicy = iota
	// SlowClientError refuses the message: a send returns ErrSlowClient and a
	// hub publication is not delivered to that connection (counted).
	SlowClientError
	// SlowClientDrop drops the message silently (sends return ErrDropped).
	SlowClientDrop
)
