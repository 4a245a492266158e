package server

import (
	"github.com/panjf2000/gnet/v2"

	"github.com/rtd-project/rtd/proto/http1"
)

// Request bodies that arrive in pieces, and "Expect: 100-continue".
//
// http1.Parse is stateless, and fine for a request that arrives whole or nearly so. A body
// sent in many small pieces is another matter: gnet copies the whole input buffer for each
// Peek, and Parse decodes a chunked body again from its start, on every arrival, which costs
// time quadratic in the body's size. So once the head of a request is complete and its body
// is not, the connection borrows an http1.Pending from its loop, which copies the head and
// takes each new piece once; the bytes fed to it are dropped from the input at once. The
// Pending goes back to the loop when the request is complete: an idle connection holds none,
// and the conn struct carries nothing for it.

// maxFreeBodies bounds the idle Pendings a loop keeps, and maxPooledBody the size of a body
// whose Pending is kept: past them a Pending goes to the garbage collector, so a burst of
// large uploads does not pin its memory.
const (
	maxFreeBodies = 8
	maxPooledBody = 64 << 10
)

// bodies are the request bodies a loop is receiving.
type bodies struct {
	busy map[*conn]*http1.Pending // connections with a body under way
	free []*http1.Pending
	// done is the Pending whose request is being dispatched. It returns to free at the next
	// parse on the loop, once nothing refers to its request any more.
	done *http1.Pending
}

// parseRequest parses the request at the start of buf, c's input, or carries on with c's
// body, with http1.Parse's results. It drops from the input the bytes of a body as they are
// taken, so after an http1.ErrNeedMore the input may be empty, and the n it returns with a
// complete request counts only what is left of it.
func (l *loop) parseRequest(c *conn, buf []byte) (*http1.Request, int, error) {
	b := &l.bodies
	if b.done != nil {
		b.release(b.done)
		b.done = nil
	}
	if p := b.busy[c]; p != nil {
		return l.feedBody(c, p, buf, 0)
	}
	req := &l.req
	n, err := http1.Parse(buf, req, &l.s.limits)
	if err != http1.ErrNeedMore || req.HeadLen == 0 {
		return req, n, err // done, failed, or the head itself incomplete
	}
	var p *http1.Pending
	if k := len(b.free); k > 0 {
		p, b.free = b.free[k-1], b.free[:k-1]
	} else {
		p = new(http1.Pending)
	}
	head, err := p.Start(buf, &l.s.limits)
	if err != nil {
		return req, 0, err // none: Parse has just accepted this head
	}
	if b.busy == nil {
		b.busy = make(map[*conn]*http1.Pending)
	}
	b.busy[c] = p
	return l.feedBody(c, p, buf, head)
}

// feedBody feeds p the input after its first skip bytes (already taken), and drops from the
// input what it took unless the request is complete: then the caller drops it once the
// request is served.
func (l *loop) feedBody(c *conn, p *http1.Pending, buf []byte, skip int) (*http1.Request, int, error) {
	n, err := p.Feed(buf[skip:])
	switch err {
	case nil:
		delete(l.bodies.busy, c)
		l.bodies.done = p
		return p.Request(), skip + n, nil
	case http1.ErrNeedMore:
		// Dropped only now: the Peek'd buf may be gnet's pooled copy, which Discard frees.
		_, _ = c.gc.Discard(skip + n)
		return p.Request(), 0, err
	}
	l.dropBody(c)
	return p.Request(), 0, err
}

// dropBody forgets c's body under way, if any, when the request fails or c closes. Its
// Pending is not pooled: a body cut short may have grown it to any size.
func (l *loop) dropBody(c *conn) {
	if len(l.bodies.busy) > 0 {
		delete(l.bodies.busy, c)
	}
}

// release returns a Pending whose request has been served to the pool, unless the pool is
// full or its body was large.
func (b *bodies) release(p *http1.Pending) {
	if len(b.free) < maxFreeBodies && len(p.Request().Body) <= maxPooledBody {
		b.free = append(b.free, p)
	}
}

// expectContinue answers the head of an "Expect: 100-continue" request, once per request:
// "100 Continue" when its route exists and the route's guards (see Group) let the head
// through, else the final answer at once, with gnet.Close. Nothing is uploaded for a
// request that is refused anyway, and the connection is closed rather than kept, since the
// client may send the body regardless and what it sends would be taken for the next request
// (net/http does the same). The guards run again on the complete request, so what they set
// (SetUser, SetValue) is on the Request the handler gets.
func (l *loop) expectContinue(c *conn, req *http1.Request) gnet.Action {
	if req.HeadLen == 0 || !req.Expect100 || c.flags&flagSent100 != 0 {
		return gnet.None
	}
	c.flags |= flagSent100
	s := l.s
	live := &l.live
	live.Request, live.c = req, c
	rt, _ := s.router.match(req.Method, req.Path, &live.ps)
	if rt == nil {
		l.dispatch(c, req, false) // 404 or 405, as for the whole request
		return gnet.Close
	}
	r := &l.handled
	*r = Request{live: live}
	if err := runGuards(rt.guards, nil, r); err != nil {
		status, msg := refusal(err)
		s.metrics.HTTPRequests.Add(1)
		l.logRequest(c, req, status)
		l.wbuf = appendError(l.wbuf, status, msg, false)
		return gnet.Close
	}
	c.deadline = s.after(s.opts.IdleTimeout)
	l.wbuf = append(l.wbuf, "HTTP/1.1 100 Continue\r\n\r\n"...)
	return gnet.None
}
