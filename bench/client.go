// The parts of the load generator's client that build everywhere; the loops
// themselves are in loop_linux.go.

package bench

import (
	"time"

	"golang.org/x/sys/unix"
)

// transport is how a connection talks to the server.
type transport uint8

const (
	transportWS transport = iota
	transportSSE
)

func (t transport) String() string {
	if t == transportSSE {
		return "sse"
	}
	return "ws"
}

// target is where a connection goes.
type target struct {
	addr      unix.SockaddrInet4
	host      string // Host header
	path      string // request target, with query
	transport transport
}

// connHandler is a scenario's side of one connection; its methods run on the
// connection's loop.
type connHandler interface {
	// opened: the upgrade (101) or the event stream (200) was accepted.
	opened(c *conn)
	// message: a complete WebSocket text or binary message, or the data of an
	// SSE event. p is only valid during the call.
	message(c *conn, p []byte)
	// closed: the connection is gone; err says why (nil when we closed it).
	closed(c *conn, err error)
}

type connState uint8

const (
	stateConnecting connState = iota
	stateHandshake
	stateOpen
	stateClosed
)

// maxMessageBytes bounds a WebSocket message the client accepts.
const maxMessageBytes = 16 << 20

var clockBase = time.Now()

// mono is a monotonic clock in nanoseconds, for durations measured in one process.
func mono() int64 { return int64(time.Since(clockBase)) }
