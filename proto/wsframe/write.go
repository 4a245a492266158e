package wsframe

import (
	"encoding/binary"
	"unicode/utf8"

	"github.com/gobwas/ws"
)

// maxCloseReason is what is left of a control frame's 125 bytes after the code.
const maxCloseReason = ws.MaxControlFramePayloadSize - 2

// AppendFrameHeader appends an unmasked (server to client) frame header for a
// payload of length bytes. rsv1 marks the first frame of a compressed message
// (RFC 7692 §6). gobwas/ws has no append-style header encoder.
func AppendFrameHeader(dst []byte, fin bool, op ws.OpCode, rsv1 bool, length int) []byte {
	b0 := byte(op) & 0x0F
	if fin {
		b0 |= 0x80
	}
	if rsv1 {
		b0 |= 0x40
	}
	switch {
	case length < 126:
		return append(dst, b0, byte(length))
	case length <= 0xFFFF:
		return binary.BigEndian.AppendUint16(append(dst, b0, 126), uint16(length))
	default:
		return binary.BigEndian.AppendUint64(append(dst, b0, 127), uint64(length))
	}
}

// AppendFrame appends a complete, final, unmasked frame carrying payload.
func AppendFrame(dst []byte, op ws.OpCode, payload []byte) []byte {
	dst = AppendFrameHeader(dst, true, op, false, len(payload))
	return append(dst, payload...)
}

// AppendClose appends a close frame with code and reason. The reason is cropped
// to the 123 bytes a control frame leaves for it, on a UTF-8 boundary so that
// the peer does not fail the close with 1007. A zero code appends a close frame
// without payload (the peer then reports 1005); 1005, 1006 and 1015 must never
// be sent (RFC 6455 §7.4.1), so they also produce an empty close frame.
func AppendClose(dst []byte, code ws.StatusCode, reason string) []byte {
	if code == 0 || code.IsProtocolReserved() {
		return AppendFrameHeader(dst, true, ws.OpClose, false, 0)
	}
	if len(reason) > maxCloseReason {
		cut := maxCloseReason
		for cut > 0 && !utf8.RuneStart(reason[cut]) {
			cut--
		}
		reason = reason[:cut]
	}
	dst = AppendFrameHeader(dst, true, ws.OpClose, false, 2+len(reason))
	dst = binary.BigEndian.AppendUint16(dst, uint16(code))
	return append(dst, reason...)
}
