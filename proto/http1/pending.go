package http1

// Pending is a request whose body is still arriving, kept between reads so that the body is
// taken once, in time linear in its size, however it is split. Parse alone is stateless: fed
// a growing buffer, it parses the request again on every call (for a chunked body, decoding
// it from its start), and the caller keeps the whole raw body buffered meanwhile, which a
// client sending a large body in many small pieces turns into quadratic work.
//
// Start takes the head off the input and Feed the body as it arrives, each copying what it
// keeps (the head's bytes, the body's data), so the caller drops every byte it has fed rather
// than buffering the raw body. A Pending is reusable; after warm-up it allocates only for a
// body larger than any before.
type Pending struct {
	req  Request
	head []byte // a copy of the head, which req's fields alias
	dec  chunkDecoder
	left int64 // bytes of a Content-Length body still to come
}

// Start begins a request whose head is complete and whose body is not: Parse has returned
// ErrNeedMore with r.HeadLen > 0 for buf. Start parses the head again, from a copy, and
// returns its length: the caller drops that many bytes from its input and passes what follows
// to Feed.
func (p *Pending) Start(buf []byte, lim *Limits) (int, error) {
	l := lim.withDefaults()
	p.head = append(p.head[:0], buf[:min(len(buf), l.MaxHeaderBytes)]...)
	p.req.Reset()
	n, err := p.req.parseHead(p.head, &l)
	if err != nil {
		return 0, err
	}
	switch {
	case p.req.Chunked:
		p.dec.init(&p.req, &l)
	case p.req.ContentLength > 0:
		p.left = p.req.ContentLength // within MaxBodyBytes, or Parse would have refused it
	default:
		panic("http1: Pending.Start on a request without a body to wait for")
	}
	return n, nil
}

// Feed takes in, the next bytes of the body, and returns how many of them it used: all with
// ErrNeedMore, or those up to the end of the request with a nil error, after which the
// request's Body is set; what follows belongs to the next request. Any other error is an
// *Error, as from Parse, and ends the request.
func (p *Pending) Feed(in []byte) (int, error) {
	r := &p.req
	if !r.Chunked {
		k := int(min(p.left, int64(len(in))))
		r.chunked = append(r.chunked, in[:k]...)
		if p.left -= int64(k); p.left > 0 {
			return k, ErrNeedMore
		}
		r.Body = r.chunked[:len(r.chunked):len(r.chunked)]
		return k, nil
	}
	body, n, err := p.dec.decode(r.chunked, in)
	r.chunked = body
	if err != nil {
		return n, err
	}
	r.setChunkedBody()
	return n, nil
}

// Request returns the request being received: its head from Start on, its Body once Feed has
// returned nil. It is valid until the next Start.
func (p *Pending) Request() *Request { return &p.req }
