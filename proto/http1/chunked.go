package http1

// chunkState is where a chunkDecoder stands in the chunked coding (RFC 9112 §7.1).
type chunkState uint8

const (
	chunkSize    chunkState = iota // the hex digits of a chunk size
	chunkSizeWS                    // whitespace after the digits
	chunkExt                       // a chunk extension, up to the CR
	chunkSizeLF                    // the LF ending a size line
	chunkData                      // chunk data; size bytes are left
	chunkDataCR                    // the CR after the data
	chunkDataLF                    // the LF after the data
	trailerStart                   // the start of a trailer line, or of the final CRLF
	trailerName                    // a trailer field name
	trailerValue                   // a trailer field value, up to the CR
	trailerLF                      // the LF ending a trailer line
	chunkEndLF                     // the LF of the final CRLF
	chunkDone                      // the body is complete
)

// chunkDecoder decodes a chunked body one byte at a time, so it can stop at any byte and go
// on from there when more arrive: each byte is looked at once, however the body is split.
//
// Every byte of the body, framing included (size lines, extensions, CRLFs, trailers), is
// taken from what MaxBodyBytes allows, so a body of tiny chunks costs no more to receive than
// its limit says. Extensions and trailers also take from what the head left of
// MaxHeaderBytes, trailer fields count against MaxHeaders, and data chunks against MaxChunks.
// Size digits are capped at 16 (leading zeros included), so a size cannot overflow.
type chunkDecoder struct {
	state  chunkState
	digits uint8  // digits of the size being read
	size   uint64 // the size being read, then the data bytes left of the chunk
	left   int64  // what MaxBodyBytes leaves
	extra  int    // what MaxHeaderBytes leaves for extensions and trailers
	fields int    // trailer fields left under MaxHeaders
	chunks int    // data chunks left under MaxChunks
}

// init starts decoding the body of r, whose head has just been parsed under l.
func (d *chunkDecoder) init(r *Request, l *Limits) {
	*d = chunkDecoder{
		left:   l.MaxBodyBytes,
		extra:  l.MaxHeaderBytes - r.HeadLen,
		fields: l.MaxHeaders - len(r.fields),
		chunks: l.MaxChunks,
	}
}

// decode decodes in, appending chunk data to body, and returns the grown body and the number
// of bytes of in used: all of them with ErrNeedMore, or those up to the end of the trailer
// section with a nil error. After any other error the decoder is spent.
func (d *chunkDecoder) decode(body, in []byte) ([]byte, int, error) {
	p := 0
	for p < len(in) {
		switch d.state {
		case chunkData:
			// Bulk copy; the size line made sure the data fits in d.left.
			k := int(min(d.size, uint64(len(in)-p)))
			body = append(body, in[p:p+k]...)
			d.size -= uint64(k)
			d.left -= int64(k)
			if d.size == 0 {
				d.state = chunkDataCR
			}
			p += k
			continue
		case chunkDataCR:
			// The common case of step's CR and LF, in one go.
			if p+1 < len(in) && in[p] == '\r' && in[p+1] == '\n' && d.left >= 2 {
				d.state, d.digits = chunkSize, 0
				d.left -= 2
				p += 2
				continue
			}
		case chunkSize:
			// step's digits, without a call each; the 17th digit, if any, goes to step.
			for ; p < len(in) && d.digits < 16; p++ {
				v := unhex(in[p])
				if v > 15 {
					break
				}
				d.digits++
				d.size = d.size<<4 | v
				if d.left--; d.left < 0 || d.size > uint64(d.left) {
					return body, 0, ErrBodyTooLarge
				}
			}
			if p == len(in) {
				continue
			}
			// step's CRLF ending a size line without extension, in one go.
			if p+1 < len(in) && in[p] == '\r' && in[p+1] == '\n' && d.digits > 0 && d.left >= 2 && d.size <= uint64(d.left-2) {
				if err := d.countChunk(); err != nil {
					return body, 0, err
				}
				d.left -= 2
				p += 2
				d.startData()
				continue
			}
		}
		if err := d.step(in[p]); err != nil {
			return body, 0, err
		}
		p++
		if d.state == chunkDone {
			return body, p, nil
		}
	}
	return body, len(in), ErrNeedMore
}

// step takes one framing byte. Syntax is checked before limits, so a malformed line is a 400
// even when it is also too long.
func (d *chunkDecoder) step(c byte) error {
	extra := false // whether c also counts against the extension and trailer allowance
	switch d.state {
	case chunkSize:
		if v := unhex(c); v <= 15 {
			if d.digits++; d.digits > 16 {
				return errChunkSize
			}
			d.size = d.size<<4 | v
			break
		}
		if d.digits == 0 {
			return errChunkSize
		}
		if err := d.countChunk(); err != nil {
			return err
		}
		fallthrough // the byte after the digits
	case chunkSizeWS:
		switch c {
		case ' ', '\t':
			d.state = chunkSizeWS
		case ';':
			d.state = chunkExt
		case '\r':
			d.state = chunkSizeLF
		case '\n':
			return errBareLF
		default:
			return errChunkSize
		}
		extra = c != '\r'
	case chunkExt:
		if err := d.untilCR(c, chunkSizeLF, errChunkSize); err != nil {
			return err
		}
		extra = c != '\r'
	case chunkSizeLF:
		if c != '\n' {
			return errBareCR
		}
		d.startData()
	case chunkDataCR:
		if c != '\r' {
			return errChunkData
		}
		d.state = chunkDataLF
	case chunkDataLF:
		if c != '\n' {
			return errChunkData
		}
		d.state, d.digits = chunkSize, 0
	case trailerStart:
		switch {
		case c == '\r':
			d.state = chunkEndLF
		case isToken[c]:
			if d.fields--; d.fields < 0 {
				return ErrHeadersTooLarge
			}
			d.state = trailerName
		case c == '\n':
			return errBareLF
		case c == ' ' || c == '\t':
			return errObsFold
		default:
			return errFieldName
		}
		extra = true
	case trailerName:
		switch {
		case c == ':':
			d.state = trailerValue
		case c == ' ' || c == '\t':
			return errSpaceBeforeColon
		case !isToken[c]:
			return errFieldName
		}
		extra = true
	case trailerValue:
		if err := d.untilCR(c, trailerLF, errFieldValue); err != nil {
			return err
		}
		extra = true
	case trailerLF:
		if c != '\n' {
			return errBareCR
		}
		d.state, extra = trailerStart, true
	case chunkEndLF:
		if c != '\n' {
			return errBareCR
		}
		d.state, extra = chunkDone, true
	}
	if extra {
		if d.extra--; d.extra < 0 {
			return ErrHeadersTooLarge
		}
	}
	if d.left--; d.left < 0 || d.size > uint64(d.left) {
		return ErrBodyTooLarge
	}
	return nil
}

// countChunk counts a size line's chunk, once its digits are read, against MaxChunks; the
// last chunk (size 0) is not counted.
func (d *chunkDecoder) countChunk() error {
	if d.size > 0 {
		if d.chunks--; d.chunks < 0 {
			return errTooManyChunks
		}
	}
	return nil
}

// startData moves past a size line: to the chunk's data, or after the last chunk to the
// trailer section.
func (d *chunkDecoder) startData() {
	d.state = chunkData
	if d.size == 0 {
		d.state = trailerStart
	}
}

// untilCR takes a byte of a line that ends in CRLF and holds no other control byte (bad is
// the error for one), moving to next on the CR.
func (d *chunkDecoder) untilCR(c byte, next chunkState, bad *Error) error {
	switch {
	case c == '\r':
		d.state = next
	case c == '\n':
		return errBareLF
	case isCTL(c):
		return bad
	}
	return nil
}

// setChunkedBody sets Body once the chunked body is complete.
func (r *Request) setChunkedBody() {
	r.Body = r.chunked[:len(r.chunked):len(r.chunked)]
	if r.Body == nil {
		r.Body = []byte{} // present but empty, unlike a request without a body
	}
}
