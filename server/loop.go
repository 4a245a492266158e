package server

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/gobwas/ws"
	"github.com/panjf2000/gnet/v2"
	"github.com/valyala/bytebufferpool"

	"github.com/rtd-project/rtd/hub"
	"github.com/rtd-project/rtd/proto/http1"
	"github.com/rtd-project/rtd/proto/wsframe"
)

// loop is rtd's state for one gnet event loop. Everything but the inbox is
// touched only on the loop's own goroutine.
type loop struct {
	s   *Server
	el  gnet.EventLoop
	idx int

	conns []*conn // every open connection of the loop, for timers and shutdown

	// scratch reused by every request on this loop
	req  http1.Request
	live liveRequest // what the Request being handled reads
	w    ResponseWriter
	wbuf []byte

	// inbox: work handed to the loop by other goroutines (hub batches, sends
	// from foreign goroutines). One drain task at a time is scheduled.
	mu        sync.Mutex
	inbox     []inboxItem
	spare     []inboxItem
	scheduled atomic.Bool
	drainer   gnet.Runnable
	sweeper   gnet.Runnable

	firstSSE firstSSE          // the stream that last subscribed to its first channel (see ssepos.go)
	bodies   bodies            // request bodies under way (see body.go)
	readers  []*wsframe.Reader // idle frame readers, lent to sockets while they read

	// per-flush state: connections with bytes queued, and the iovec slices
	// they borrow while they do.
	dirty   []dirtyConn
	iovFree [][][]byte
	owned   []*bytebufferpool.ByteBuffer // posted buffers to recycle after the flush
	sent    [2]deliveries                // WebSocket and SSE deliveries since the last flush, for the metrics
	arena   []byte                       // frames built on the loop (pongs, close frames) for this flush
	scratch []byte                       // a message being built on the loop, before it is framed

	// queued is the sum of the backlogs of the loop's connections (gnet's
	// outbound buffers as of each one's last flush or tick). Written only
	// by the loop, so the adds are uncontended; read by Server.SendQueueBytes.
	queued atomic.Int64
}

// inboxItem is one unit of work for the loop: a hub batch, or bytes for one
// connection (owned by the item until written).
type inboxItem struct {
	op     inboxOp
	batch  *hub.Batch
	c      *conn
	buf    *bytebufferpool.ByteBuffer // opSend: the bytes, owned until written
	code   int                        // opClose
	reason string                     // opClose
}

type inboxOp uint8

const (
	opBatch         inboxOp = iota
	opSend                  // queue buf on c
	opSendUncounted         // opSend, but not a message for the metrics (an SSE comment)
	opClose                 // close c with code and reason
	opResponse              // write the deferred response buf on c
)

func newLoop(s *Server, el gnet.EventLoop, idx int) *loop {
	l := &loop{s: s, el: el, idx: idx}
	l.drainer = gnet.RunnableFunc(func(context.Context) error {
		l.drain()
		return nil
	})
	l.sweeper = gnet.RunnableFunc(func(context.Context) error {
		l.sweep()
		return nil
	})
	return l
}

// post hands an item to the loop from any goroutine and makes sure a drain
// is scheduled. Items are processed in the order they were posted.
func (l *loop) post(it inboxItem) error {
	l.mu.Lock()
	l.inbox = append(l.inbox, it)
	l.mu.Unlock()
	if !l.scheduled.Swap(true) {
		if err := l.el.Execute(context.Background(), l.drainer); err != nil {
			l.scheduled.Store(false)
			return err
		}
	}
	return nil
}

// drain runs on the loop: it processes the inbox, then writes each
// connection that received something once.
func (l *loop) drain() {
	l.scheduled.Store(false)
	for {
		l.mu.Lock()
		items := l.inbox
		l.inbox, l.spare = l.spare[:0], nil
		l.mu.Unlock()
		if len(items) == 0 {
			l.spare = items
			break
		}
		for i := range items {
			l.handle(&items[i])
			items[i] = inboxItem{}
		}
		l.mu.Lock()
		if l.spare == nil {
			l.spare = items[:0]
		}
		l.mu.Unlock()
	}
	l.flush()
}

func (l *loop) handle(it *inboxItem) {
	switch it.op {
	case opBatch:
		it.batch.Each(l)
		it.batch.Release()
	case opSend, opSendUncounted:
		// The sender already admitted these bytes against the limit;
		// they are queued whatever the backlog is now, and leave the
		// posted count only once the flush has accounted for them.
		l.owned = append(l.owned, it.buf)
		c := it.c
		if !l.queue(c, it.buf.B) { // the connection is gone
			c.sendq().posted.Add(-int64(len(it.buf.B)))
			return
		}
		l.dirty[c.dirty-1].admitted += len(it.buf.B)
		if it.op == opSend {
			l.count(c, len(it.buf.B))
		}
	case opClose:
		l.closeConn(it.c, it.code, it.reason)
	case opResponse:
		l.respond(it.c, it.buf)
	}
}

// Visit implements hub.Visitor: a publication for one recipient on this loop.
func (l *loop) Visit(sub hub.Subscriber, m *hub.Prepared) {
	c := sub.(*conn)
	if c.state == stateClosed {
		return
	}
	switch c.state {
	case stateWS:
		l.deliver(c, c.ws.frameOf(m))
	case stateSSE:
		l.deliverSSE(c, m)
	}
}

// dirtyConn is a connection with writes queued for the current flush.
type dirtyConn struct {
	c        *conn
	out      [][]byte // the writes, in order
	outBytes int
	admitted int // bytes of out that senders admitted against the send limit
}

// queue appends b to c's pending writes for this flush and reports whether
// it did. b must stay valid and unchanged until the flush.
func (l *loop) queue(c *conn, b []byte) bool {
	if len(b) == 0 || c.state == stateClosed {
		return false
	}
	if c.dirty == 0 {
		var out [][]byte
		if n := len(l.iovFree); n > 0 {
			out, l.iovFree = l.iovFree[n-1], l.iovFree[:n-1]
		} else {
			out = make([][]byte, 0, 8)
		}
		l.dirty = append(l.dirty, dirtyConn{c: c, out: out})
		c.dirty = int32(len(l.dirty))
	}
	d := &l.dirty[c.dirty-1]
	d.out = append(d.out, b)
	d.outBytes += len(b)
	return true
}

// queuedOn returns the bytes queued on c for the current flush.
func (l *loop) queuedOn(c *conn) int {
	if c.dirty == 0 {
		return 0
	}
	return l.dirty[c.dirty-1].outBytes
}

// flush writes every dirty connection once (one writev each). gnet copies
// what the socket does not take into the connection's outbound buffer, so
// after Writev the queued slices are free again.
func (l *loop) flush() {
	for i := 0; i < len(l.dirty); i++ {
		// Copied out and detached first: Writev may close the connection
		// and run callbacks that queue more (a new entry, written later in
		// this same loop) and grow l.dirty.
		d := l.dirty[i]
		c, out := d.c, d.out
		c.dirty = 0
		if c.state != stateClosed && len(out) > 0 {
			_, _ = c.gc.Writev(out)
		}
		if q := c.sendq(); q != nil {
			// Publish the backlog before releasing the admitted bytes,
			// so senders never see both figures low at once.
			if c.state != stateClosed {
				l.setBacklog(q, c.gc.OutboundBuffered())
			}
			if d.admitted > 0 {
				q.posted.Add(-int64(d.admitted))
			}
		}
		clear(out)
		l.iovFree = append(l.iovFree, out[:0])
		if c.flags&flagCloseAfterFlush != 0 && c.state != stateClosed {
			_ = c.gc.Close()
		}
	}
	clear(l.dirty)
	l.dirty = l.dirty[:0]
	if l.sent != [2]deliveries{} {
		m := &l.s.metrics
		m.WSMessagesOut.Add(l.sent[0].msgs)
		m.WSBytesOut.Add(l.sent[0].bytes)
		m.SSEEventsOut.Add(l.sent[1].msgs)
		m.SSEBytesOut.Add(l.sent[1].bytes)
		l.sent = [2]deliveries{}
	}
	for i, bb := range l.owned {
		bytebufferpool.Put(bb)
		l.owned[i] = nil
	}
	l.owned = l.owned[:0]
	if cap(l.arena) > maxArena {
		l.arena = nil
	}
	l.arena = l.arena[:0]
}

// maxArena caps the arena kept between flushes.
const maxArena = 64 << 10

// queueFrame builds a frame in the arena and queues it on c. Appending to
// the arena never moves bytes already queued: a reallocation leaves them in
// the old array, which stays alive until the flush.
func (l *loop) queueFrame(c *conn, op ws.OpCode, payload []byte) {
	start := len(l.arena)
	l.arena = wsframe.AppendFrame(l.arena, op, payload)
	l.queue(c, l.arena[start:len(l.arena):len(l.arena)])
}

// queueClose builds a close frame in the arena and queues it on c.
func (l *loop) queueClose(c *conn, code int, reason string) {
	start := len(l.arena)
	l.arena = wsframe.AppendClose(l.arena, ws.StatusCode(code), reason)
	l.queue(c, l.arena[start:len(l.arena):len(l.arena)])
}

// deliver queues b on c unless that would take c's send queue over its
// limit, in which case the slow-client policy applies. It reports whether b
// was queued.
func (l *loop) deliver(c *conn, b []byte) bool {
	var limit int
	var policy SlowClientPolicy
	switch {
	case c.state == stateWS && !c.ws.closing.Load():
		limit, policy = c.ws.route.opts.MaxSendQueueBytes, c.ws.route.opts.SlowClientPolicy
	case c.state == stateSSE:
		limit, policy = c.sse.route.opts.MaxSendQueueBytes, c.sse.route.opts.SlowClientPolicy
	default:
		return false
	}
	if l.queuedOn(c)+c.gc.OutboundBuffered()+len(b) <= limit {
		l.queue(c, b)
		l.count(c, len(b))
		return true
	}
	m := &l.s.metrics
	if c.state == stateWS {
		m.WSBackpressure.Add(1)
	} else {
		m.SSEBackpressure.Add(1)
	}
	switch policy {
	case SlowClientClose:
		m.SlowClientCloses.Add(1)
		l.logSlowClient(c)
		if c.state == stateWS {
			l.startCloseWS(c, closeTryAgainLater, "slow client", c.ws.route.opts.SlowClientGrace)
		} else {
			l.endSSE(c)
		}
	default:
		m.SlowClientDropped.Add(1)
	}
	return false
}

// closeConn closes c on request of another goroutine: WebSocket with a
// closing handshake, anything else at once.
func (l *loop) closeConn(c *conn, code int, reason string) {
	switch c.state {
	case stateClosed:
	case stateWS:
		wait := c.ws.route.opts.CloseTimeout
		if code == closeTryAgainLater {
			wait = c.ws.route.opts.SlowClientGrace
			l.s.metrics.SlowClientCloses.Add(1)
			l.logSlowClient(c)
		}
		l.startCloseWS(c, code, reason, wait)
	case stateSSE:
		if code == closeTryAgainLater { // Stream.Send's SlowClientClose
			l.s.metrics.SlowClientCloses.Add(1)
			l.logSlowClient(c)
		}
		l.endSSE(c)
	case stateClosing:
		// Already ending, with what it has queued still to go out and a
		// deadline of its own.
	default:
		_ = c.gc.Close()
	}
}

// open registers a new connection on the loop.
func (l *loop) open(gc gnet.Conn) *conn {
	c := &conn{gc: gc, l: l, slot: int32(len(l.conns))}
	c.deadline = l.s.now() + int64(l.s.opts.HeaderTimeout)
	l.conns = append(l.conns, c)
	return c
}

// setBacklog publishes n, gnet's outbound buffer of q's connection, as q's
// backlog and keeps the loop's total in step. Loop only.
func (l *loop) setBacklog(q *sendQueue, n int) {
	if old := q.backlog.Swap(int64(n)); old != int64(n) {
		l.queued.Add(int64(n) - old)
	}
}

// closed is OnClose: the connection is gone; drop it from the loop.
func (l *loop) closed(c *conn, err error) {
	if c.sse != nil && l.firstSSE.st == c.sse {
		l.firstSSE = firstSSE{}
	}
	c.state = stateClosed
	l.dropBody(c)
	if q := c.sendq(); q != nil {
		l.setBacklog(q, 0) // what gnet still held is discarded with the connection
	}
	last := len(l.conns) - 1
	if int(c.slot) <= last && l.conns[c.slot] == c {
		l.conns[c.slot] = l.conns[last]
		l.conns[c.slot].slot = c.slot
		l.conns[last] = nil
		l.conns = l.conns[:last]
	}
	switch {
	case c.ws != nil:
		l.wsClosed(c, err)
	case c.sse != nil:
		l.sseClosed(c, err)
	}
}

// sweep runs on the loop every tick: timeouts and heartbeats.
func (l *loop) sweep() {
	now := l.s.now()
	// Backwards: closing a connection swap-removes it from l.conns.
	for i := len(l.conns) - 1; i >= 0; i-- {
		if i >= len(l.conns) {
			continue
		}
		c := l.conns[i]
		switch c.state {
		case stateHTTP:
			l.httpTimer(c, now)
		case stateWS:
			l.wsTimer(c, now)
		case stateSSE:
			l.sseTimer(c, now)
		case stateClosing:
			if now >= c.deadline {
				_ = c.gc.Close()
			}
		}
	}
	l.flush()
}

// goAway starts the graceful shutdown of every connection on the loop.
func (l *loop) goAway() {
	for i := len(l.conns) - 1; i >= 0; i-- {
		if i >= len(l.conns) {
			continue
		}
		c := l.conns[i]
		switch c.state {
		case stateHTTP:
			if c.gc.InboundBuffered() == 0 {
				_ = c.gc.Close()
			}
		case stateWS:
			l.wsGoAway(c)
		case stateSSE:
			l.sseGoAway(c)
		}
	}
	l.flush()
}

// count records a delivery for the metrics.
func (l *loop) count(c *conn, n int) {
	k := 0
	if c.state == stateSSE {
		k = 1
	}
	l.sent[k].msgs++
	l.sent[k].bytes += int64(n)
}

// deliveries counts messages and bytes queued to sockets.
type deliveries struct{ msgs, bytes int64 }
