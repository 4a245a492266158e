package server

import (
	"iter"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"unsafe"

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
	live  *liveRequest // the loop's request being handled; nil once detached
	user  string
	value any

	// A detached request's method, path, raw query, remote address and
	// route parameters, in one string with '\n' between the fields (none
	// can hold one): "METHOD\nPATH\nQUERY\nREMOTE[\nNAME\nVALUE…]", then,
	// when the headers are kept, a NUL and the "Name: value\r\n" lines (a
	// request target holds no byte below '!', so the NUL is unambiguous).
	fields string
	// peer is an IPv4 peer's address and port, packed (peerIPv4 set), when
	// REMOTE in fields is empty: fields is then the same for every
	// connection to the same URL, and the loop shares one copy of it
	// (loop.intern). So an idle connection's Request is 64 bytes (its size
	// class) and no string of its own.
	peer uint64
}

// peerIPv4 marks Request.peer as set: address << 16 | port below it.
const peerIPv4 = 1 << 63

// packPeer packs an IPv4 address and port into a Request.peer (0 for
// anything else).
func packPeer(ap netip.AddrPort) uint64 {
	a := ap.Addr()
	if !a.Is4() {
		return 0
	}
	b := a.As4()
	return peerIPv4 | uint64(b[0])<<40 | uint64(b[1])<<32 | uint64(b[2])<<24 | uint64(b[3])<<16 | uint64(ap.Port())
}

// unpackPeer is packPeer's inverse.
func unpackPeer(p uint64) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{byte(p >> 40), byte(p >> 32), byte(p >> 24), byte(p >> 16)}), uint16(p))
}

// Indexes of Request.fields.
const (
	fieldMethod = iota
	fieldPath
	fieldQuery
	fieldRemote
	fieldParams // the first parameter name; its value follows
)

// headSep separates a detached request's fields from its kept headers.
const headSep = '\x00'

// field returns field i of a detached request.
func (r *Request) field(i int) string {
	s := r.fields
	if j := strings.IndexByte(s, headSep); j >= 0 {
		s = s[:j]
	}
	for ; i > 0; i-- {
		j := strings.IndexByte(s, '\n')
		if j < 0 {
			return ""
		}
		s = s[j+1:]
	}
	if j := strings.IndexByte(s, '\n'); j >= 0 {
		return s[:j]
	}
	return s
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
	return r.field(fieldMethod)
}

// Path returns the request path as sent, without the query.
func (r *Request) Path() string {
	if r.live != nil {
		return string(r.live.Path)
	}
	return r.field(fieldPath)
}

// RawQuery returns the query string without the leading '?'.
func (r *Request) RawQuery() string {
	if r.live != nil {
		return string(r.live.RawQuery)
	}
	return r.field(fieldQuery)
}

// Param returns the value of a :name or *name segment of the route pattern.
func (r *Request) Param(name string) string {
	if r.live != nil {
		v, _ := r.live.ps.get(name)
		return string(v)
	}
	for i := fieldParams; ; i += 2 {
		n := r.field(i)
		if n == "" {
			return ""
		}
		if n == name {
			return r.field(i + 1)
		}
	}
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
	for v := range r.QueryValues(name) {
		return v, true
	}
	return "", false
}

// QueryAll returns every decoded value of the query parameter name, in order
// (nil if it has none).
func (r *Request) QueryAll(name string) []string {
	n := 0
	for range r.QueryValues(name) {
		n++
	}
	if n == 0 {
		return nil
	}
	vs := make([]string, 0, n)
	for v := range r.QueryValues(name) {
		if r.live != nil {
			v = strings.Clone(v) // a view of the input: the caller keeps it
		}
		vs = append(vs, v)
	}
	return vs
}

// QueryValues yields every decoded value of the query parameter name, in
// order, allocating nothing for a value without escapes. During a handler,
// an Authorize or an OnOpen that reads the connection's input (see Request)
// such a value is a view of that input, valid until the callback returns,
// like Body: copy one to keep it (strings.Clone). A detached request's
// values are its own.
func (r *Request) QueryValues(name string) iter.Seq[string] {
	return func(yield func(string) bool) { // inlined where it is ranged over: no allocation
		for q := r.rawQueryView(); ; {
			v, ok := nextQueryValue(&q, name)
			if !ok || !yield(v) {
				return
			}
		}
	}
}

// rawQueryView is RawQuery without a copy: a view of the input buffer
// during a handler.
func (r *Request) rawQueryView() string {
	if r.live != nil {
		q := r.live.RawQuery
		return unsafe.String(unsafe.SliceData(q), len(q))
	}
	return r.field(fieldQuery)
}

// nextQueryValue returns the next value of name in the raw query *q and
// advances *q past it; false when there is none. It decodes as
// url.ParseQuery does (a pair it cannot decode, or with a ';', is skipped),
// without its map: a value without escapes is a substring of *q (a detached
// request's query is part of its fields string, so reading it allocates
// nothing).
func nextQueryValue(q *string, name string) (string, bool) {
	for *q != "" {
		var pair string
		pair, *q, _ = strings.Cut(*q, "&")
		if pair == "" || strings.IndexByte(pair, ';') >= 0 {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		if k, ok := queryUnescape(k); !ok || k != name {
			continue
		}
		if v, ok := queryUnescape(v); ok {
			return v, true
		}
	}
	return "", false
}

// queryUnescape is url.QueryUnescape, with s itself when it has nothing to
// decode.
func queryUnescape(s string) (string, bool) {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, '+') < 0 {
		return s, true
	}
	u, err := url.QueryUnescape(s)
	return u, err == nil
}

// Header returns the first value of the named header (case-insensitive), or
// "" when it is absent or was not kept.
func (r *Request) Header(name string) string {
	if r.live != nil {
		return string(r.live.Header(name))
	}
	_, rest, _ := strings.Cut(r.fields, string(headSep))
	for rest != "" {
		line, after, _ := strings.Cut(rest, "\r\n")
		rest = after
		colon := strings.IndexByte(line, ':')
		if colon == len(name) && strings.EqualFold(line[:colon], name) {
			return strings.TrimSpace(line[colon+1:])
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
	if r.live == nil {
		if r.peer != 0 {
			return unpackPeer(r.peer).String()
		}
		return r.field(fieldRemote)
	}
	return remote(r.live.c)
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

// detach copies what a long-lived connection keeps of the request: one
// string sized exactly (no growth, no garbage but the Request itself).
func (r *Request) detach(keepHeaders bool) *Request {
	var d *Request
	if keepHeaders {
		d = &new(headedRequest).Request
	} else {
		d = new(Request)
	}
	d.user, d.value = r.user, r.value
	if r.live == nil {
		*d = *r
		return d
	}
	lr := r.live
	// The remote address: packed when it is IPv4 (and the fields string
	// shared), else formatted on the stack (a.String() would make a string
	// only to copy it).
	var rbuf [64]byte
	ra := rbuf[:0]
	if a, ok := remoteTCP(lr.c); ok {
		if d.peer = packPeer(a); d.peer == 0 {
			ra = a.AppendTo(ra)
		}
	} else {
		ra = append(ra, remote(lr.c)...)
	}
	if !keepHeaders && d.peer != 0 {
		// Built on the stack, shared from the table.
		var fbuf [128]byte
		d.fields = interned.get(lr.appendFields(fbuf[:0], ra, false))
		return d
	}
	ps := &lr.ps
	n := len(lr.Method) + len(lr.Path) + len(lr.RawQuery) + len(ra) + 3
	for i := 0; i < ps.n; i++ {
		n += len(ps.names[i]) + len(ps.vals[i]) + 2
	}
	if keepHeaders {
		n++
		lr.VisitHeaders(func(name, value []byte) { n += len(name) + len(value) + 4 })
	}
	b := lr.appendFields(make([]byte, 0, n), ra, keepHeaders)
	d.fields = unsafe.String(unsafe.SliceData(b), len(b))
	return d
}

// appendFields appends a detached request's fields string (Request.fields),
// with remote as REMOTE.
func (lr *liveRequest) appendFields(b, remote []byte, keepHeaders bool) []byte {
	ps := &lr.ps
	b = append(b, lr.Method...)
	b = append(b, '\n')
	b = append(b, lr.Path...)
	b = append(b, '\n')
	b = append(b, lr.RawQuery...)
	b = append(b, '\n')
	b = append(b, remote...)
	for i := 0; i < ps.n; i++ {
		b = append(b, '\n')
		b = append(b, ps.names[i]...)
		b = append(b, '\n')
		b = append(b, ps.vals[i]...)
	}
	if keepHeaders {
		b = append(b, headSep)
		lr.VisitHeaders(func(name, value []byte) {
			b = append(b, name...)
			b = append(b, ": "...)
			b = append(b, value...)
			b = append(b, "\r\n"...)
		})
	}
	return b
}

// maxInterned bounds the table of shared request fields: when it is full it
// starts again, so it holds no more than this many strings that no
// connection uses (a URL with a token in its query is shared with nobody,
// and not kept long either).
const maxInterned = 512

// interned is the table of request fields shared by the detached Requests of
// connections to the same URL from IPv4 peers (Request.peer).
var interned internTable

type internTable struct {
	mu sync.Mutex
	m  map[string]string
}

// get returns b as a string, the same string for the same bytes while it is
// in the table.
func (t *internTable) get(b []byte) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if s, ok := t.m[string(b)]; ok {
		return s
	}
	s := string(b)
	if t.m == nil || len(t.m) >= maxInterned {
		t.m = make(map[string]string)
	}
	t.m[s] = s
	return s
}

// remoteTCP returns the peer's address of a TCP connection without making a
// string of it (false for a zoned IPv6 peer or a non-IP one).
func remoteTCP(c *conn) (netip.AddrPort, bool) {
	if c == nil || c.gc == nil {
		return netip.AddrPort{}, false
	}
	var ap netip.AddrPort
	if p, ok := c.gc.(addrPorter); ok {
		// The vendored gnet reads it without allocating (third_party/gnet,
		// PATCHES.md); RemoteAddr makes a *net.TCPAddr on each call.
		if ap = p.RemoteAddrPort(); !ap.IsValid() || ap.Addr().Zone() != "" {
			return netip.AddrPort{}, false
		}
	} else {
		a, ok := c.gc.RemoteAddr().(*net.TCPAddr)
		if !ok || a == nil || a.Zone != "" {
			return netip.AddrPort{}, false
		}
		ap = a.AddrPort()
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), true
}

// addrPorter is a gnet.Conn that gives its peer as a netip.AddrPort (the
// vendored gnet's conn.RemoteAddrPort: the zero AddrPort for a non-IP peer).
type addrPorter interface{ RemoteAddrPort() netip.AddrPort }

// headedRequest is a Request allocated apart from the headerless ones every
// idle connection keeps: most copies with headers live only while OnOpen
// runs, and as garbage among long-lived objects of their own size class
// they would leave holes in those objects' spans (RSS) after a collection.
// The padding puts it in the 80-byte class, where no per-connection object
// lives (ARCHITECTURE.md, "Memory per connection").
type headedRequest struct {
	Request
	_ [16]byte
}

// withoutHeaders returns a copy of a detached request without its headers
// (and without their bytes: the fields are copied out, not resliced).
func (r *Request) withoutHeaders() *Request {
	d := *r
	if i := strings.IndexByte(d.fields, headSep); i >= 0 {
		if d.peer != 0 {
			d.fields = interned.get(unsafe.Slice(unsafe.StringData(d.fields), i))
		} else {
			d.fields = strings.Clone(d.fields[:i])
		}
	}
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
	dst = append(dst, "\r\n"...)
	if !keepAlive {
		dst = append(dst, "Connection: close\r\n"...)
	}
	dst = append(dst, "\r\n"...)
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
