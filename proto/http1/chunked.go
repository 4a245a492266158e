package http1

// parseChunked de-chunks the body starting at p (RFC 9112 §7.1) into r's scratch buffer and
// returns the index just past the trailer section. Chunk extensions and trailer fields are
// checked for syntax and skipped; their bytes count against what the head left of
// MaxHeaderBytes, and trailer fields against MaxHeaders, so a body of tiny chunks or endless
// trailers cannot grow the buffered input without bound. Size digits are capped at 16 (leading
// zeros included) for the same reason.
func (r *Request) parseChunked(buf []byte, p int, l *Limits) (int, error) {
	body := r.chunked[:0]
	budget := l.MaxHeaderBytes - r.HeadLen
	for {
		var size uint64
		digits := 0
		for ; p < len(buf); p++ {
			v := unhex(buf[p])
			if v > 15 {
				break
			}
			if digits++; digits > 16 { // 16 hex digits fill a uint64: size cannot overflow
				return 0, errChunkSize
			}
			if size = size<<4 | v; size > uint64(l.MaxBodyBytes)-uint64(len(body)) {
				return 0, ErrBodyTooLarge
			}
		}
		if p == len(buf) {
			return 0, ErrNeedMore
		}
		if digits == 0 {
			return 0, errChunkSize
		}
		var err error
		if p, err = skipChunkExt(buf, p, &budget); err != nil {
			return 0, err
		}
		if p+1 >= len(buf) {
			return 0, ErrNeedMore
		}
		if buf[p+1] != '\n' {
			return 0, errBareCR
		}
		p += 2
		if size == 0 {
			break
		}
		if uint64(len(buf)-p) < size+2 {
			return 0, ErrNeedMore
		}
		end := p + int(size)
		if buf[end] != '\r' || buf[end+1] != '\n' {
			return 0, errChunkData
		}
		body = append(body, buf[p:end]...)
		r.chunked = body // keep the grown buffer even if this parse ends in ErrNeedMore
		p = end + 2
	}

	limitEnd := p + budget
	trailers := buf[:min(len(buf), limitEnd)]
	fields := len(r.fields)
	for {
		f, next, err := scanField(trailers, p)
		if err != nil {
			return 0, err
		}
		if next < 0 {
			if len(buf) >= limitEnd {
				return 0, ErrHeadersTooLarge
			}
			return 0, ErrNeedMore
		}
		p = next
		if f.nameEnd == 0 {
			break
		}
		if fields++; fields > l.MaxHeaders {
			return 0, ErrHeadersTooLarge
		}
	}
	r.Body = body[:len(body):len(body)]
	if r.Body == nil {
		r.Body = []byte{} // present but empty, unlike a request without a body
	}
	return p, nil
}

// skipChunkExt skips optional whitespace and chunk extensions after a chunk size and returns
// the index of the CR ending the line, or len(buf) when it has not arrived. Each byte skipped
// is taken from budget.
func skipChunkExt(buf []byte, p int, budget *int) (int, error) {
	for ; p < len(buf) && (buf[p] == ' ' || buf[p] == '\t'); p++ {
		if *budget--; *budget < 0 {
			return 0, ErrHeadersTooLarge
		}
	}
	if p < len(buf) && buf[p] != '\r' && buf[p] != ';' {
		if buf[p] == '\n' {
			return 0, errBareLF
		}
		return 0, errChunkSize
	}
	for ; p < len(buf) && buf[p] != '\r'; p++ {
		if isCTL(buf[p]) {
			if buf[p] == '\n' {
				return 0, errBareLF
			}
			return 0, errChunkSize
		}
		if *budget--; *budget < 0 {
			return 0, ErrHeadersTooLarge
		}
	}
	return p, nil
}
