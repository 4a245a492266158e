package bench

import (
	"sync"

	"golang.org/x/sys/unix"

	"github.com/rtd-project/rtd/proto/sse"
)

// The client is a handful of epoll loops, one goroutine each, that own every
// connection's socket: a connection costs a small struct and a file descriptor,
// not a goroutine and its buffers, so one process holds ~19,000 of them and the
// client stays a small share of the machine. Everything that touches a
// connection runs on its loop; other goroutines post closures (loop.post).

// conn is one client connection.
type conn struct {
	fd         int
	loop       *loop
	target     *target
	h          connHandler
	state      connState
	paused     bool  // not reading: the slow scenario's stuck subscriber
	wantOut    bool  // EPOLLOUT registered
	started    int64 // mono() at dial, for the handshake latency
	out        []byte
	in         []byte // unconsumed received bytes
	frag       []byte // a fragmented WebSocket message being reassembled
	fragmented bool
	mask       [4]byte
	chunked    *chunkDecoder
	events     *sse.Decoder
}

// loop is one epoll event loop.
type loop struct {
	epfd   int
	wakefd int
	conns  map[int]*conn
	buf    []byte // reads land here
	wbuf   []byte // outgoing frames are built here
	echo   []byte // the echo scenario's message, stamped before each send
	cmd    []byte // commands are built here

	mu    sync.Mutex
	tasks []func()
	done  bool
	wg    sync.WaitGroup
}

func newLoop() (*loop, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	wakefd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		unix.Close(epfd)
		return nil, err
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(wakefd)}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wakefd, &ev); err != nil {
		unix.Close(epfd)
		unix.Close(wakefd)
		return nil, err
	}
	l := &loop{epfd: epfd, wakefd: wakefd, conns: make(map[int]*conn), buf: make([]byte, 64<<10)}
	l.wg.Add(1)
	go l.run()
	return l, nil
}

// post runs f on the loop.
func (l *loop) post(f func()) {
	l.mu.Lock()
	if l.done {
		l.mu.Unlock()
		return
	}
	l.tasks = append(l.tasks, f)
	first := len(l.tasks) == 1
	l.mu.Unlock()
	if first {
		one := [8]byte{1}
		_, _ = unix.Write(l.wakefd, one[:])
	}
}

// shutdown closes every connection (without calling closed) and stops the loop.
func (l *loop) shutdown() {
	l.post(func() {
		for _, c := range l.conns {
			c.h = nil
			c.close(nil)
		}
		l.mu.Lock()
		l.done = true
		l.mu.Unlock()
	})
	l.wg.Wait()
	unix.Close(l.epfd)
	unix.Close(l.wakefd)
}

func (l *loop) run() {
	defer l.wg.Done()
	events := make([]unix.EpollEvent, 256)
	var tasks []func()
	for {
		n, err := unix.EpollWait(l.epfd, events, -1)
		if err != nil && err != unix.EINTR {
			panic("bench: epoll_wait: " + err.Error())
		}
		for i := 0; i < n; i++ {
			ev := &events[i]
			if int(ev.Fd) == l.wakefd {
				var b [8]byte
				_, _ = unix.Read(l.wakefd, b[:])
				l.mu.Lock()
				tasks, l.tasks = l.tasks, tasks[:0]
				l.mu.Unlock()
				for _, f := range tasks {
					f()
				}
				clear(tasks)
				continue
			}
			if c := l.conns[int(ev.Fd)]; c != nil {
				c.handle(ev.Events)
			}
		}
		l.mu.Lock()
		done := l.done
		l.mu.Unlock()
		if done {
			return
		}
	}
}

// dial starts a non-blocking connect from src (zero: the kernel's choice) and
// registers the socket. Errors are reported through h.closed.
func (l *loop) dial(t *target, src [4]byte, h connHandler) {
	c := &conn{fd: -1, loop: l, target: t, h: h, started: mono(), mask: [4]byte{0x5a, 0x3c, byte(len(l.conns)), 0x7e}}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		c.fail(err)
		return
	}
	c.fd = fd
	_ = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	if src != [4]byte{} {
		// Let connect pick the port per destination, so that each source
		// address has the whole ephemeral range for every server address.
		_ = unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT, 1)
		if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: src}); err != nil {
			c.fail(err)
			return
		}
	}
	addr := t.addr // Connect encodes into the sockaddr: each dial needs its own
	if err := unix.Connect(fd, &addr); err != nil && err != unix.EINPROGRESS {
		c.fail(err)
		return
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLRDHUP, Fd: int32(fd)}
	if err := unix.EpollCtl(l.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		c.fail(err)
		return
	}
	c.wantOut = true
	l.conns[fd] = c
}

// fail closes a connection that never got registered.
func (c *conn) fail(err error) {
	if c.fd >= 0 {
		unix.Close(c.fd)
	}
	c.state = stateClosed
	c.h.closed(c, err)
}

func (c *conn) handle(events uint32) {
	if c.state == stateConnecting {
		if events&(unix.EPOLLOUT|unix.EPOLLERR|unix.EPOLLHUP) == 0 {
			return
		}
		if soerr, err := unix.GetsockoptInt(c.fd, unix.SOL_SOCKET, unix.SO_ERROR); err != nil || soerr != 0 {
			if err == nil {
				err = unix.Errno(soerr)
			}
			c.close(err)
			return
		}
		c.state = stateHandshake
		l := c.loop
		if c.target.transport == transportSSE {
			l.wbuf = appendSSERequest(l.wbuf[:0], c.target.host, c.target.path)
		} else {
			l.wbuf = appendUpgradeRequest(l.wbuf[:0], c.target.host, c.target.path)
		}
		c.write(l.wbuf)
		if c.state == stateClosed {
			return
		}
	}
	if events&unix.EPOLLOUT != 0 && len(c.out) > 0 {
		c.flush()
		if c.state == stateClosed {
			return
		}
	}
	if events&(unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0 && !c.paused {
		c.read()
	}
}

// read drains the socket, a bounded number of times so that one busy
// connection does not starve the others (epoll is level-triggered: the rest
// comes at the next wait).
func (c *conn) read() {
	for range 4 {
		n, err := unix.Read(c.fd, c.loop.buf)
		if err == unix.EAGAIN {
			return
		}
		if err != nil {
			c.close(err)
			return
		}
		if n == 0 {
			c.close(ErrClosedByServer)
			return
		}
		c.received(c.loop.buf[:n])
		if c.state == stateClosed || c.paused || n < len(c.loop.buf) {
			return
		}
	}
}

// received processes newly read bytes together with any kept from before.
func (c *conn) received(p []byte) {
	data := p
	if len(c.in) > 0 {
		c.in = append(c.in, p...)
		data = c.in
	}
	used, err := c.consume(data)
	if err != nil {
		c.close(err)
		return
	}
	if c.state == stateClosed {
		return
	}
	rest := data[used:]
	switch {
	case len(rest) == 0:
		c.in = c.in[:0]
		if cap(c.in) > 64<<10 {
			c.in = nil // an idle connection keeps no large buffer
		}
	case len(c.in) > 0:
		c.in = c.in[:copy(c.in, rest)]
	default:
		c.in = append(c.in[:0], rest...)
	}
}

// consume handles what it can of data and returns how much it used.
func (c *conn) consume(data []byte) (int, error) {
	used := 0
	if c.state == stateHandshake {
		var head responseHead
		n, err := parseResponseHead(data, &head)
		if err != nil || n == 0 {
			return 0, err
		}
		if err := c.checkHead(&head); err != nil {
			return 0, err
		}
		used = n
		c.state = stateOpen
		c.h.opened(c)
		if c.state != stateOpen {
			return used, nil
		}
	}
	if c.target.transport == transportSSE {
		n, err := c.consumeSSE(data[used:])
		return used + n, err
	}
	for used < len(data) && c.state == stateOpen && !c.paused {
		var f serverFrame
		n, err := parseServerFrame(data[used:], maxMessageBytes, &f)
		if err != nil || n == 0 {
			return used, err
		}
		used += n
		if err := c.frame(&f); err != nil {
			return used, err
		}
	}
	return used, nil
}

func (c *conn) checkHead(h *responseHead) error {
	if c.target.transport == transportSSE {
		if h.status != 200 {
			return &HandshakeError{Status: h.status, Reason: "event stream not opened"}
		}
		if h.chunked {
			c.chunked = &chunkDecoder{}
		}
		c.events = sse.NewDecoder(sse.Options{})
		return nil
	}
	if h.status != 101 {
		return &HandshakeError{Status: h.status, Reason: "upgrade refused"}
	}
	if string(h.accept) != wsAccept {
		return &HandshakeError{Status: 101, Reason: "wrong Sec-WebSocket-Accept"}
	}
	return nil
}

func (c *conn) consumeSSE(data []byte) (int, error) {
	emit := func(ev sse.Event) {
		if c.state == stateOpen {
			c.h.message(c, ev.Data)
		}
	}
	if c.chunked == nil {
		return len(data), c.events.Feed(data, emit)
	}
	var feedErr error
	n, err := c.chunked.feed(data, func(p []byte) {
		if feedErr == nil {
			feedErr = c.events.Feed(p, emit)
		}
	})
	if feedErr != nil {
		return n, feedErr
	}
	return n, err
}

// frame handles one WebSocket frame from the server.
func (c *conn) frame(f *serverFrame) error {
	switch f.op {
	case opText, opBinary:
		if c.fragmented {
			return ErrBadFrame
		}
		if !f.fin {
			c.fragmented = true
			c.frag = append(c.frag[:0], f.payload...)
			return nil
		}
		c.h.message(c, f.payload)
	case opContinuation:
		if !c.fragmented {
			return ErrBadFrame
		}
		c.frag = append(c.frag, f.payload...)
		if len(c.frag) > maxMessageBytes {
			return ErrBadFrame
		}
		if f.fin {
			c.fragmented = false
			c.h.message(c, c.frag)
			c.frag = nil
		}
	case opPing:
		c.sendFrame(opPong, f.payload)
	case opClose:
		code, reason := 1005, ""
		if len(f.payload) >= 2 {
			code, reason = int(f.payload[0])<<8|int(f.payload[1]), string(f.payload[2:])
		}
		c.sendFrame(opClose, f.payload[:min(len(f.payload), 2)])
		return &CloseError{Code: code, Reason: reason}
	}
	return nil
}

// sendText sends a text message.
func (c *conn) sendText(p []byte) { c.sendFrame(opText, p) }

// sendBinary sends a binary message.
func (c *conn) sendBinary(p []byte) { c.sendFrame(opBinary, p) }

func (c *conn) sendFrame(op byte, p []byte) {
	if c.state != stateOpen {
		return
	}
	l := c.loop
	l.wbuf = appendClientFrame(l.wbuf[:0], op, p, c.mask)
	c.write(l.wbuf)
}

// write sends p now if it can and queues the rest; p may be reused after.
func (c *conn) write(p []byte) {
	if c.state == stateClosed {
		return
	}
	if len(c.out) > 0 {
		c.out = append(c.out, p...)
		return
	}
	n, err := unix.Write(c.fd, p)
	if err != nil && err != unix.EAGAIN {
		c.close(err)
		return
	}
	n = max(n, 0)
	if n < len(p) {
		c.out = append(c.out[:0], p[n:]...)
		c.interest(true)
	} else if c.wantOut && c.state != stateConnecting {
		c.interest(false)
	}
}

func (c *conn) flush() {
	n, err := unix.Write(c.fd, c.out)
	if err != nil && err != unix.EAGAIN {
		c.close(err)
		return
	}
	n = max(n, 0)
	c.out = c.out[:copy(c.out, c.out[n:])]
	if len(c.out) == 0 {
		c.out = nil
		c.interest(false)
	}
}

// interest sets what epoll reports for c.
func (c *conn) interest(out bool) {
	var events uint32 = unix.EPOLLRDHUP
	if !c.paused {
		events |= unix.EPOLLIN
	}
	if out {
		events |= unix.EPOLLOUT
	}
	c.wantOut = out
	ev := unix.EpollEvent{Events: events, Fd: int32(c.fd)}
	_ = unix.EpollCtl(c.loop.epfd, unix.EPOLL_CTL_MOD, c.fd, &ev)
}

// pause stops reading from c for good: the kernel buffers fill up and the
// server sees a client that does not keep up.
func (c *conn) pause() {
	c.paused = true
	if c.state != stateClosed {
		c.interest(len(c.out) > 0)
	}
}

// close closes c and tells the handler, once.
func (c *conn) close(err error) {
	if c.state == stateClosed {
		return
	}
	c.state = stateClosed
	_ = unix.EpollCtl(c.loop.epfd, unix.EPOLL_CTL_DEL, c.fd, nil)
	unix.Close(c.fd)
	delete(c.loop.conns, c.fd)
	c.out, c.in, c.frag = nil, nil, nil
	if c.h != nil {
		c.h.closed(c, err)
	}
}
