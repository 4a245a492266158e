//go:build !linux

package bench

// The load generator's client loops are epoll loops (loop_linux.go): on
// other systems the package builds, so that everything importing it (rtd
// itself) does, but a run fails at once with ErrLinuxOnly.

type conn struct {
	loop    *loop
	target  *target
	state   connState
	started int64
}

type loop struct {
	echo []byte
	cmd  []byte
}

func newLoop() (*loop, error) { return nil, ErrLinuxOnly }

func (l *loop) post(func())                        {}
func (l *loop) shutdown()                          {}
func (l *loop) dial(*target, [4]byte, connHandler) {}
func (c *conn) sendText([]byte)                    {}
func (c *conn) sendBinary([]byte)                  {}
func (c *conn) pause()                             {}
func (c *conn) close(error)                        {}

// The requests the epoll client writes (wire.go) are not sent here.
var _, _ = appendUpgradeRequest, appendSSERequest
