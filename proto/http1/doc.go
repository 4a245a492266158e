// Package http1 parses HTTP/1.1 requests and appends HTTP/1.1 responses, over byte slices and
// without I/O, for a server running on an event loop.
//
// # Parsing
//
// Parse is a pure, stateless function: given the bytes received so far on a connection
// (gnet's c.Peek(-1)), it either parses the request at their start and says how many bytes it
// occupies, or returns ErrNeedMore, after which the caller keeps the bytes and calls Parse
// again from the start when more arrive. A request split anywhere, or several pipelined in one
// buffer, parse the same as one delivered whole:
//
//	var req http1.Request // reused for every request on the loop
//	n, err := http1.Parse(buf, &req, &limits)
//	switch {
//	case err == http1.ErrNeedMore:
//		// wait; if req.HeadLen > 0 && req.Expect100, send "100 Continue" once
//	case err != nil:
//		out = http1.AppendResponse(out, http1.StatusOf(err), "", nil, false) // then close
//	default:
//		// serve req, then discard n bytes
//	}
//
// The Request's byte slices alias buf, so nothing is copied and, after warm-up, nothing is
// allocated; they are valid only until buf is reused. Parse never writes to buf.
//
// A body may arrive in many small pieces, and parsing the request again on each (decoding a
// chunked body from its start), with the raw body kept buffered, would cost time quadratic
// in its size. Once Parse reports a complete head with ErrNeedMore, a Pending takes over:
// Start copies the head, Feed takes each new piece once and says how many bytes it used, and
// the caller drops them from its input:
//
//	if err == http1.ErrNeedMore && req.HeadLen > 0 {
//		n, _ := p.Start(buf, &limits) // drop n bytes; then, as bytes arrive:
//		n, err = p.Feed(buf)          // drop n; when err == nil serve p.Request()
//	}
//
// A chunked body's framing counts against Limits.MaxBodyBytes along with its data, and its
// chunks against Limits.MaxChunks, so tiny chunks cannot make a body cost more than its limit.
//
// Parse follows RFC 9112 strictly where leniency has enabled request smuggling: lines end in
// CRLF only (a bare LF or CR is a 400), obs-fold and whitespace before a colon are 400s, a
// request with both Content-Length and Transfer-Encoding or with two Content-Length lines is a
// 400, and any Transfer-Encoding but exactly "chunked" is a 501. HTTP/1.0 and 1.1 are served;
// other versions get 505. Limits bound the request line (414), the head (431) and the body
// (413), and each is enforced as soon as the bytes received cross it, before the client has
// finished sending. Every error Parse returns other than ErrNeedMore is an *Error carrying the
// status to answer with; StatusOf extracts it.
//
// # Responses
//
// AppendStatusLine, AppendHeader and AppendDate build a response head in a caller-owned
// buffer; AppendResponse builds a whole small response (errors, health checks). AppendDate
// formats the date at most once per second process-wide.
package http1
