package http1

import "math"

// Limits bounds what Parse accepts from one request. The zero value (or a nil *Limits) means
// the defaults; a field <= 0 takes its default.
type Limits struct {
	// MaxRequestLine bounds the request line, CRLF and any empty lines before it included.
	// Default 8 KiB; over it Parse answers 414 as soon as that many bytes hold no LF.
	MaxRequestLine int
	// MaxHeaderBytes bounds the whole head (request line, fields, final CRLF). Chunk
	// extensions and trailers of a chunked body are counted against what the head left of it.
	// Default 16 KiB; over it Parse answers 431 as soon as the bytes are there.
	MaxHeaderBytes int
	// MaxHeaders bounds the number of field lines, trailers included. Default 64; over it 431.
	MaxHeaders int
	// MaxBodyBytes bounds the body. A chunked body's framing (size lines, extensions, CRLFs,
	// trailers) counts too, so what a client sends for a body never exceeds it, however small
	// its chunks. Default 1 MiB; over it Parse answers 413 from Content-Length or the chunk
	// size line, before the body itself arrives.
	MaxBodyBytes int64
	// MaxChunks bounds the data chunks of a chunked body. Default 65536 (16-byte chunks on
	// average for a 1 MiB body); over it Parse answers 413.
	MaxChunks int
}

const (
	defaultMaxRequestLine = 8 << 10
	defaultMaxHeaderBytes = 16 << 10
	defaultMaxHeaders     = 64
	defaultMaxBodyBytes   = 1 << 20
	defaultMaxChunks      = 1 << 16
	// maxHeadLimit keeps every head offset within the uint32 spans of field.
	maxHeadLimit = math.MaxUint32 >> 1
)

// withDefaults returns l with every unset field at its default.
func (l *Limits) withDefaults() Limits {
	var v Limits
	if l != nil {
		v = *l
	}
	if v.MaxRequestLine <= 0 {
		v.MaxRequestLine = defaultMaxRequestLine
	}
	if v.MaxHeaderBytes <= 0 {
		v.MaxHeaderBytes = defaultMaxHeaderBytes
	}
	v.MaxRequestLine = min(v.MaxRequestLine, maxHeadLimit)
	v.MaxHeaderBytes = min(v.MaxHeaderBytes, maxHeadLimit)
	if v.MaxHeaders <= 0 {
		v.MaxHeaders = defaultMaxHeaders
	}
	if v.MaxBodyBytes <= 0 {
		v.MaxBodyBytes = defaultMaxBodyBytes
	}
	if v.MaxChunks <= 0 {
		v.MaxChunks = defaultMaxChunks
	}
	return v
}

// Request is one parsed request. It is meant to be reused: Parse resets it, and after a few
// requests it allocates nothing. Its byte slices alias the buffer given to Parse (or, for a
// chunked body, a scratch buffer owned by the Request), so they are valid only while that
// buffer is and until the next Parse or Reset. Treat them as read-only.
type Request struct {
	Method   []byte
	URI      []byte // the request-target as sent
	Path     []byte // raw, not percent-decoded; "*" for asterisk-form, "/" for an empty absolute-form path
	RawQuery []byte // after '?', without it; nil when the target has no '?'
	Major    int
	Minor    int

	// KeepAlive is whether the connection may carry another request: HTTP/1.1 unless
	// "Connection: close", HTTP/1.0 only with "Connection: keep-alive".
	KeepAlive bool
	// ContentLength is the Content-Length value, -1 when the header is absent (chunked or no
	// body).
	ContentLength int64
	Chunked       bool // Transfer-Encoding: chunked
	Expect100     bool // HTTP/1.1 with "Expect: 100-continue"

	// HeadLen is the size of the head (from the start of buf, empty lines skipped before the
	// request line included, through the blank line ending the fields). It is set as soon
	// as the head is complete, even when Parse returns ErrNeedMore because the body is still
	// arriving, so a server can send "100 Continue" once or refuse the body early.
	HeadLen int
	// Body is the request body, de-chunked; nil when the request has none.
	Body []byte

	head    []byte  // the bytes fields index into
	fields  []field // header fields in arrival order
	chunked []byte  // scratch for de-chunked bodies (and a Pending's copied ones), kept across requests
}

// field locates one header field line inside Request.head. uint32 spans keep the table small
// and free of pointers, so filling it costs no GC write barriers.
type field struct {
	nameStart, nameEnd, valueStart, valueEnd uint32
}

func (r *Request) name(f *field) []byte  { return r.head[f.nameStart:f.nameEnd:f.nameEnd] }
func (r *Request) value(f *field) []byte { return r.head[f.valueStart:f.valueEnd:f.valueEnd] }

// Reset clears r for reuse, keeping its buffers.
func (r *Request) Reset() {
	*r = Request{
		ContentLength: -1,
		fields:        r.fields[:0],
		chunked:       r.chunked[:0],
	}
}

// Header returns the value of the first field named name (ASCII case-insensitive), with
// surrounding whitespace removed, or nil when there is none.
func (r *Request) Header(name string) []byte {
	for i := range r.fields {
		f := &r.fields[i]
		if int(f.nameEnd-f.nameStart) == len(name) && equalFold(r.name(f), name) {
			return r.value(f)
		}
	}
	return nil
}

// HasToken reports whether any field named name carries token as one element of its
// comma-separated list, ignoring ASCII case and whitespace around elements; for example
// HasToken("Connection", "upgrade") or HasToken("Upgrade", "websocket"). Elements are compared
// whole: "websocket/13" does not match "websocket".
func (r *Request) HasToken(name, token string) bool {
	for i := range r.fields {
		f := &r.fields[i]
		if int(f.nameEnd-f.nameStart) == len(name) && equalFold(r.name(f), name) && hasElement(r.value(f), token) {
			return true
		}
	}
	return false
}

// hasElement reports whether the comma-separated list v has an element equal to token.
func hasElement(v []byte, token string) bool {
	for len(v) > 0 {
		elem := v
		next := []byte(nil)
		for i, c := range v {
			if c == ',' {
				elem, next = v[:i], v[i+1:]
				break
			}
		}
		if equalFold(trimOWS(elem), token) {
			return true
		}
		v = next
	}
	return false
}

// VisitHeaders calls fn for every header field in arrival order. name and value alias the
// request buffer and are valid only during the call.
func (r *Request) VisitHeaders(fn func(name, value []byte)) {
	for i := range r.fields {
		fn(r.name(&r.fields[i]), r.value(&r.fields[i]))
	}
}
