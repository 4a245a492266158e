package server

import (
	"context"
	"math"
	"sync"
	"sync/atomic"

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
	// handled is the Request handlers and Authorize hooks see, reused: it
	// is valid only while they run (a Socket or Stream keeps a detached
	// copy), so a request costs no allocation of its own.
	handled Request
	w       ResponseWriter
	wbuf    []byte

	// inbox: work handed to the loop by other goroutines (hub batches, sends
	// from foreign goroutines). One drain task at a time is scheduled.
	mu        sync.Mutex
	inbox     []inboxItem
	spare     []inboxItem
	scheduled atomic.Bool
	drainer   gnet.Runnable
	sweeper   gnet.Runnable
	pacer     gnet.Runnable

	firstSSE firstSSE          // the stream that last subscribed to its first channel (see ssepos.go)
	bodies   bodies            // request bodies under way (see body.go)
	readers  []*wsframe.Reader // idle frame readers, lent to sockets while they read

	// per-flush state: connections with bytes queued, and the iovec slices
	// they borrow while they do.
	dirty     []dirtyConn
	iovFree   [][][]byte
	owned     []*bytebufferpool.ByteBuffer // posted buffers to recycle after the flush
	sent      [2]deliveries                // WebSocket and SSE deliveries since the last flush, for the metrics
	routeSent []deliveries                 // the same per route (Server.routeMetrics), fixed at the loop's start
	arena     []byte                       // frames built on the loop (pongs, close frames) for this flush
	stamps    []int64                      // hub.Prepared.At of the batches this flush writes, for Metrics.DeliveryLatency
	scratch   []byte                       // a message being built on the loop, before it is framed

	// connections whose outbound bytes the loop watches drain (see
	// outbound.go): replays written as the socket takes them, closes that
	// wait for the last byte. pacing tells the ticker to look often.
	waiting     []watched
	waitSpare   []watched
	pacing      atomic.Bool         // waiting is not empty
	paceStalled atomic.Bool         // none of waiting drained at the last look
	replays     map[*conn][]*replay // recoveries in progress, by connection

	// queued is the sum of the backlogs of the loop's connections (gnet's
	// outbound buffers as of each one's last flush or tick). Written only
	// by the loop, so the adds are uncontended; read by Server.SendQueueBytes.
	queued atomic.Int64
}

// inboxItem is one unit of work for the loop: a hub batch, bytes for one
// connection (owned by the item until written), a close, or loop work that
// must happen in the connection's order (see outbound.go).
type inboxItem struct {
	op    inboxOp
	batch *hub.Batch
	c     *conn
	buf   *bytebufferpool.ByteBuffer // opSend, opControl, opResponse: the bytes, owned until written
	why   closeReason                // opClose, opFail
	run   func(l *loop)              // opRun
}

type inboxOp uint8

const (
	opBatch         inboxOp = iota
	opSend                  // queue buf on c (admitted by the sender)
	opSendUncounted         // opSend, but not a message for the metrics (an SSE comment)
	opControl               // queue buf on c: a frame the loop itself answers with (a pong); not admitted
	opClose                 // close c with code and reason (a WebSocket closing handshake)
	opFail                  // queue a close frame (code ≠ 0) and close c once it is written
	opResponse              // write the deferred response buf on c
	opRun                   // run fn on the loop, in order with the items around it
)

func newLoop(s *Server, el gnet.EventLoop, idx int) *loop {
	l := &loop{s: s, el: el, idx: idx, replays: make(map[*conn][]*replay), routeSent: make([]deliveries, len(s.routeMetrics))}
	l.drainer = gnet.RunnableFunc(func(context.Context) error {
		l.drain()
		return nil
	})
	l.sweeper = gnet.RunnableFunc(func(context.Context) error {
		l.sweep()
		return nil
	})
	l.pacer = gnet.RunnableFunc(func(context.Context) error {
		l.runInbox()
		l.pace()
		l.flush()
		return nil
	})
	return l
}

// post hands an item to the loop from any goroutine, the loop's own
// included, and makes sure a drain is scheduled. Items are processed in the
// order they were posted.
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
	l.runInbox()
	l.flush()
}

// runInbox processes the inbox in order, including what the items post
// while they run. Loop only, and only from a task of its own (drain, sweep,
// the pacer, the end of OnTraffic): an item may serve another connection's
// requests.
func (l *loop) runInbox() {
	for {
		l.mu.Lock()
		items := l.inbox
		l.inbox, l.spare = l.spare[:0], nil
		l.mu.Unlock()
		if len(items) == 0 {
			l.spare = items
			return
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
}

func (l *loop) handle(it *inboxItem) {
	c := it.c
	switch it.op {
	case opBatch:
		// A publication left unencoded (the Encoder has no form for it)
		// is not sent.
		if m := it.batch.Message(); m.WS != nil {
			before := l.sent
			it.batch.Each(l)
			if m.At != 0 && l.sent != before {
				l.stamps = append(l.stamps, m.At)
			}
		}
		it.batch.Release()
	case opSend, opSendUncounted:
		// The sender already admitted these bytes against the limit;
		// they are queued whatever the backlog is now, and leave the
		// posted count only once the flush has accounted for them.
		l.owned = append(l.owned, it.buf)
		if !l.queue(c, it.buf.B) { // the connection is gone or closing
			c.endpoint().posted.Add(-int32(len(it.buf.B)))
			return
		}
		l.dirty[c.dirty-1].admitted += len(it.buf.B)
		if it.op == opSend {
			l.count(c, len(it.buf.B))
		}
	case opControl:
		l.owned = append(l.owned, it.buf)
		l.queue(c, it.buf.B)
	case opClose:
		l.closeConn(c, it.why)
	case opFail:
		if c.state == stateClosed {
			return
		}
		if it.why.code != 0 {
			l.queueClose(c, it.why)
		}
		l.closeAfterWrites(c)
	case opResponse:
		l.respond(c, it.buf)
	case opRun:
		it.run(l)
	}
}

// Visit implements hub.Visitor: a publication for one recipient on this loop.
func (l *loop) Visit(sub hub.Subscriber, m *hub.Prepared) {
	c := sub.(*conn)
	if c.state == stateClosed || (c.flags&flagReplaying != 0 && l.hold(c, m)) {
		return
	}
	l.visit(c, m, admitLive)
}

// visit queues publication m on c with the given admission.
func (l *loop) visit(c *conn, m *hub.Prepared, a admission) {
	switch c.state {
	case stateWS:
		l.deliver(c, c.ws.frameOf(m), a)
	case stateSSE:
		l.deliverSSE(c, m, a)
	}
}

// open registers a new connection on the loop.
func (l *loop) open(gc gnet.Conn) *conn {
	c := &conn{gc: gc, l: l, slot: int32(len(l.conns))}
	c.deadline = l.s.after(l.s.opts.HeaderTimeout)
	l.conns = append(l.conns, c)
	return c
}

// setBacklog publishes n, gnet's outbound buffer of q's connection, as q's
// backlog and keeps the loop's total in step. Loop only.
func (l *loop) setBacklog(q *sendQueue, n int) {
	n = min(n, math.MaxInt32) // replies and replays are not held to the bound
	if old := q.backlog.Swap(int32(n)); int(old) != n {
		l.queued.Add(int64(n) - int64(old))
	}
}

// closed is OnClose: the connection is gone; drop it from the loop.
func (l *loop) closed(c *conn, err error) {
	if c.sse != nil && l.firstSSE.st == c.sse {
		l.firstSSE = firstSSE{}
	}
	c.state = stateClosed
	if c.flags&flagReplaying != 0 {
		delete(l.replays, c)
		c.flags &^= flagReplaying
	}
	l.dropBody(c)
	if ep := c.endpoint(); ep != nil {
		l.setBacklog(&ep.sendQueue, 0) // what gnet still held is discarded with the connection
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
		l.wsClosed(c)
	case c.sse != nil:
		l.sseClosed(c)
	}
}

// sweep runs on the loop every tick: timeouts and heartbeats. What the
// inbox holds goes first, so that a timer's close frame follows every byte
// posted before it.
func (l *loop) sweep() {
	l.runInbox()
	now := l.s.now()
	l.eachConn(func(c *conn) {
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
	})
	l.pace()
	l.flush()
}

// goAway starts the graceful shutdown of every connection on the loop.
func (l *loop) goAway() {
	l.runInbox()
	l.eachConn(func(c *conn) {
		switch c.state {
		case stateHTTP:
			if c.gc.InboundBuffered() == 0 {
				l.closeAfterWrites(c) // a response may still be on its way
			}
		case stateWS:
			l.wsGoAway(c)
		case stateSSE:
			l.sseGoAway(c)
		}
	})
	l.flush()
}

// eachConn calls fn for every connection on the loop, which fn may close.
func (l *loop) eachConn(fn func(c *conn)) {
	// Backwards: closing a connection swap-removes it from l.conns.
	for i := len(l.conns) - 1; i >= 0; i-- {
		if i < len(l.conns) {
			fn(l.conns[i])
		}
	}
}

// count records a delivery for the metrics.
func (l *loop) count(c *conn, n int) {
	k := 0
	if c.state == stateSSE {
		k = 1
	}
	l.sent[k].msgs++
	l.sent[k].bytes += int64(n)
	if rm := c.routeMetrics(); rm != nil && rm.idx < len(l.routeSent) {
		l.routeSent[rm.idx].msgs++
		l.routeSent[rm.idx].bytes += int64(n)
	}
}

// deliveries counts messages and bytes queued to sockets.
type deliveries struct{ msgs, bytes int64 }
