package wsframe

import (
	"encoding/binary"
	"unicode/utf8"

	"github.com/gobwas/ws"
	"github.com/valyala/bytebufferpool"
)

// DefaultMaxMessageBytes is the message size limit of a zero ReaderOptions.
const DefaultMaxMessageBytes = 64 << 10

// EventKind says what Reader.Next found.
type EventKind uint8

// Event kinds.
const (
	// None: nothing to handle (more bytes needed, or a non-final fragment
	// was absorbed).
	None EventKind = iota
	// Text is a complete, UTF-8 validated text message.
	Text
	// Binary is a complete binary message.
	Binary
	// Ping is a ping frame; answer with a pong carrying Payload.
	Ping
	// Pong is a pong frame.
	Pong
	// Close is a valid close frame; Code and Reason are filled in.
	Close
)

// Event is one thing received from the peer.
type Event struct {
	Kind EventKind
	// Payload is the message or control frame payload, unmasked (and
	// decompressed). It aliases the buf given to Next or a buffer owned by
	// the Reader, so it is only valid until the next call to Next and, when
	// it aliases buf, until buf is discarded: handle the event before
	// c.Discard(n).
	Payload []byte
	// Code is the close code of a Close event; 1005 (no status) when the
	// close frame was empty.
	Code ws.StatusCode
	// Reason is the close reason of a Close event (valid UTF-8, aliases
	// Payload).
	Reason []byte
}

// ReaderOptions configures a Reader. The zero value means defaults.
type ReaderOptions struct {
	// MaxMessageBytes bounds a message: its frames' payload lengths as
	// declared in their headers (checked before the payload is waited for),
	// and the size it inflates to when compressed. Larger fails with close
	// code 1009. Zero means DefaultMaxMessageBytes.
	MaxMessageBytes int
	// Deflate says permessage-deflate was negotiated (Upgrade.Deflate): RSV1
	// is then allowed on the first frame of a data message and means
	// "compressed".
	Deflate bool
}

// Reader is the inbound state machine of one server-side connection. It keeps
// only the state of the message in progress: a message in a single
// uncompressed frame is returned in place from the caller's buffer, and the
// buffers for reassembling fragmented messages and inflating compressed ones
// come from a pool when such a message starts and go back when it has been
// handed out. The zero value is ready with default options.
type Reader struct {
	maxMessage int

	// The data message in progress (its first frame was not final, or it is
	// being reassembled for decompression): msgOp is 0 when there is none,
	// msgLen counts its payload bytes so far (compressed if compressed), text
	// is the UTF-8 state after its fragments so far, msg its reassembly
	// buffer.
	msgLen int
	msg    *bytebufferpool.ByteBuffer

	// done is the pooled buffer behind the last event's Payload; it goes back
	// to the pool at the next call to Next.
	done *bytebufferpool.ByteBuffer

	// UTF-8 progress inside the text frame at the start of buf while its
	// payload is still incomplete, so that invalid text fails before the whole
	// frame has arrived and every byte is validated once.
	partialAt int
	partial   utf8State

	text       utf8State
	msgOp      ws.OpCode
	compressed bool
	deflate    bool
}

// messageBuffers holds reassembly and inflate buffers; it calibrates its
// buffer size to what the connections actually receive.
var messageBuffers bytebufferpool.Pool

// Init resets r for a new connection with options o.
func (r *Reader) Init(o ReaderOptions) {
	r.Release()
	r.maxMessage = o.MaxMessageBytes
	r.deflate = o.Deflate
}

// Release gives pooled buffers back and forgets any message in progress. Call
// it when the connection closes; r is then ready for reuse.
func (r *Reader) Release() {
	if r.msg != nil {
		messageBuffers.Put(r.msg)
	}
	if r.done != nil {
		messageBuffers.Put(r.done)
	}
	*r = Reader{maxMessage: r.maxMessage, deflate: r.deflate}
}

// Idle reports whether r holds nothing between two frames: no fragmented or
// compressed message in progress and no partly validated text frame. An idle
// Reader can be released and another one, initialised with the same
// options, used for what comes next: a connection that is silent between
// messages need not keep a Reader at all.
func (r *Reader) Idle() bool {
	return r.msgOp == 0 && r.msg == nil && r.partialAt == 0
}

func (r *Reader) limit() int {
	if r.maxMessage <= 0 {
		return DefaultMaxMessageBytes
	}
	return r.maxMessage
}

// Next parses at most one frame from the start of buf, which holds the bytes
// received and not yet consumed. It returns n, the number of bytes the frame
// took (to be discarded by the caller), or 0 when buf does not hold a whole
// frame yet; it never changes buf when it returns 0 without an error (it
// unmasks only the frames it consumes), so the same bytes can be offered again
// however the network split them. ev.Kind is None when
// there is nothing to handle. Call Next until it returns n == 0.
//
// On a protocol violation err is a *CloseError carrying the close code to
// send; r must not be used after that except for Release. Every limit is
// checked from the frame header, before the payload is waited for.
func (r *Reader) Next(buf []byte) (n int, ev Event, err error) {
	if r.done != nil {
		messageBuffers.Put(r.done)
		r.done = nil
	}
	if len(buf) < 2 {
		return 0, ev, nil
	}
	h := ws.Header{
		Fin:    buf[0]&0x80 != 0,
		Rsv:    buf[0] >> 4 & 0x7,
		OpCode: ws.OpCode(buf[0] & 0x0F),
		Masked: buf[1]&0x80 != 0,
		Length: int64(buf[1] & 0x7F),
	}
	// The 7-bit length is checked as if it were the length: 126 and 127
	// (extended lengths) then exceed the control frame limit, as they must.
	if err := r.checkHeader(h); err != nil {
		return 0, ev, err
	}
	hdr := 2
	switch h.Length {
	case 126:
		hdr += 2
	case 127:
		hdr += 8
	}
	if len(buf) < hdr {
		return 0, ev, nil
	}
	switch h.Length {
	case 126:
		h.Length = int64(binary.BigEndian.Uint16(buf[2:]))
	case 127:
		l := binary.BigEndian.Uint64(buf[2:])
		if l>>63 != 0 {
			return 0, ev, ErrBadLength
		}
		h.Length = int64(l)
	}
	// Before the mask and the payload are waited for: a peer must not be able
	// to make the caller buffer more than the limit.
	if h.OpCode.IsData() && h.Length > int64(r.limit()-r.msgLen) {
		return 0, ev, ErrMessageTooBig
	}
	hdr += 4
	if len(buf) < hdr {
		return 0, ev, nil
	}
	copy(h.Mask[:], buf[hdr-4:hdr])
	if int64(len(buf)-hdr) < h.Length {
		return 0, ev, r.checkPartialText(h, buf[hdr:])
	}
	n = hdr + int(h.Length)
	p := buf[hdr:n]
	ws.Cipher(p, h.Mask, 0)
	ev, err = r.frame(h, p)
	r.partialAt, r.partial = 0, utf8State{}
	if err != nil {
		return 0, ev, err
	}
	return n, ev, nil
}

// checkHeader validates what the first two header bytes say, using
// ws.CheckHeader with the state bits this Reader keeps.
func (r *Reader) checkHeader(h ws.Header) error {
	// RSV bits are checked below, per frame kind: CheckHeader only knows
	// "some extension was negotiated".
	state := ws.StateServerSide | ws.StateExtended
	if r.msgOp != 0 {
		state |= ws.StateFragmented
	}
	switch ws.CheckHeader(h, state) {
	case nil:
	case ws.ErrProtocolOpCodeReserved:
		return ErrReservedOpCode
	case ws.ErrProtocolControlPayloadOverflow, ws.ErrProtocolControlNotFinal:
		return ErrBadControlFrame
	case ws.ErrProtocolMaskRequired:
		return ErrUnmasked
	case ws.ErrProtocolContinuationExpected:
		return ErrContinuationExpected
	case ws.ErrProtocolContinuationUnexpected:
		return ErrUnexpectedContinuation
	default:
		return ErrReservedBits
	}
	// RFC 7692 §6: RSV1 marks the first frame of a compressed data message;
	// RSV2 and RSV3 have no meaning here.
	if h.Rsv != 0 && (h.Rsv != 0x4 || !r.deflate || (h.OpCode != ws.OpText && h.OpCode != ws.OpBinary)) {
		return ErrReservedBits
	}
	return nil
}

// textState reports whether frame h carries uncompressed text, and the UTF-8
// state its payload continues from.
func (r *Reader) textState(h ws.Header) (utf8State, bool) {
	switch h.OpCode {
	case ws.OpText:
		return utf8State{}, !h.Rsv1()
	case ws.OpContinuation:
		return r.text, r.msgOp == ws.OpText && !r.compressed
	}
	return utf8State{}, false
}

// checkPartialText validates the part of a text frame's payload that has
// arrived, so that invalid text fails before the rest of the frame is waited
// for. The payload stays masked in buf (the caller may hand a different copy
// of the same bytes next time): it is unmasked into a scratch buffer.
func (r *Reader) checkPartialText(h ws.Header, payload []byte) error {
	start, text := r.textState(h)
	if !text || len(payload) <= r.partialAt {
		return nil
	}
	if r.partialAt == 0 {
		r.partial = start
	}
	var scratch [256]byte
	for off := r.partialAt; off < len(payload); {
		k := copy(scratch[:], payload[off:])
		ws.Cipher(scratch[:k], h.Mask, off)
		if !r.partial.feed(scratch[:k]) {
			return ErrInvalidUTF8
		}
		off += k
	}
	r.partialAt = len(payload)
	return nil
}

// frame handles one complete, unmasked frame.
func (r *Reader) frame(h ws.Header, p []byte) (Event, error) {
	switch h.OpCode {
	case ws.OpPing:
		return Event{Kind: Ping, Payload: p}, nil
	case ws.OpPong:
		return Event{Kind: Pong, Payload: p}, nil
	case ws.OpClose:
		return closeEvent(p)
	}
	if state, text := r.textState(h); text {
		from := 0
		if r.partialAt > 0 {
			state, from = r.partial, r.partialAt
		}
		if !state.feed(p[from:]) || (h.Fin && !state.complete()) {
			return Event{}, ErrInvalidUTF8
		}
		r.text = state
	}
	if h.OpCode != ws.OpContinuation {
		if h.Fin && !h.Rsv1() {
			// The common case: a whole message in one frame, handed out in
			// place.
			return Event{Kind: kindOf(h.OpCode), Payload: p}, nil
		}
		r.msgOp, r.compressed = h.OpCode, h.Rsv1()
	}
	r.msgLen += len(p)
	if !h.Fin || r.msg != nil {
		if r.msg == nil {
			r.msg = messageBuffers.Get()
		}
		r.msg.B = append(r.msg.B, p...)
		if !h.Fin {
			return Event{}, nil
		}
		p = r.msg.B
	}
	// The message is complete: p is its payload, in buf or in r.msg.
	ev := Event{Kind: kindOf(r.msgOp), Payload: p}
	compressed := r.compressed
	r.done, r.msg = r.msg, nil
	r.msgOp, r.compressed, r.msgLen, r.text = 0, false, 0, utf8State{}
	if !compressed {
		return ev, nil
	}
	out := messageBuffers.Get()
	var err error
	out.B, err = inflate(out.B[:0], p, r.limit())
	if r.done != nil {
		messageBuffers.Put(r.done)
	}
	r.done = out
	if err != nil {
		return Event{}, err
	}
	if ev.Kind == Text && !utf8.Valid(out.B) {
		return Event{}, ErrInvalidUTF8
	}
	ev.Payload = out.B
	return ev, nil
}

func kindOf(op ws.OpCode) EventKind {
	if op == ws.OpText {
		return Text
	}
	return Binary
}

// closeEvent validates a close frame's payload (RFC 6455 §5.5.1, §7.4).
func closeEvent(p []byte) (Event, error) {
	ev := Event{Kind: Close, Payload: p, Code: ws.StatusNoStatusRcvd}
	switch len(p) {
	case 0:
		return ev, nil
	case 1:
		return Event{}, ErrBadClosePayload
	}
	ev.Code = ws.StatusCode(binary.BigEndian.Uint16(p))
	if !validCloseCode(ev.Code) {
		return Event{}, ErrBadCloseCode
	}
	ev.Reason = p[2:]
	if !utf8.Valid(ev.Reason) {
		return Event{}, ErrInvalidUTF8
	}
	return ev, nil
}

// validCloseCode reports whether a peer may send code in a close frame
// (RFC 6455 §7.4.1, §7.4.2 and the IANA registry, where 1012-1014 are
// registered; ws.CheckCloseFrameData rejects those, so it is not used here).
func validCloseCode(code ws.StatusCode) bool {
	switch {
	case code >= 1000 && code <= 1003:
		return true
	case code >= 1007 && code <= 1014:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}
