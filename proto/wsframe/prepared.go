package wsframe

import (
	"sync"

	"github.com/gobwas/ws"
)

// Prepared is a message encoded once for many recipients: Frame for
// connections without compression, DeflateFrame for connections that
// negotiated permessage-deflate. Both are read-only and shared; recipients must
// not modify them.
type Prepared struct {
	frame   []byte
	payload []byte // aliases frame

	deflateOnce  sync.Once
	deflateFrame []byte
}

// NewPrepared encodes payload as one final, unmasked frame with opcode op. The
// payload is copied, so the caller may reuse it.
func NewPrepared(op ws.OpCode, payload []byte) *Prepared {
	frame := make([]byte, 0, ws.MaxHeaderSize+len(payload))
	frame = AppendFrame(frame, op, payload)
	return &Prepared{frame: frame, payload: frame[len(frame)-len(payload):]}
}

// Frame returns the plain frame.
func (p *Prepared) Frame() []byte { return p.frame }

// Payload returns the message the frame carries (a slice of Frame): what was
// given to NewPrepared, for callers that need it again without parsing the
// frame's header. Read-only, like Frame.
func (p *Prepared) Payload() []byte { return p.payload }

// DeflateFrame returns the frame for permessage-deflate connections: the
// payload compressed once (Compress) with RSV1 set. It is computed at the first
// call, at most once, and is safe for concurrent callers. RSV1 is per message,
// so when compression does not make the frame smaller (short or incompressible
// payloads), and for control frames, which are never compressed (RFC 7692 §6.1),
// it returns the plain frame.
func (p *Prepared) DeflateFrame() []byte {
	p.deflateOnce.Do(func() {
		p.deflateFrame = p.frame
		op := ws.OpCode(p.frame[0] & 0x0F)
		if op.IsControl() {
			return
		}
		// Compress behind room for the largest server header, then put the
		// header right in front of the compressed bytes: one allocation.
		const room = 10
		buf := Compress(make([]byte, room, room+len(p.payload)/2+64), p.payload)
		var hdr [room]byte
		h := AppendFrameHeader(hdr[:0], true, op, true, len(buf)-room)
		frame := buf[room-len(h):]
		copy(frame, h)
		if len(frame) < len(p.frame) {
			p.deflateFrame = frame
		}
	})
	return p.deflateFrame
}
