package server

import (
	"encoding/json"
	"errors"
	"strings"

	"github.com/panjf2000/gnet/v2"

	"github.com/rtd-project/rtd/proto/http1"
)

// The HTTP/1.1 side of a connection (loop only): requests parsed and
// answered in order until the connection upgrades, streams or closes.

// serveHTTP parses and answers every complete request in the input buffer
// (pipelining), writing the responses in order with one write. A response
// that ends the connection (Connection: close, HTTP/1.0, an error) is
// written in full before the connection closes.
func (l *loop) serveHTTP(c *conn) gnet.Action {
	s := l.s
	l.wbuf = l.wbuf[:0]
	end := false
	for c.state == stateHTTP {
		buf, _ := c.gc.Peek(-1)
		if len(buf) == 0 {
			c.flags &^= flagHeadPending
			c.deadline = s.after(s.opts.IdleTimeout)
			break
		}
		req, n, err := l.parseRequest(c, buf) // see body.go
		if errors.Is(err, http1.ErrNeedMore) {
			if c.flags&flagHeadPending == 0 {
				c.flags |= flagHeadPending
				c.deadline = s.after(s.opts.HeaderTimeout)
			}
			end = l.expectContinue(c, req) != gnet.None
			break
		}
		if err != nil {
			s.metrics.HTTPErrors.Add(1)
			l.logBadRequest(c, http1.StatusOf(err), err)
			l.wbuf = appendError(l.wbuf, http1.StatusOf(err), err.Error(), false)
			end = true
			break
		}
		c.flags &^= flagHeadPending | flagSent100
		keep := req.KeepAlive && !s.draining.Load()
		a := l.dispatch(c, req, keep)
		_, _ = c.gc.Discard(n)
		if c.state == stateAwait {
			break // what follows waits for the deferred response
		}
		// An upgraded connection or an event stream is no longer a
		// request/response exchange: Connection: close and HTTP/1.0 end
		// responses, not those (an SSE body ends when the server ends it).
		if a != gnet.None || (!keep && c.state == stateHTTP) {
			end = true
			break
		}
	}
	if len(l.wbuf) > 0 {
		_, _ = c.gc.Write(l.wbuf)
	}
	if end {
		l.closeAfterWrites(c)
		return gnet.None
	}
	if c.state == stateWS {
		// Frames may have arrived right behind the upgrade request.
		if in := c.gc.InboundBuffered(); in > 0 {
			return l.serveWS(c)
		}
	}
	return gnet.None
}

// dispatch routes one request. It appends plain responses to l.wbuf, or
// upgrades the connection. A non-None action closes the connection once
// l.wbuf is written.
func (l *loop) dispatch(c *conn, req *http1.Request, keep bool) gnet.Action {
	s := l.s
	s.metrics.HTTPRequests.Add(1)
	live := &l.live
	live.Request, live.c = req, c
	r := &l.handled
	*r = Request{live: live}
	rt, allow := s.router.match(req.Method, req.Path, &live.ps)
	if rt == nil {
		if len(allow) > 0 {
			l.w.reset()
			l.w.status = 405
			l.w.SetHeader("Allow", joinMethods(allow))
			l.w.WriteString("method not allowed\n")
			l.wbuf = l.w.appendTo(l.wbuf, string(req.Method) == "HEAD", keep)
			l.logRequest(c, req, 405)
			return gnet.None
		}
		l.logRequest(c, req, 404)
		l.wbuf = appendError(l.wbuf, 404, "not found", keep)
		return gnet.None
	}
	switch rt.kind {
	case kindWS:
		return l.upgradeWS(c, rt, r)
	case kindSSE:
		return l.startSSE(c, rt, r)
	}
	l.w.reset()
	rt.handler(&l.w, r)
	if fn := l.w.deferred; fn != nil {
		l.w.deferred = nil
		l.deferResponse(c, req, fn, keep)
		return gnet.None
	}
	l.logRequest(c, req, l.w.statusCode())
	l.wbuf = l.w.appendTo(l.wbuf, string(req.Method) == "HEAD", keep)
	return gnet.None
}

// httpTimer enforces the header (slowloris) and keep-alive idle timeouts.
func (l *loop) httpTimer(c *conn, now int64) {
	if now < c.deadline {
		return
	}
	if c.flags&flagHeadPending != 0 && c.flags&flagSent100 == 0 {
		l.s.metrics.HeaderTimeouts.Add(1)
		l.queue(c, resp408)
	}
	l.closeAfterWrites(c)
}

var resp408 = []byte("HTTP/1.1 408 Request Timeout\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 16\r\nConnection: close\r\n\r\nrequest timeout\n")

// appendError answers status with msg as the body: as application/json when
// msg is a JSON object, else as text.
func appendError(dst []byte, status int, msg string, keepAlive bool) []byte {
	ctype := "text/plain; charset=utf-8"
	if isJSONObject(msg) {
		ctype = "application/json"
	}
	body := make([]byte, 0, len(msg)+1)
	body = append(append(body, msg...), '\n')
	return http1.AppendResponse(dst, status, ctype, body, keepAlive)
}

// isJSONObject reports whether an error message is a JSON object (sent as
// application/json) rather than text.
func isJSONObject(msg string) bool {
	return strings.HasPrefix(msg, "{") && json.Valid([]byte(msg))
}

func joinMethods(ms []string) string {
	out := ""
	seen := map[string]bool{}
	for _, m := range ms {
		if seen[m] {
			continue
		}
		seen[m] = true
		if m == "GET" && !seen["HEAD"] {
			seen["HEAD"] = true
			m = "GET, HEAD"
		}
		if out != "" {
			out += ", "
		}
		out += m
	}
	return out
}
