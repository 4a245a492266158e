package wsframe

import (
	"compress/flate"
	"io"
	"sync"
)

// permessage-deflate (RFC 7692) without context takeover: every message is a
// deflate stream of its own, so no (de)compressor outlives a message and both
// are pooled per process instead of held per connection (a flate.Writer is
// about 600 KiB, a reader about 40 KiB).

// syncFlushTail ends every compressed message on the wire (an empty stored
// block, §7.2.1); senders strip it and receivers append it again.
var syncFlushTail = [4]byte{0x00, 0x00, 0xff, 0xff}

// inflateTail is what the reader appends: the stripped sync-flush block plus a
// final empty stored block, so the flate reader ends with io.EOF instead of
// io.ErrUnexpectedEOF after the last byte.
var inflateTail = []byte{0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff}

// deflater is a pooled flate.Writer with the append target it writes into.
type deflater struct {
	fw  *flate.Writer
	out appendWriter
}

// appendWriter lets a flate.Writer append to a caller's slice.
type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

var deflaters = sync.Pool{New: func() any {
	d := new(deflater)
	// BestSpeed: fan-out compresses each message once, but on the publishing
	// path; flate's fast mode costs a fraction of level 6 for a few % of size.
	d.fw, _ = flate.NewWriter(&d.out, flate.BestSpeed)
	return d
}}

// Compress appends the permessage-deflate payload for payload to dst: raw
// deflate, sync-flushed, with the trailing 0x00 0x00 0xff 0xff removed
// (RFC 7692 §7.2.1). Frame it with RSV1 set on the first frame. It allocates
// nothing once the pool is warm and dst has room.
func Compress(dst, payload []byte) []byte {
	d := deflaters.Get().(*deflater)
	d.out.b = dst
	d.fw.Reset(&d.out)
	// Writes into appendWriter cannot fail.
	_, _ = d.fw.Write(payload)
	_ = d.fw.Flush()
	out := d.out.b
	d.out.b = nil
	deflaters.Put(d)
	// Flush always ends with the sync marker; strip it.
	return out[:len(out)-len(syncFlushTail)]
}

// inflater is a pooled flate reader with the source it reads from.
type inflater struct {
	fr  io.ReadCloser
	src inflateSource
}

// inflateSource feeds the compressed message and then inflateTail to the flate
// reader without copying them together (the message may alias the caller's
// read buffer, which must not be appended to). It implements io.ByteReader so
// that flate does not wrap it in a bufio.Reader.
type inflateSource struct {
	msg, tail []byte
}

func (s *inflateSource) Read(p []byte) (int, error) {
	if len(s.msg) > 0 {
		n := copy(p, s.msg)
		s.msg = s.msg[n:]
		return n, nil
	}
	if len(s.tail) > 0 {
		n := copy(p, s.tail)
		s.tail = s.tail[n:]
		return n, nil
	}
	return 0, io.EOF
}

func (s *inflateSource) ReadByte() (byte, error) {
	if len(s.msg) > 0 {
		b := s.msg[0]
		s.msg = s.msg[1:]
		return b, nil
	}
	if len(s.tail) > 0 {
		b := s.tail[0]
		s.tail = s.tail[1:]
		return b, nil
	}
	return 0, io.EOF
}

var inflaters = sync.Pool{New: func() any {
	f := new(inflater)
	f.fr = flate.NewReader(&f.src)
	return f
}}

// inflate appends the decompressed compressed message to dst. It stops with
// ErrMessageTooBig as soon as the output would exceed limit bytes, so a small
// message that inflates to gigabytes costs at most limit bytes of memory.
func inflate(dst, compressed []byte, limit int) ([]byte, error) {
	f := inflaters.Get().(*inflater)
	defer func() {
		f.src = inflateSource{} // do not keep the caller's bytes reachable
		inflaters.Put(f)
	}()
	f.src = inflateSource{msg: compressed, tail: inflateTail}
	_ = f.fr.(flate.Resetter).Reset(&f.src, nil)
	start := len(dst)
	for {
		if len(dst) == cap(dst) {
			dst = append(dst, 0)[:len(dst)]
		}
		// Read one byte past the limit so that "exactly limit" and "more" differ.
		room := min(cap(dst), start+limit+1)
		n, err := f.fr.Read(dst[len(dst):room])
		dst = dst[:len(dst)+n]
		if len(dst)-start > limit {
			return dst, ErrMessageTooBig
		}
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return dst, ErrBadCompression
		}
	}
}
