package bench

import (
	"bytes"
	"encoding/binary"
	"strconv"
)

// The client side of the wire: request heads, the response head, WebSocket
// frames as a client sends and receives them (RFC 6455 §5), and chunked bodies
// (RFC 9112 §7.1). Like rtd's own proto packages these are pure functions over
// the bytes received so far: they consume whole units or ask for more, so input
// split anywhere decodes the same.

// WebSocket opcodes (RFC 6455 §5.2).
const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xA
)

// maxHeadBytes bounds a response head.
const maxHeadBytes = 16 << 10

// wsKey is the Sec-WebSocket-Key every connection sends: the key only proves
// that the server speaks WebSocket, so one value (and its precomputed accept)
// serves all connections.
const (
	wsKey    = "cnRkLWJlbmNoLWtleS0wMQ=="
	wsAccept = "IURt46gfyQ9GxZ/kYtuh3X2yPiQ="
)

// appendUpgradeRequest appends a WebSocket opening handshake for path on host.
// It offers no extension, so frames carry no RSV bits.
func appendUpgradeRequest(dst []byte, host, path string) []byte {
	dst = append(dst, "GET "...)
	dst = append(dst, path...)
	dst = append(dst, " HTTP/1.1\r\nHost: "...)
	dst = append(dst, host...)
	dst = append(dst, "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: "...)
	dst = append(dst, wsKey...)
	return append(dst, "\r\n\r\n"...)
}

// appendSSERequest appends an event-stream request for path on host.
func appendSSERequest(dst []byte, host, path string) []byte {
	dst = append(dst, "GET "...)
	dst = append(dst, path...)
	dst = append(dst, " HTTP/1.1\r\nHost: "...)
	dst = append(dst, host...)
	return append(dst, "\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n"...)
}

// responseHead is what the client needs from a response head.
type responseHead struct {
	status  int
	chunked bool   // Transfer-Encoding: chunked
	accept  []byte // Sec-WebSocket-Accept (aliases the input)
}

// parseResponseHead parses the response head at the start of buf. It returns
// n == 0 while the head is incomplete, else the head length.
func parseResponseHead(buf []byte, h *responseHead) (n int, err error) {
	end := bytes.Index(buf, []byte("\r\n\r\n"))
	if end < 0 {
		if len(buf) > maxHeadBytes {
			return 0, ErrBadResponse
		}
		return 0, nil
	}
	head := buf[:end]
	line, rest, _ := bytes.Cut(head, []byte("\r\n"))
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return 0, ErrBadResponse
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, ErrBadResponse
	}
	*h = responseHead{status: status}
	for len(rest) > 0 {
		var field []byte
		field, rest, _ = bytes.Cut(rest, []byte("\r\n"))
		name, value, ok := bytes.Cut(field, []byte(":"))
		if !ok {
			return 0, ErrBadResponse
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			h.chunked = bytes.EqualFold(value, []byte("chunked"))
		case bytes.EqualFold(name, []byte("Sec-WebSocket-Accept")):
			h.accept = value
		}
	}
	return end + 4, nil
}

// appendClientFrame appends one final, masked frame (clients must mask, RFC
// 6455 §5.3).
func appendClientFrame(dst []byte, op byte, payload []byte, mask [4]byte) []byte {
	dst = append(dst, 0x80|op)
	switch n := len(payload); {
	case n < 126:
		dst = append(dst, 0x80|byte(n))
	case n <= 0xFFFF:
		dst = append(dst, 0x80|126)
		dst = binary.BigEndian.AppendUint16(dst, uint16(n))
	default:
		dst = append(dst, 0x80|127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	dst = append(dst, mask[:]...)
	start := len(dst)
	dst = append(dst, payload...)
	for i := range payload {
		dst[start+i] ^= mask[i&3]
	}
	return dst
}

// serverFrame is one frame received from the server.
type serverFrame struct {
	fin     bool
	op      byte
	payload []byte // aliases the input
}

// parseServerFrame parses the frame at the start of buf. It returns n == 0
// while the frame is incomplete. Frames larger than maxPayload fail.
func parseServerFrame(buf []byte, maxPayload int, f *serverFrame) (n int, err error) {
	if len(buf) < 2 {
		return 0, nil
	}
	b0, b1 := buf[0], buf[1]
	if b0&0x70 != 0 || b1&0x80 != 0 {
		return 0, ErrBadFrame // no extension was offered; servers never mask
	}
	op := b0 & 0x0F
	switch op {
	case opContinuation, opText, opBinary:
	case opClose, opPing, opPong:
		if b0&0x80 == 0 || b1&0x7F > 125 {
			return 0, ErrBadFrame
		}
	default:
		return 0, ErrBadFrame
	}
	hlen, length := 2, uint64(b1&0x7F)
	switch length {
	case 126:
		if len(buf) < 4 {
			return 0, nil
		}
		hlen, length = 4, uint64(binary.BigEndian.Uint16(buf[2:]))
	case 127:
		if len(buf) < 10 {
			return 0, nil
		}
		hlen, length = 10, binary.BigEndian.Uint64(buf[2:])
	}
	if length > uint64(maxPayload) {
		return 0, ErrBadFrame
	}
	if uint64(len(buf)-hlen) < length {
		return 0, nil
	}
	end := hlen + int(length)
	*f = serverFrame{fin: b0&0x80 != 0, op: op, payload: buf[hlen:end]}
	return end, nil
}

// chunkDecoder removes chunked transfer coding from a response body, handing
// out the data as it arrives.
type chunkDecoder struct {
	remaining int64 // data bytes left in the current chunk
	inData    bool  // inside chunk data (or its trailing CRLF when remaining == 0)
}

// maxChunkLine bounds a chunk-size line (extensions included).
const maxChunkLine = 4 << 10

// feed decodes as much of buf as it can, calling emit with each piece of body
// data, and returns how many bytes it consumed; the caller keeps the rest and
// feeds it again with more bytes appended. The last chunk ends the body with
// ErrClosedByServer: for an event stream that is the server closing it.
func (d *chunkDecoder) feed(buf []byte, emit func([]byte)) (n int, err error) {
	for n < len(buf) {
		if d.inData {
			if d.remaining > 0 {
				take := min(int64(len(buf)-n), d.remaining)
				emit(buf[n : n+int(take)])
				n += int(take)
				d.remaining -= take
				continue
			}
			if len(buf)-n < 2 {
				return n, nil
			}
			if buf[n] != '\r' || buf[n+1] != '\n' {
				return n, ErrBadChunk
			}
			n += 2
			d.inData = false
			continue
		}
		eol := bytes.Index(buf[n:], []byte("\r\n"))
		if eol < 0 {
			if len(buf)-n > maxChunkLine {
				return n, ErrBadChunk
			}
			return n, nil
		}
		line := buf[n : n+eol]
		if i := bytes.IndexByte(line, ';'); i >= 0 {
			line = line[:i]
		}
		size, err := strconv.ParseInt(string(bytes.TrimSpace(line)), 16, 64)
		if err != nil || size < 0 {
			return n, ErrBadChunk
		}
		n += eol + 2
		if size == 0 {
			return n, ErrClosedByServer
		}
		d.remaining, d.inData = size, true
	}
	return n, nil
}
