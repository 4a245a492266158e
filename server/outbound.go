package server

import (
	"time"

	"github.com/gobwas/ws"
	"github.com/valyala/bytebufferpool"
	"golang.org/x/sys/unix"

	"github.com/rtd-project/rtd/hub"
	"github.com/rtd-project/rtd/proto/wsframe"
)

// The write path: one ordered route per connection.
//
// Every byte rtd writes to a WebSocket or SSE connection — replies, sends,
// live publications, replays, pongs, close frames — is queued by the loop
// while it processes its inbox in order, and everything that is not already
// doing that posts to the inbox first: senders on other goroutines, and the
// loop's own callbacks too (an OnMessage that replies, a ping to answer, a
// close frame read from the client). So a connection's bytes leave in the
// order they were posted, and nothing follows a close frame: queue refuses
// every byte after it (flagCloseQueued).
//
// Each flush writes every connection that has something queued once (one
// writev); gnet keeps what the socket does not take. A close waits for that
// to drain (closeWhenDrained) and then shuts the write side, so the peer
// reads the last byte before the end. A replay larger than the send queue is
// written as the socket takes it (pump), and live publications of its
// channel wait behind it.
//
// Timers and the pacer run their own tasks on the loop and take the inbox
// first, so their bytes too follow everything posted before them.

// admission says how a message meets a connection's send-queue bound.
type admission uint8

const (
	// admitLive: over the bound, the route's slow-client policy applies.
	admitLive admission = iota
	// admitReply: an answer to the client; it is never dropped: over the
	// bound the connection is closed (1013), whatever the policy.
	admitReply
	// admitPaced: a replay written as the socket drains; not held to the
	// bound, which the pacer keeps it under.
	admitPaced
)

// lingerTimeout bounds how long a connection whose output is complete and
// shut waits for the peer to close its side.
const lingerTimeout = 2 * time.Second

// sendLimits returns the bound on c's send queue and its slow-client policy.
func (c *conn) sendLimits() (int, SlowClientPolicy) {
	switch {
	case c.ws != nil:
		return c.ws.route.opts.MaxSendQueueBytes, c.ws.route.opts.SlowClientPolicy
	case c.sse != nil:
		return c.sse.route.opts.MaxSendQueueBytes, c.sse.route.opts.SlowClientPolicy
	}
	return 0, SlowClientError
}

// accepting reports whether c takes messages: an open WebSocket whose close
// is not under way, or an SSE stream.
func (c *conn) accepting() bool {
	return (c.state == stateWS && !c.ws.closing.Load()) || c.state == stateSSE
}

// dirtyConn is a connection with writes queued for the current flush. Most
// get one write per flush (a publication): it is kept inline, and only a
// second write takes a slice of writes from the loop's pool, so what the
// loop keeps after a fan-out to many connections is one entry each, not a
// slice each.
type dirtyConn struct {
	c        *conn
	one      []byte   // the write, while there is one
	more     [][]byte // all the writes, in order, once there are two or more
	outBytes int
	admitted int // bytes of the writes that senders admitted against the send limit
}

// maxIOVFree bounds the write slices a loop keeps for connections with
// several writes in one flush: a burst to more of them allocates again.
const maxIOVFree = 256

// queue appends b to c's pending writes for this flush and reports whether
// it did. b must stay valid and unchanged until the flush. Nothing is queued
// after a close frame or the end of a response.
func (l *loop) queue(c *conn, b []byte) bool {
	if len(b) == 0 || c.state == stateClosed || c.flags&flagCloseQueued != 0 {
		return false
	}
	if c.dirty == 0 {
		l.dirty = append(l.dirty, dirtyConn{c: c, one: b, outBytes: len(b)})
		c.dirty = int32(len(l.dirty))
		return true
	}
	d := &l.dirty[c.dirty-1]
	if d.more == nil {
		if n := len(l.iovFree); n > 0 {
			d.more, l.iovFree = l.iovFree[n-1], l.iovFree[:n-1]
		} else {
			d.more = make([][]byte, 0, 8)
		}
		d.more = append(d.more, d.one)
		d.one = nil
	}
	d.more = append(d.more, b)
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

// backlogOf is what c holds in user space: queued for this flush and left
// in gnet's outbound buffer by earlier ones.
func (l *loop) backlogOf(c *conn) int { return l.queuedOn(c) + c.gc.OutboundBuffered() }

// flush writes every dirty connection once (one writev each). gnet copies
// what the socket does not take into the connection's outbound buffer, so
// after Writev the queued slices are free again.
func (l *loop) flush() {
	// Counted before the writes: a close among them sends its FIN at once,
	// and a client that reads to the end and then the metrics must find
	// what it was sent counted.
	if l.sent != [2]deliveries{} {
		m := &l.s.metrics
		m.WSMessagesOut.Add(l.sent[0].msgs)
		m.WSBytesOut.Add(l.sent[0].bytes)
		m.SSEEventsOut.Add(l.sent[1].msgs)
		m.SSEBytesOut.Add(l.sent[1].bytes)
		l.sent = [2]deliveries{}
		for i, d := range l.routeSent {
			if d.msgs != 0 {
				rm := l.s.routeMetrics[i]
				rm.MessagesOut.Add(d.msgs)
				rm.BytesOut.Add(d.bytes)
				l.routeSent[i] = deliveries{}
			}
		}
	}
	for i := 0; i < len(l.dirty); i++ {
		// Copied out and detached first: Writev may close the connection
		// and run callbacks that queue more (a new entry, written later in
		// this same loop) and grow l.dirty.
		d := l.dirty[i]
		c := d.c
		c.dirty = 0
		if d.more == nil && c.state != stateClosed {
			_, _ = c.gc.Write(d.one)
		}
		// gnet hands the slices to one writev(2), which refuses more than
		// IOV_MAX of them (EINVAL, and gnet then closes the connection):
		// a burst of small messages goes in pieces.
		for rest := d.more; c.state != stateClosed && len(rest) > 0; {
			n := min(len(rest), maxIOV)
			_, _ = c.gc.Writev(rest[:n])
			rest = rest[n:]
		}
		if ep := c.endpoint(); ep != nil {
			// Publish the backlog before releasing the admitted bytes,
			// so senders never see both figures low at once.
			if c.state != stateClosed {
				l.setBacklog(&ep.sendQueue, c.gc.OutboundBuffered())
			}
			if d.admitted > 0 {
				ep.posted.Add(-int32(d.admitted))
			}
		}
		if d.more != nil {
			clear(d.more)
			if len(l.iovFree) < maxIOVFree && cap(d.more) <= maxIOV {
				l.iovFree = append(l.iovFree, d.more[:0])
			}
		}
		if c.flags&flagCloseAfterFlush != 0 {
			l.closeWhenDrained(c)
		}
	}
	clear(l.dirty)
	l.dirty = l.dirty[:0]
	if len(l.stamps) > 0 {
		// One clock read for the flush; the batches it wrote share it.
		now := time.Now().UnixNano()
		for _, at := range l.stamps {
			l.s.metrics.DeliveryLatency.Observe(now - at)
		}
		l.stamps = l.stamps[:0]
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

// maxIOV is IOV_MAX on Linux and the BSDs: the most slices one writev takes.
const maxIOV = 1024

// queueClose builds a close frame in the arena and queues it on c, the last
// thing c will carry.
func (l *loop) queueClose(c *conn, why closeReason) {
	start := len(l.arena)
	l.arena = wsframe.AppendClose(l.arena, ws.StatusCode(why.code), why.text)
	l.queue(c, l.arena[start:len(l.arena):len(l.arena)])
	c.flags |= flagCloseQueued
}

// postControl posts a control frame the loop answers with (a pong), so that
// it follows whatever was posted before it.
func (l *loop) postControl(c *conn, op ws.OpCode, payload []byte) {
	bb := bytebufferpool.Get()
	bb.B = wsframe.AppendFrame(bb.B[:0], op, payload)
	if l.post(inboxItem{op: opControl, c: c, buf: bb}) != nil {
		bytebufferpool.Put(bb)
	}
}

// deliver queues b on c as admission a allows and reports whether it did.
// This and the senders' check (endpoint.post) are the two sides of one
// bound; refused applies the policy for both.
func (l *loop) deliver(c *conn, b []byte, a admission) bool {
	if !c.accepting() {
		return false
	}
	limit, policy := c.sendLimits()
	if a == admitPaced || l.backlogOf(c)+len(b) <= limit {
		if !l.queue(c, b) {
			return false
		}
		l.count(c, len(b))
		return true
	}
	if a == admitReply {
		policy = SlowClientClose
	}
	if closeIt, _ := l.s.refused(c, policy); closeIt {
		l.closeSlow(c)
	}
	return false
}

// refused applies policy to a message c's send queue has no room for, from
// any goroutine: it counts it, and returns whether c must be closed (which
// happens on its loop) and the error a sender reports.
func (s *Server) refused(c *conn, policy SlowClientPolicy) (closeIt bool, err error) {
	m := &s.metrics
	if c.ws != nil {
		m.WSBackpressure.Add(1)
	} else {
		m.SSEBackpressure.Add(1)
	}
	rm := c.routeMetrics()
	switch policy {
	case SlowClientDrop:
		m.SlowClientDropped.Add(1)
		if rm != nil {
			rm.Dropped.Add(1)
		}
		return false, ErrDropped
	case SlowClientClose:
		return true, ErrSlowClient
	}
	if rm != nil {
		rm.Refused.Add(1)
	}
	return false, ErrSlowClient
}

// closeSlow closes c for being slow: a WebSocket with 1013 behind what is
// queued (it gets SlowClientGrace to read it), a stream by ending it.
func (l *loop) closeSlow(c *conn) {
	if !c.accepting() {
		return
	}
	l.s.metrics.SlowClientCloses.Add(1)
	if rm := c.routeMetrics(); rm != nil {
		rm.SlowCloses.Add(1)
	}
	l.logSlowClient(c)
	l.endReplays(c)
	if c.state == stateWS {
		l.startCloseWS(c, closeReason{closeTryAgainLater, "slow client"}, c.ws.route.opts.SlowClientGrace)
		return
	}
	// The stream's end waits for what is queued for a short grace only: a
	// slow client is shed, not waited for.
	l.endSSE(c, "slow client")
	c.flags |= flagSlowClose
	c.deadline = l.s.now() + int64(defaultSlowClientGrace)
}

// closeConn closes c on request of another goroutine: WebSocket with a
// closing handshake, anything else at once (1013 is the slow-client close).
func (l *loop) closeConn(c *conn, why closeReason) {
	if why.code == closeTryAgainLater {
		l.closeSlow(c)
		return
	}
	switch c.state {
	case stateWS:
		l.startCloseWS(c, why, c.ws.route.opts.CloseTimeout)
	case stateSSE:
		l.endSSE(c, why.text)
	case stateClosing, stateClosed:
		// Already ending, with what it has queued still to go out and a
		// deadline of its own.
	default:
		_ = c.gc.Close()
	}
}

// closeAfterWrites ends c once what is queued before now is written: input
// is ignored from here on, nothing more is queued, and the output is shut
// once drained (or the connection closed when WriteTimeout passes without
// progress).
func (l *loop) closeAfterWrites(c *conn) {
	if c.state == stateClosed {
		return
	}
	c.state = stateClosing
	c.flags |= flagCloseAfterFlush | flagCloseQueued
	l.endReplays(c) // nothing more is written: pace must watch the close, not the replay
	c.deadline = l.s.now() + int64(l.s.opts.WriteTimeout)
	if c.dirty == 0 {
		l.closeWhenDrained(c)
	}
}

// closeWhenDrained shuts c's output if gnet holds nothing more for it, or
// watches it until then: gnet's own close makes one write attempt and drops
// the rest.
func (l *loop) closeWhenDrained(c *conn) {
	if c.state == stateClosed || c.flags&flagWriteShut != 0 {
		return
	}
	if c.gc.OutboundBuffered() > 0 {
		l.watch(c)
		return
	}
	l.shutWrite(c)
}

// shutWrite ends c's output once all of it is written: a FIN after the last
// byte (an HTTP/1.0 body or an SSE stream ends there), then the connection
// waits for the peer to close its side, discarding input, for at most
// lingerTimeout. Closing at once would reset a connection the peer still
// sends on, and a reset can make it drop the end of the response unread.
func (l *loop) shutWrite(c *conn) {
	c.flags |= flagWriteShut
	c.state = stateClosing
	if unix.Shutdown(c.gc.Fd(), unix.SHUT_WR) != nil {
		_ = c.gc.Close()
		return
	}
	c.deadline = l.s.now() + int64(lingerTimeout)
}

// watched is a connection whose output the pacer follows: the backlog it
// last saw, and when that last went down.
type watched struct {
	c        *conn
	last     int
	progress int64
}

// watch adds c to the connections the pacer follows.
func (l *loop) watch(c *conn) {
	if c.flags&flagWatched != 0 || c.state == stateClosed {
		return
	}
	c.flags |= flagWatched
	l.waiting = append(l.waiting, watched{c: c, last: l.backlogOf(c), progress: l.s.now()})
	l.pacing.Store(true)
	l.paceStalled.Store(false)
}

// pace runs on the loop while connections wait for their output to drain
// (the ticker runs it every pacePeriod then): replays get their next piece,
// closes happen once the last byte is out. A connection that takes nothing
// for WriteTimeout is given up: a replay as a slow client (1013), a close at
// once.
func (l *loop) pace() {
	now := l.s.now()
	stall := int64(l.s.opts.WriteTimeout)
	list := l.waiting
	l.waiting, l.waitSpare = l.waitSpare[:0], nil
	progressed := false
	for _, w := range list {
		c := w.c
		c.flags &^= flagWatched
		if c.state == stateClosed {
			continue
		}
		if l.backlogOf(c) < w.last {
			w.progress, progressed = now, true
		}
		busy := false
		switch {
		case c.flags&flagReplaying != 0:
			busy = l.pump(c)
			if busy && now-w.progress > stall {
				l.closeSlow(c)
				busy = false
			}
		case c.flags&flagCloseAfterFlush != 0 && c.flags&flagWriteShut == 0:
			if c.dirty == 0 && c.gc.OutboundBuffered() == 0 {
				l.shutWrite(c)
				break
			}
			busy = true
			if w.progress == now && c.flags&flagSlowClose == 0 {
				c.deadline = now + stall // progress: the sweep's deadline moves on
			}
		}
		if busy && c.flags&flagWatched == 0 {
			c.flags |= flagWatched
			l.waiting = append(l.waiting, watched{c: c, last: l.backlogOf(c), progress: w.progress})
		}
	}
	clear(list)
	if l.waitSpare == nil {
		l.waitSpare = list[:0]
	}
	l.pacing.Store(len(l.waiting) > 0)
	l.paceStalled.Store(!progressed)
}

// pacePeriod is how often the ticker runs the pacer of a loop whose waiting
// connections are draining; stalledPacePeriod, when none of them took
// anything since the last look (clients that stopped reading cost little
// while they wait for their deadline).
const (
	pacePeriod        = 2 * time.Millisecond
	stalledPacePeriod = 25 * time.Millisecond
)

// replay is a recovery in progress on one connection: the publications it
// missed on channel, written as the socket takes them, and the live ones of
// the channel that arrived meanwhile, which follow them.
type replay struct {
	channel   string
	missed    []*hub.Prepared
	held      []*hub.Prepared
	heldBytes int
	started   bool // what had to go out before it (a subscribe reply) is queued
	dropped   bool // unsubscribed: swallows the channel's publications still in flight
}

// more reports whether r has publications left to write.
func (r *replay) more() bool { return !r.dropped && (len(r.missed) > 0 || len(r.held) > 0) }

// take returns r's next publication.
func (r *replay) take() *hub.Prepared {
	var m *hub.Prepared
	if len(r.missed) > 0 {
		m, r.missed[0], r.missed = r.missed[0], nil, r.missed[1:]
	} else {
		m, r.held[0], r.held = r.held[0], nil, r.held[1:]
	}
	return m
}

// addReplay starts a recovery of channel on c. Until it is done, live
// publications of channel wait behind it (hold). It starts writing once
// started is set.
func (l *loop) addReplay(c *conn, channel string, missed []*hub.Prepared, started bool) *replay {
	r := &replay{channel: channel, missed: missed, started: started}
	l.replays[c] = append(l.replays[c], r)
	c.flags |= flagReplaying
	return r
}

// resume writes what c's replays may write now and watches c if more is
// left.
func (l *loop) resume(c *conn) {
	if l.pump(c) {
		l.watch(c)
	}
}

// hold keeps a live publication of a channel c is replaying until the
// replay is written, and reports whether it did. A client that cannot read
// the replay as fast as its channel publishes would make that list grow
// without end: past the send-queue bound it is closed as a slow client, to
// resume from where it got to.
func (l *loop) hold(c *conn, m *hub.Prepared) bool {
	if m.Channel == "" {
		return false
	}
	for _, r := range l.replays[c] {
		if r.channel != m.Channel {
			continue
		}
		if r.dropped {
			return true
		}
		r.held = append(r.held, m)
		r.heldBytes += len(m.WS)
		if limit, _ := c.sendLimits(); r.heldBytes > limit {
			l.closeSlow(c)
		}
		return true
	}
	return false
}

// pump queues c's replays while its backlog is under half the bound (the
// other half is room for replies and other channels) and reports whether
// any is left to write once the socket has taken some.
func (l *loop) pump(c *conn) bool {
	rs := l.replays[c]
	limit, _ := c.sendLimits()
	for i := 0; i < len(rs); {
		r := rs[i]
		if r.dropped {
			i++ // kept until the publications in flight for it are through
			continue
		}
		if !r.started {
			break
		}
		for r.more() {
			if !c.accepting() {
				l.endReplays(c)
				return false
			}
			if l.backlogOf(c) >= limit/2 {
				l.replays[c] = rs
				return true
			}
			l.visit(c, r.take(), admitPaced)
		}
		rs = append(rs[:i], rs[i+1:]...)
	}
	l.setReplays(c, rs)
	return false
}

// setReplays stores c's replays, forgetting them when there are none.
func (l *loop) setReplays(c *conn, rs []*replay) {
	if len(rs) == 0 {
		l.endReplays(c)
		return
	}
	l.replays[c] = rs
}

// endReplays forgets c's replays.
func (l *loop) endReplays(c *conn) {
	if c.flags&flagReplaying != 0 {
		delete(l.replays, c)
		c.flags &^= flagReplaying
	}
}

// dropReplay ends c's replay of channel (it unsubscribed). Publications of
// the channel already on their way to c (in batches routed before the
// unsubscribe) would follow the part of the replay written so far with a
// gap, so the replay stays as a marker that swallows them until an item
// posted now, behind those batches, removes it.
func (l *loop) dropReplay(c *conn, channel string) {
	if c.flags&flagReplaying == 0 {
		return
	}
	for _, r := range l.replays[c] {
		if r.channel == channel && !r.dropped {
			r.dropped, r.missed, r.held = true, nil, nil
			_ = l.post(inboxItem{op: opRun, c: c, run: func(l *loop) {
				rs := l.replays[c]
				for i, x := range rs {
					if x == r {
						rs = append(rs[:i], rs[i+1:]...)
						break
					}
				}
				l.setReplays(c, rs)
				if c.flags&flagReplaying != 0 {
					l.resume(c)
				}
			}})
			break
		}
	}
	l.resume(c)
}
