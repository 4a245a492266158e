package server

import (
	"bytes"
	"net/url"
	"strconv"
	"strings"

	"github.com/rtd-project/rtd/proto/http1"
)

// HandlerFunc answers a plain HTTP request. It runs on the connection's event
// loop and must not block: it fills w, and the server writes the response when
// it returns.
type HandlerFunc func(w *ResponseWriter, r *Request)

// HTTPError rejects a request with a status and a short message. Authorize
// hooks return it to refuse an upgrade or a stream (401, 403, …). The message
// is the response body: a JSON object goes out as application/json, anything
// else as text/plain.
type HTTPError struct {
	Status  int
	Message string
}

func (e *HTTPError) Error() string { return strconv.Itoa(e.Status) + " " + e.Message }

// Request is an HTTP request as handlers see it.
//
// During a handler (and during Authorize and OnOpen callbacks) it reads
// straight from the connection's input buffer. The Request that a Socket or
// Stream keeps afterwards is a detached copy: method, path, query, parameters,
// remote address and user, plus the headers when the route asked to keep them
// (KeepHeaders), so that idle connections stay small.
type Request struct {
	live   *liveRequest // the loop's request being handled; nil once detached
	remote string
	user   string
	value  any

	// detached copies
	method, path, rawQuery string
	params                 []string // name, value, name, value, …
	head                   []byte   // "Name: value\r\n" lines
}

// liveRequest is what a Request reads while it is handled: the parsed
// request, its connection (RemoteAddr is read from it on demand) and the route
// parameters. Each loop has one, reused by every request it handles, so a
// detached Request carries none of it.
type liveRequest struct {
	*http1.Request
	c  *conn
	ps params
}

// Method returns the request method ("GET", "POST", …).
func (r *Request) Method() string {
	if r.live != nil {
		return string(r.live.Method)
	}
	return r.method
}

// Path returns the request path as sent, without the query.
func (r *Request) Path() string {
	if r.live != nil {
		return string(r.live.Path)
	}
	return r.path
}

// RawQuery returns the query string without the leading '?'.
func (r *Request) RawQuery() string {
	if r.live != nil {
		return string(r.live.RawQuery)
	}
	return r.rawQuery
}

// Param returns the value of a :name or *name segment of the route pattern.
func (r *Request) Param(name string) string {
	if r.live != nil {
		v, _ := r.live.ps.get(name)
		return string(v)
	}
	for i := 0; i+1 < len(r.params); i += 2 {
		if r.params[i] == name {
			return r.params[i+1]
		}
	}
	return ""
}

// Query returns the first percent-decoded value of the query parameter name.
func (r *Request) Query(name string) string {
	v, _ := r.QueryOK(name)
	return v
}

// QueryOK is Query that also says whether the parameter was present.
func (r *Request) QueryOK(name string) (string, bool) {
	if r.live != nil {
		v, ok := r.live.Query(name, nil)
		return string(v), ok
	}
	vs, err := url.ParseQuery(r.rawQuery)
	if err != nil {
		return "", false
	}
	if v, ok := vs[name]; ok && len(v) > 0 {
		return v[0], true
	}
	return "", false
}

// QueryAll returns every decoded value of the query parameter name, in order.
func (r *Request) QueryAll(name string) []string {
	vs, _ := url.ParseQuery(r.RawQuery())
	return vs[name]
}

// Header returns the first value of the named header (case-insensitive), or
// "" when it is absent or was not kept.
func (r *Request) Header(name string) string {
	if r.live != nil {
		return string(r.live.Header(name))
	}
	for rest := r.head; len(rest) > 0; {
		line := rest
		if i := bytes.Index(rest, crlf); i >= 0 {
			line, rest = rest[:i], rest[i+2:]
		} else {
			rest = nil
		}
		colon := bytes.IndexByte(line, ':')
		if colon == len(name) && strings.EqualFold(string(line[:colon]), name) {
			return string(bytes.TrimSpace(line[colon+1:]))
		}
	}
	return ""
}

// Body returns the request body (de-chunked). It is only valid during the
// handler.
func (r *Request) Body() []byte {
	if r.live != nil {
		return r.live.Body
	}
	return nil
}

// RemoteAddr returns the peer's address, "ip:port".
func (r *Request) RemoteAddr() string {
	if r.remote == "" && r.live != nil {
		if a := r.live.c.gc.RemoteAddr(); a != nil {
			r.remote = a.String()
		}
	}
	return r.remote
}

// User returns the user ID an Authorize hook set with SetUser ("" if none).
func (r *Request) User() string { return r.user }

// SetValue attaches a value to the request (an Authorize hook's verdict,
// say); it stays with the detached copy a Socket or Stream keeps.
func (r *Request) SetValue(v any) { r.value = v }

// Value returns what SetValue stored, or nil.
func (r *Request) Value() any { return r.value }

// SetUser records the authenticated user of the connection. Authorize hooks
// call it; the hub uses it for presence and per-user limits.
func (r *Request) SetUser(id string) { r.user = id }

var crlf = []byte("\r\n")

// detach copies what a long-lived connection keeps of the request.
func (r *Request) detach(keepHeaders bool) *Request {
	d := &Request{remote: r.RemoteAddr(), user: r.user, value: r.value}
	if r.live == nil {
		*d = *r
		return d
	}
	d.method = methodString(r.live.Method)
	d.path = string(r.live.Path)
	d.rawQuery = string(r.live.RawQuery)
	if ps := &r.live.ps; ps.n > 0 {
		d.params = make([]string, 0, 2*ps.n)
		for i := 0; i < ps.n; i++ {
			d.params = append(d.params, ps.names[i], string(ps.vals[i]))
		}
	}
	if keepHeaders {
		r.live.VisitHeaders(func(name, value []byte) {
			d.head = append(append(append(append(d.head, name...), ": "...), value...), crlf...)
		})
	}
	return d
}

// openRequest is the request a new Socket or Stream keeps: a detached copy,
// with the headers while OnOpen runs (or for good with KeepHeaders).
func openRequest(r *Request, onOpen, keepHeaders bool) *Request {
	return r.detach(keepHeaders || onOpen)
}

// withoutHeaders returns a copy of a detached request without its headers.
func (r *Request) withoutHeaders() *Request {
	d := *r
	d.head = nil
	return &d
}

// ResponseWriter collects a plain HTTP response. The server writes it when the
// handler returns, with Date, Content-Length and Connection headers of its own.
type ResponseWriter struct {
	status int
	header []byte
	body   []byte
	ctype  bool

	deferred func(*ResponseWriter) // set by Defer
}

func (w *ResponseWriter) reset() {
	w.status = 0
	w.header = w.header[:0]
	w.body = w.body[:0]
	w.ctype = false
	w.deferred = nil
}

// SetHeader adds a response header. Names and values containing CR, LF or
// NUL are dropped, so nothing a client sent can inject headers.
func (w *ResponseWriter) SetHeader(name, value string) {
	if strings.ContainsAny(name, "\r\n\x00:") || strings.ContainsAny(value, "\r\n\x00") {
		return
	}
	if strings.EqualFold(name, "Content-Type") {
		w.ctype = true
	}
	w.header = http1.AppendHeader(w.header, name, value)
}

// WriteHeader sets the status code (default 200).
func (w *ResponseWriter) WriteHeader(status int) { w.status = status }

// Write appends to the response body.
func (w *ResponseWriter) Write(p []byte) (int, error) {
	w.body = append(w.body, p...)
	return len(p), nil
}

// WriteString appends to the response body.
func (w *ResponseWriter) WriteString(s string) (int, error) {
	w.body = append(w.body, s...)
	return len(s), nil
}

// statusCode returns the status the response goes out with.
func (w *ResponseWriter) statusCode() int {
	if w.status == 0 {
		return 200
	}
	return w.status
}

// appendTo serialises the response.
func (w *ResponseWriter) appendTo(dst []byte, head, keepAlive bool) []byte {
	dst = http1.AppendStatusLine(dst, w.statusCode())
	dst = http1.AppendDate(dst)
	if !w.ctype && len(w.body) > 0 {
		dst = http1.AppendHeader(dst, "Content-Type", "text/plain; charset=utf-8")
	}
	dst = append(dst, w.header...)
	dst = append(dst, "Content-Length: "...)
	dst = strconv.AppendInt(dst, int64(len(w.body)), 10)
	dst = append(dst, crlf...)
	if !keepAlive {
		dst = append(dst, "Connection: close\r\n"...)
	}
	dst = append(dst, crlf...)
	if !head {
		dst = append(dst, w.body...)
	}
	return dst
}

// methodString returns m as a string without allocating for the common
// methods.
func methodString(m []byte) string {
	switch string(m) {
	case "GET":
		return "GET"
	case "POST":
		return "POST"
	case "HEAD":
		return "HEAD"
	}
	return string(m)
}
