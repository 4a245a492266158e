package autobahn

import (
	"errors"
	"fmt"
)

var (
	// ErrBadFilter is returned by Run when Options.Cases is neither a list of
	// case patterns nor a valid regular expression.
	ErrBadFilter = errors.New("autobahn: bad case filter")
	// ErrNoCases is returned by Run when the filter selects no case.
	ErrNoCases = errors.New("autobahn: no case selected")
	// errFrameTooLarge stops the reader on a frame longer than maxFrameLength.
	errFrameTooLarge = errors.New("autobahn: frame too large")
)

// HandshakeError reports an opening handshake the server got wrong; it ends
// up in Result.Detail of the case whose connection it broke.
type HandshakeError struct {
	Status int    // HTTP status of the answer, 0 when none was read
	Reason string // what was wrong
}

func (e *HandshakeError) Error() string {
	return fmt.Sprintf("autobahn: opening handshake: status %d: %s", e.Status, e.Reason)
}

// protocolError is a violation of RFC 6455 by the server; Code is the close
// code the client fails the connection with.
type protocolError struct {
	Code   int
	Reason string
}

func (e *protocolError) Error() string {
	return fmt.Sprintf("server protocol violation (%d): %s", e.Code, e.Reason)
}
