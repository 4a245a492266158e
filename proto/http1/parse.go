package http1

import (
	"bytes"
	"math"
)

// Parse parses one request from the start of buf into r and returns the number of bytes it
// occupies, head and body.
//
// Parse is stateless: when buf holds only a prefix of a request it returns ErrNeedMore, and
// the caller calls it again from the start once more bytes have arrived, wherever the input
// was split. That costs a re-parse per arrival, which for a body sent in many pieces adds up
// to time quadratic in its size: once the head is complete, hand the body to a Pending
// instead. Parse never modifies buf. Every other error is an *Error carrying the status to
// answer with before closing the connection; limits are enforced as soon as the bytes seen
// exceed them, not when the client finishes sending. After ErrNeedMore r holds the parsed head
// once r.HeadLen is non-zero; after any other error r's contents are unspecified.
//
// Lines must end in CRLF: a bare LF or a bare CR is rejected with 400 rather than tolerated,
// so no two parsers in front of each other can disagree on where a line ends. Empty lines
// before the request line are skipped (RFC 9112 §2.2).
func Parse(buf []byte, r *Request, lim *Limits) (n int, err error) {
	r.Reset()
	l := lim.withDefaults()
	pos, err := r.parseHead(buf, &l)
	if err != nil {
		return 0, err
	}
	switch {
	case r.Chunked:
		var d chunkDecoder
		d.init(r, &l)
		body, n, err := d.decode(r.chunked, buf[pos:])
		r.chunked = body // keep the grown buffer even if this parse ends in ErrNeedMore
		if err != nil {
			return 0, err
		}
		r.setChunkedBody()
		return pos + n, nil
	case r.ContentLength > l.MaxBodyBytes:
		return 0, ErrBodyTooLarge
	case r.ContentLength >= 0:
		if int64(len(buf)-pos) < r.ContentLength {
			return 0, ErrNeedMore
		}
		end := pos + int(r.ContentLength)
		r.Body = buf[pos:end:end]
		return end, nil
	}
	return pos, nil
}

// parseHead parses the head at the start of buf into r, which must be reset, and returns its
// length (r.HeadLen).
func (r *Request) parseHead(buf []byte, l *Limits) (int, error) {
	start := 0
	for start+1 < len(buf) && buf[start] == '\r' && buf[start+1] == '\n' {
		start += 2
	}
	pos, err := r.parseRequestLine(buf, start, l.MaxRequestLine)
	if err != nil {
		return 0, err
	}

	var h headState
	head := buf[:min(len(buf), l.MaxHeaderBytes)]
	r.head = head
	for {
		f, next, err := scanField(head, pos)
		if err != nil {
			return 0, err
		}
		if next < 0 {
			if len(buf) >= l.MaxHeaderBytes {
				return 0, ErrHeadersTooLarge
			}
			return 0, ErrNeedMore
		}
		pos = next
		if f.nameEnd == 0 {
			break // the empty line ending the head
		}
		if len(r.fields) == l.MaxHeaders {
			return 0, ErrHeadersTooLarge
		}
		r.fields = append(r.fields, f)
		if err := h.note(head[f.nameStart:f.nameEnd], head[f.valueStart:f.valueEnd], r); err != nil {
			return 0, err
		}
	}
	r.head = buf[:pos:pos]
	r.HeadLen = pos
	if err := h.finish(r); err != nil {
		return 0, err
	}
	return pos, nil
}

// parseRequestLine parses the request line starting at start and returns the index just past
// its LF. The method is checked byte by byte before the line is complete, so a client speaking
// another protocol (a TLS ClientHello, say) is refused at once instead of waiting for a LF.
func (r *Request) parseRequestLine(buf []byte, start, maxLine int) (int, error) {
	line := buf[:min(len(buf), maxLine)]
	incomplete := ErrNeedMore
	if len(buf) >= maxLine {
		incomplete = ErrURITooLong
	}

	i := start
	for i < len(line) && isToken[line[i]] {
		i++
	}
	if i >= len(line) || i == start && line[i] == '\r' && i+1 == len(buf) {
		return 0, incomplete // the second case may yet be an empty line to skip
	}
	if line[i] != ' ' || i == start {
		if line[i] == '\n' {
			return 0, errBareLF
		}
		return 0, errMethod
	}
	r.Method = line[start:i:i]

	targetStart := i + 1
	lf := bytes.IndexByte(line[targetStart:], '\n')
	if lf < 0 {
		return 0, incomplete
	}
	lf += targetStart
	if line[lf-1] != '\r' {
		return 0, errBareLF
	}
	rest := line[targetStart : lf-1]
	sp := bytes.IndexByte(rest, ' ')
	if sp <= 0 {
		return 0, errRequestLine
	}
	if err := r.parseVersion(rest[sp+1:]); err != nil {
		return 0, err
	}
	if err := r.parseTarget(rest[:sp:sp]); err != nil {
		return 0, err
	}
	return lf + 1, nil
}

// parseVersion accepts "HTTP/" DIGIT "." DIGIT (RFC 9112 §2.3), then only 1.0 and 1.1.
func (r *Request) parseVersion(v []byte) error {
	if len(v) != 8 || string(v[:5]) != "HTTP/" || v[6] != '.' ||
		v[5] < '0' || v[5] > '9' || v[7] < '0' || v[7] > '9' {
		return errVersionSyntax
	}
	r.Major, r.Minor = int(v[5]-'0'), int(v[7]-'0')
	if r.Major != 1 || r.Minor > 1 {
		return ErrVersion
	}
	return nil
}

// slashPath is the Path of an absolute-form target with an empty path (RFC 9112 §3.2.2). Its
// capacity is capped so an append by a careless caller cannot write into it.
var slashPath = []byte("/")[:1:1]

// parseTarget splits the request-target into Path and RawQuery after checking its form
// (RFC 9112 §3.2): origin-form, absolute-form with an http or https scheme, or asterisk-form
// for OPTIONS. authority-form (CONNECT) is not served and is malformed here.
func (r *Request) parseTarget(t []byte) error {
	if !validTarget(t) {
		return errTarget
	}
	r.URI = t
	switch {
	case t[0] == '/':
	case len(t) == 1 && t[0] == '*':
		if string(r.Method) != "OPTIONS" {
			return errTarget
		}
		r.Path = t
		return nil
	default:
		rest, ok := cutScheme(t)
		if !ok {
			return errTarget
		}
		authorityEnd := bytes.IndexAny(rest, "/?")
		if authorityEnd < 0 {
			authorityEnd = len(rest)
		}
		if authorityEnd == 0 {
			return errTarget
		}
		t = rest[authorityEnd:]
		if len(t) == 0 || t[0] == '?' {
			r.Path = slashPath
			if len(t) > 0 {
				r.RawQuery = t[1:]
			}
			return nil
		}
	}
	if q := bytes.IndexByte(t, '?'); q >= 0 {
		r.Path, r.RawQuery = t[:q:q], t[q+1:]
	} else {
		r.Path = t
	}
	return nil
}

// cutScheme removes a leading "http://" or "https://" (scheme case-insensitive).
func cutScheme(t []byte) ([]byte, bool) {
	switch {
	case len(t) > 7 && equalFold(t[:7], "http://"):
		return t[7:], true
	case len(t) > 8 && equalFold(t[:8], "https://"):
		return t[8:], true
	}
	return nil, false
}

// scanField scans the field line starting at p. It returns the index just past the line's
// LF, or -1 when b ends before the line does. The empty line ending a head comes back as a
// zero field. Every decision depends only on the bytes before it, so a prefix of an input
// fails exactly where the whole input does (or asks for more).
func scanField(b []byte, p int) (f field, next int, err error) {
	i := p
	for i < len(b) && isToken[b[i]] {
		i++
	}
	if i >= len(b) {
		return f, -1, nil
	}
	if c := b[i]; c != ':' {
		switch {
		case i > p && (c == ' ' || c == '\t'):
			return f, 0, errSpaceBeforeColon
		case i > p:
			return f, 0, errFieldName
		case c == '\r':
			if i+1 >= len(b) {
				return f, -1, nil
			}
			if b[i+1] != '\n' {
				return f, 0, errBareCR
			}
			return f, i + 2, nil
		case c == '\n':
			return f, 0, errBareLF
		case c == ' ' || c == '\t':
			return f, 0, errObsFold
		}
		return f, 0, errFieldName
	}
	if i == p {
		return f, 0, errFieldName
	}
	f.nameStart, f.nameEnd = uint32(p), uint32(i)

	i++
	for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
		i++
	}
	valueStart := i
	ctl := indexCTL(b[i:])
	if ctl < 0 {
		return f, -1, nil
	}
	i += ctl
	switch {
	case b[i] == '\n':
		return f, 0, errBareLF
	case b[i] != '\r':
		return f, 0, errFieldValue
	case i+1 >= len(b):
		return f, -1, nil
	case b[i+1] != '\n':
		return f, 0, errBareCR
	}
	valueEnd := i
	for valueEnd > valueStart && (b[valueEnd-1] == ' ' || b[valueEnd-1] == '\t') {
		valueEnd--
	}
	f.valueStart, f.valueEnd = uint32(valueStart), uint32(valueEnd)
	return f, i + 2, nil
}

// headState collects what the framing and connection fields say while the head is scanned.
type headState struct {
	hosts          int
	transferCoding int  // Transfer-Encoding lines
	chunked        bool // the last Transfer-Encoding line is exactly "chunked"
	close          bool // Connection: close
	keepAlive      bool // Connection: keep-alive
	expect100      bool
}

// note records one header field. Names are matched by length first, so the common fields that
// matter to nobody here cost one switch.
func (h *headState) note(name, value []byte, r *Request) error {
	switch len(name) {
	case 4:
		if equalFold(name, "host") {
			h.hosts++
		}
	case 6:
		if equalFold(name, "expect") && equalFold(value, "100-continue") {
			h.expect100 = true
		}
	case 10:
		if equalFold(name, "connection") {
			h.close = h.close || hasElement(value, "close")
			h.keepAlive = h.keepAlive || hasElement(value, "keep-alive")
		}
	case 14:
		if equalFold(name, "content-length") {
			if r.ContentLength >= 0 {
				return errDuplicateLength
			}
			n, ok := parseContentLength(value)
			if !ok {
				return errContentLength
			}
			r.ContentLength = n
		}
	case 17:
		if equalFold(name, "transfer-encoding") {
			h.transferCoding++
			h.chunked = equalFold(value, "chunked")
		}
	}
	return nil
}

// finish applies the rules that need the whole head (RFC 9112 §3.2, §6.1, §6.3, §9.3).
func (h *headState) finish(r *Request) error {
	if r.Minor == 1 && h.hosts != 1 || h.hosts > 1 {
		return errHost
	}
	if h.transferCoding > 0 {
		switch {
		case r.Minor == 0:
			return errTransferHTTP10
		case r.ContentLength >= 0:
			return ErrAmbiguousLength
		case h.transferCoding > 1 || !h.chunked:
			return ErrUnsupportedTransferCoding
		}
		r.Chunked = true
	}
	if r.Minor == 1 {
		r.KeepAlive = !h.close
		r.Expect100 = h.expect100
	} else {
		r.KeepAlive = h.keepAlive && !h.close
	}
	return nil
}

// parseContentLength parses 1*DIGIT, refusing anything that overflows int64.
func parseContentLength(v []byte) (int64, bool) {
	if len(v) == 0 {
		return 0, false
	}
	var n int64
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := int64(c - '0')
		if n > (math.MaxInt64-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}
