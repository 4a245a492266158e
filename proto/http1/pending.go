package http1

// Pending is a request whose chunked body is still arriving, kept between reads so that the
// body is decoded once, in time linear in its size, however it is split. Parse alone is
// stateless: fed a growing buffer, it decodes the body from its start on every call, which a
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
}

// Start begins a request whose head is complete and whose chunked body is not: Parse has
// returned ErrNeedMore with r.HeadLen > 0 and r.Chunked for buf. Start parses the head again,
// from a copy, and returns its length: the caller drops that many bytes from its input and
// passes what follows to Feed.
func (p *Pending) Start(buf []byte, lim *Limits) (int, error) {
	l := lim.withDefaults()
	p.head = append(p.head[:0], buf[:min(len(buf), l.MaxHeaderBytes)]...)
	p.req.Reset()
	n, err := p.req.parseHead(p.head, &l)
	if err != nil {
		return 0, err
	}
	if !p.req.Chunked {
		panic("http1: Pending.Start on a request without a chunked body")
	}
	p.dec.init(&p.req, &l)
	return n, nil
}

// Feed decodes in, the next bytes of the body, and returns how many of them it used: all with
// ErrNeedMore, or those up to the end of the request with a nil error, after which the
// request's Body is set; what follows belongs to the next request. Any other error is an
// *Error, as from Parse, and ends the request.
func (p *Pending) Feed(in []byte) (int, error) {
	body, n, err := p.dec.decode(p.req.chunked, in)
	p.req.chunked = body
	if err != nil {
		return n, err
	}
	p.req.setChunkedBody()
	return n, nil
}

// Request returns the request being received: its head from Start on, its Body once Feed has
// returned nil. It is valid until the next Start.
func (p *Pending) Request() *Request { return &p.req }
