package server

import (
	"sync"
	"time"

	"github.com/panjf2000/gnet/v2"
	"github.com/valyala/bytebufferpool"

	"github.com/rtd-project/rtd/proto/http1"
)

// Deferred responses. A handler that has to wait for something (the message
// bus acknowledging a publication, say) must not wait on the event loop: every
// other connection of the loop would wait with it. It calls w.Defer(fn)
// instead; the connection then waits in stateAwait, its later pipelined
// requests stay in the input buffer, fn runs on a goroutine of its own, and
// its response comes back through the loop's inbox (opResponse), which
// writes it and carries on with whatever the client sent meanwhile.

// Defer finishes the response off the event loop: when the handler returns,
// fn runs on a goroutine of its own with a fresh ResponseWriter, and the
// server writes what fn wrote once it returns. The Request is valid only
// while the handler runs, so copy what fn needs before calling Defer. What
// the handler wrote to w itself is discarded. Later pipelined requests on the
// connection are answered after the deferred response, in order. A panic in
// fn answers 500.
func (w *ResponseWriter) Defer(fn func(w *ResponseWriter)) { w.deferred = fn }

// Deferring reports whether the handler has called Defer: its response is
// still to be written when the handler returns.
func (w *ResponseWriter) Deferring() bool { return w.deferred != nil }

var deferredWriters = sync.Pool{New: func() any { return new(ResponseWriter) }}

// maxAwaitInput bounds what a client may send while its connection waits for
// a deferred response: one more request of the largest size allowed.
func (s *Server) maxAwaitInput() int {
	return s.limits.MaxHeaderBytes + int(s.limits.MaxBodyBytes)
}

// deferResponse parks c until fn has produced the response to the request
// just handled.
func (l *loop) deferResponse(c *conn, req *http1.Request, fn func(*ResponseWriter), keep bool) {
	method, path := methodString(req.Method), string(req.Path)
	head := method == "HEAD"
	c.state = stateAwait
	if keep {
		c.flags &^= flagCloseAfterResponse
	} else {
		c.flags |= flagCloseAfterResponse
	}
	go func() {
		start := time.Now()
		w := deferredWriters.Get().(*ResponseWriter)
		w.reset()
		l.runDeferred(fn, w)
		if e := l.s.hot.Info(); e != nil {
			e.Str("method", method).Str("path", path).Int("status", w.statusCode()).Dur("took", time.Since(start)).Msg("http")
		}
		buf := bytebufferpool.Get()
		buf.B = w.appendTo(buf.B, head, keep)
		w.reset()
		deferredWriters.Put(w)
		if err := l.post(inboxItem{op: opResponse, c: c, buf: buf}); err != nil {
			bytebufferpool.Put(buf) // the loop is gone, and the connection with it
		}
	}()
}

// runDeferred runs fn, turning a panic into a 500.
func (l *loop) runDeferred(fn func(*ResponseWriter), w *ResponseWriter) {
	defer func() {
		if v := recover(); v != nil {
			l.s.log.Error().Interface("panic", v).Msg("deferred handler")
			w.reset()
			w.WriteHeader(500)
			_, _ = w.WriteString("internal error\n")
		}
	}()
	fn(w)
}

// respond writes a deferred response (opResponse), then serves what the
// client pipelined behind its request.
func (l *loop) respond(c *conn, buf *bytebufferpool.ByteBuffer) {
	if c.state != stateAwait {
		bytebufferpool.Put(buf) // closed meanwhile
		return
	}
	_, _ = c.gc.Write(buf.B) // gnet copies what the socket does not take now
	bytebufferpool.Put(buf)
	c.state = stateHTTP
	if c.flags&flagCloseAfterResponse != 0 || l.s.draining.Load() {
		l.closeAfterWrites(c)
		return
	}
	c.deadline = l.s.after(l.s.opts.IdleTimeout)
	if c.gc.InboundBuffered() > 0 && l.serveHTTP(c) != gnet.None {
		_ = c.gc.Close()
	}
}
