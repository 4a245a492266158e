package bench

import (
	"errors"
	"fmt"
)

var (
	// ErrUnknownScenario: the first argument names no scenario.
	ErrUnknownScenario = errors.New("bench: unknown scenario")
	// ErrBadHistogram: a histogram in JSON has a bucket index out of range.
	ErrBadHistogram = errors.New("bench: bad histogram bucket")
	// ErrBadFrame: the server sent a WebSocket frame a server must not send
	// (masked, reserved opcode or bits, a fragmented control frame).
	ErrBadFrame = errors.New("bench: bad websocket frame from server")
	// ErrBadChunk: a chunked response body that does not follow RFC 9112 §7.1.
	ErrBadChunk = errors.New("bench: bad chunked encoding")
	// ErrBadResponse: a response head that is not HTTP/1.x or is too large.
	ErrBadResponse = errors.New("bench: malformed response head")
	// ErrClosedByServer: the server closed the connection (EOF, or a close frame).
	ErrClosedByServer = errors.New("bench: connection closed by server")
	// ErrNotReady: connections failed to open or subscribe within the timeout.
	ErrNotReady = errors.New("bench: connections not ready in time")
	// ErrRefused: the server answered a command with an error.
	ErrRefused = errors.New("bench: command refused")
	// ErrNotRecovered: a resubscribe did not recover what was missed.
	ErrNotRecovered = errors.New("bench: resubscribe did not recover")
	// ErrChild: a --procs child process failed.
	ErrChild = errors.New("bench: child process failed")
	// ErrLinuxOnly: the load generator's client loops use epoll; on other
	// systems the package builds but a run fails with this.
	ErrLinuxOnly = errors.New("bench: the load generator runs on Linux only (epoll)")
)

// HandshakeError is a WebSocket upgrade or SSE request the server answered with
// something else than 101 or 200, or with a wrong Sec-WebSocket-Accept.
type HandshakeError struct {
	Status int    // the HTTP status received (0 when the status line was fine but a header was wrong)
	Reason string // what was wrong
}

func (e *HandshakeError) Error() string {
	return fmt.Sprintf("bench: handshake rejected: %d %s", e.Status, e.Reason)
}

// CloseError is a close frame the server sent.
type CloseError struct {
	Code   int
	Reason string
}

func (e *CloseError) Error() string {
	return fmt.Sprintf("bench: server closed the websocket: %d %s", e.Code, e.Reason)
}

// Unwrap makes a close frame match ErrClosedByServer.
func (e *CloseError) Unwrap() error { return ErrClosedByServer }
