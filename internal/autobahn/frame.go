package autobahn

import "encoding/binary"

// Opcodes of RFC 6455 §5.2 the cases use by name.
const (
	opContinuation byte = 0x0
	opText         byte = 0x1
	opBinary       byte = 0x2
	opClose        byte = 0x8
	opPing         byte = 0x9
	opPong         byte = 0xA
)

// Close codes of RFC 6455 §7.4.1 the cases expect.
const (
	closeNormal          = 1000
	closeGoingAway       = 1001
	closeProtocolError   = 1002
	closeInvalidPayload  = 1007
	closeMandatoryExtErr = 1010
)

// maxFrameLength bounds what the client accepts from a server; the largest
// message any case echoes is 16 MiB (9.1.6 with Options.Full).
const maxFrameLength = 64 << 20

// frameHeader is a decoded frame header.
type frameHeader struct {
	fin    bool
	rsv    byte // the three RSV bits, RSV1 as 0b100
	opcode byte
	masked bool
	mask   [4]byte
	length uint64
}

// appendFrame appends one frame carrying payload to dst. A nil mask writes
// the frame unmasked (only case X.1 does that as a client).
func appendFrame(dst []byte, fin bool, rsv, opcode byte, mask *[4]byte, payload []byte) []byte {
	b0 := rsv<<4 | opcode&0x0f
	if fin {
		b0 |= 0x80
	}
	var b1 byte
	if mask != nil {
		b1 = 0x80
	}
	n := len(payload)
	switch {
	case n <= 125:
		dst = append(dst, b0, b1|byte(n))
	case n <= 0xffff:
		dst = append(dst, b0, b1|126)
		dst = binary.BigEndian.AppendUint16(dst, uint16(n))
	default:
		dst = append(dst, b0, b1|127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	if mask == nil {
		return append(dst, payload...)
	}
	dst = append(dst, mask[:]...)
	start := len(dst)
	dst = append(dst, payload...)
	maskBytes(dst[start:], *mask, 0)
	return dst
}

// maskBytes XORs b with the mask key starting at key offset pos and returns
// the offset after b, so that a payload can be masked in pieces.
func maskBytes(b []byte, mask [4]byte, pos int) int {
	for i := range b {
		b[i] ^= mask[(pos+i)&3]
	}
	return (pos + len(b)) & 3
}

// parseFrameHeader decodes the frame header at the start of b. It returns
// the header and its length in octets, or n == 0 when b does not hold the
// whole header yet, so a caller can feed it input split anywhere.
func parseFrameHeader(b []byte) (h frameHeader, n int) {
	if len(b) < 2 {
		return h, 0
	}
	h.fin = b[0]&0x80 != 0
	h.rsv = b[0] >> 4 & 0x7
	h.opcode = b[0] & 0x0f
	h.masked = b[1]&0x80 != 0
	n = 2
	switch l := b[1] & 0x7f; l {
	case 126:
		if len(b) < n+2 {
			return h, 0
		}
		h.length = uint64(binary.BigEndian.Uint16(b[n:]))
		n += 2
	case 127:
		if len(b) < n+8 {
			return h, 0
		}
		h.length = binary.BigEndian.Uint64(b[n:])
		n += 8
	default:
		h.length = uint64(l)
	}
	if h.masked {
		if len(b) < n+4 {
			return h, 0
		}
		copy(h.mask[:], b[n:n+4])
		n += 4
	}
	return h, n
}

// isControl reports whether opcode is a control opcode (RFC 6455 §5.5).
func isControl(opcode byte) bool { return opcode&0x8 != 0 }

// closePayload builds a close frame body: no code when code < 0.
func closePayload(code int, reason []byte) []byte {
	if code < 0 {
		return nil
	}
	p := binary.BigEndian.AppendUint16(nil, uint16(code))
	return append(p, reason...)
}

// validCloseCode reports whether a peer may send code in a close frame
// (RFC 6455 §7.4: 1000–1003, 1007–1011, 3000–4999; 1012–1014 are IANA
// registered since).
func validCloseCode(code int) bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1014:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}
