package autobahn

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

type itemKind int

const (
	itemMessage itemKind = iota
	itemPing
	itemPong
	itemClose
	itemViolation
	itemEOF
)

// item is what the reader hands the driver: a whole message, a control
// frame, a protocol violation by the server, or the end of the stream.
type item struct {
	kind    itemKind
	payload []byte
	binary  bool
	code    int   // close code (-1: none), or the code to fail with
	err     error // violation or read error
}

// messageAssembler reassembles fragmented server messages and checks every
// frame against RFC 6455 (and RFC 7692 when deflate is on).
type messageAssembler struct {
	inflater   *inflater
	inMessage  bool
	opcode     byte
	compressed bool
	buf        []byte
}

// readLoop reads frames until the connection ends; it never blocks on the
// driver.
func (s *session) readLoop(br *bufio.Reader, inf *inflater) {
	defer close(s.rdone)
	a := &messageAssembler{inflater: inf}
	for {
		h, payload, err := readFrame(br)
		if err != nil {
			if errors.Is(err, errFrameTooLarge) {
				s.in.push(item{kind: itemViolation, code: 1009, err: &protocolError{Code: 1009, Reason: err.Error()}})
			}
			s.in.push(item{kind: itemEOF, err: err})
			return
		}
		it, ok := a.frame(h, payload)
		if ok {
			s.in.push(it)
		}
	}
}

// readFrame reads one frame, header through parseFrameHeader.
func readFrame(br *bufio.Reader) (frameHeader, []byte, error) {
	need := 2
	for {
		b, err := br.Peek(need)
		if err != nil {
			return frameHeader{}, nil, err
		}
		h, n := parseFrameHeader(b)
		if n == 0 {
			need = len(b) + 1
			continue
		}
		br.Discard(n)
		if h.length > maxFrameLength {
			return h, nil, fmt.Errorf("%w: %d octets", errFrameTooLarge, h.length)
		}
		p := make([]byte, h.length)
		if _, err := io.ReadFull(br, p); err != nil {
			return h, nil, err
		}
		if h.masked {
			maskBytes(p, h.mask, 0)
		}
		return h, p, nil
	}
}

func violation(code int, format string, args ...any) item {
	return item{kind: itemViolation, code: code, err: &protocolError{Code: code, Reason: fmt.Sprintf(format, args...)}}
}

// frame checks one frame and returns the item it completes, if any.
func (a *messageAssembler) frame(h frameHeader, p []byte) (item, bool) {
	if h.masked {
		return violation(closeProtocolError, "server frame is masked"), true
	}
	rsvAllowed := byte(0)
	if a.inflater != nil && (h.opcode == opText || h.opcode == opBinary) {
		rsvAllowed = 0b100
	}
	if h.rsv&^rsvAllowed != 0 {
		return violation(closeProtocolError, "RSV bits %03b set on opcode %d", h.rsv, h.opcode), true
	}
	if isControl(h.opcode) {
		if !h.fin || len(p) > 125 {
			return violation(closeProtocolError, "control frame opcode %d fragmented or longer than 125 (%d)", h.opcode, len(p)), true
		}
		switch h.opcode {
		case opPing:
			return item{kind: itemPing, payload: p}, true
		case opPong:
			return item{kind: itemPong, payload: p}, true
		case opClose:
			return closeItem(p), true
		}
		return violation(closeProtocolError, "reserved control opcode %d", h.opcode), true
	}
	switch h.opcode {
	case opContinuation:
		if !a.inMessage {
			return violation(closeProtocolError, "continuation frame with no message to continue"), true
		}
	case opText, opBinary:
		if a.inMessage {
			return violation(closeProtocolError, "new data frame while a fragmented message is open"), true
		}
		a.inMessage, a.opcode, a.compressed, a.buf = true, h.opcode, h.rsv != 0, a.buf[:0]
	default:
		return violation(closeProtocolError, "reserved data opcode %d", h.opcode), true
	}
	a.buf = append(a.buf, p...)
	if len(a.buf) > maxFrameLength {
		return violation(1009, "message longer than %d", maxFrameLength), true
	}
	if !h.fin {
		return item{}, false
	}
	a.inMessage = false
	msg := append([]byte(nil), a.buf...)
	if a.compressed {
		var err error
		if msg, err = a.inflater.inflate(msg); err != nil {
			return violation(closeProtocolError, "permessage-deflate: %v", err), true
		}
	}
	if a.opcode == opText && !utf8.Valid(msg) {
		return violation(closeInvalidPayload, "text message is not valid UTF-8"), true
	}
	return item{kind: itemMessage, payload: msg, binary: a.opcode == opBinary}, true
}

// closeItem decodes a close frame body (RFC 6455 §5.5.1, §7.4).
func closeItem(p []byte) item {
	switch {
	case len(p) == 0:
		return item{kind: itemClose, code: -1}
	case len(p) == 1:
		return violation(closeProtocolError, "close frame with a 1-octet body")
	}
	code := int(binary.BigEndian.Uint16(p))
	if !validCloseCode(code) {
		return violation(closeProtocolError, "close frame with invalid code %d", code)
	}
	if !utf8.Valid(p[2:]) {
		return violation(closeInvalidPayload, "close reason is not valid UTF-8")
	}
	return item{kind: itemClose, code: code}
}
