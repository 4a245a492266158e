// Copyright (c) 2019 The Gnet Authors. All rights reserved.
//
// Licensed under the Apache License, Version 2.0 (the "License");
// you may not use this file except in compliance with the License.
// You may obtain a copy of the License at
//
//     http://www.apache.org/licenses/LICENSE-2.0
//
// Unless required by applicable law or agreed to in writing, software
// distributed under the License is distributed on an "AS IS" BASIS,
// WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
// See the License for the specific language governing permissions and
// limitations under the License.

//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package gnet

import (
	"io"
	"net"
	"net/netip"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"weak"

	"golang.org/x/sys/unix"

	"github.com/panjf2000/gnet/v2/internal/gfd"
	"github.com/panjf2000/gnet/v2/pkg/bs"
	"github.com/panjf2000/gnet/v2/pkg/buffer/elastic"
	errorx "github.com/panjf2000/gnet/v2/pkg/errors"
	gio "github.com/panjf2000/gnet/v2/pkg/io"
	bsPool "github.com/panjf2000/gnet/v2/pkg/pool/byteslice"
	"github.com/panjf2000/gnet/v2/pkg/queue"
	"github.com/panjf2000/gnet/v2/pkg/socket"
)

type conn struct {
	poll           pollState          // what the poller keeps for the connection (reactor_*.go); empty by default
	gfd            gfd.GFD            // gnet file descriptor; the fd is in it (Fd), not kept again (patch 9)
	ctx            any                // user-defined context
	remote         unix.Sockaddr      // remote socket address; nil for a stream peer kept in remote4
	addrs          *connAddrs         // protocol and local address, shared by a listener's connections
	loop           *eventloop         // connected event-loop
	outboundBuffer elastic.Buffer     // buffer for data that is eligible to be sent to the remote
	inboundBuffer  elastic.RingBuffer // buffer for leftover data from the remote
	buffer         []byte             // buffer for the latest bytes
	remote4        [4]byte            // IPv4 address of an accepted stream peer (remote == nil)
	remote4Port    uint16             // its port
	isDatagram     bool               // UDP protocol
	opened         bool               // connection opened event fired
	isEOF          bool               // whether the connection has reached EOF
	safeCtxState   atomic.Uint32      // safeCtxSet, safeCtxKept (patch 9)
}

// safeContexts holds the SafeContext of the connections that set one
// (patch 9): kept apart from conn, whose 8-byte pointer for it most
// connections never use. Keyed weakly, with a cleanup per conn that set
// one: an entry goes with its conn, even one set after the conn was
// released.
var safeContexts sync.Map // weak.Pointer[conn] → any

// conn.safeCtxState bits.
const (
	safeCtxSet  = 1 << iota // safeContexts may hold the conn's context
	safeCtxKept             // a cleanup forgets the conn's entry when the conn is collected
)

// connAddrs is what a connection reports besides its peer: its protocol and
// its local address. The connections accepted from a listener share the
// listener's (they are the same for all of them); a client's connection has
// its own, with the peer's address as given (remoteAddr). An accepted
// connection's peer address is not kept as a net.Addr: RemoteAddr builds it
// from conn.remote (or conn.remote4) when asked.
type connAddrs struct {
	proto      string   // protocol name: "tcp", "udp", or "unix".
	localAddr  net.Addr // local addr
	remoteAddr net.Addr // remote addr of a client's connection; nil for accepted ones
}

// newStreamConn makes a stream connection; addrs is its listener's (or, for
// a client, the connection's own).
func newStreamConn(fd int, el *eventloop, sa unix.Sockaddr, addrs *connAddrs) (c *conn) {
	c = &conn{
		gfd:   gfd.FromFd(fd),
		addrs: addrs,
		loop:  el,
	}
	if sa4, ok := sa.(*unix.SockaddrInet4); ok && addrs.remoteAddr == nil {
		// The usual peer, kept inline instead of behind a pointer.
		c.remote4, c.remote4Port = sa4.Addr, uint16(sa4.Port)
	} else {
		c.remote = sa
	}
	c.setPollCallback(false)
	c.outboundBuffer.Reset(el.engine.opts.WriteBufferCap)
	return
}

// newAcceptedConn makes the connection accepted from a listener with
// addrs: an IPv4 peer given inline stays inline, with no unix.Sockaddr.
func newAcceptedConn(fd int, el *eventloop, p socket.Peer, addrs *connAddrs) (c *conn) {
	c = newStreamConn(fd, el, p.SA, addrs)
	if p.SA == nil {
		c.remote4, c.remote4Port = p.IP4, p.Port
	}
	return
}

// peerAddr is an accepted peer's address as conn.RemoteAddr gives it.
func peerAddr(p socket.Peer) net.Addr {
	if p.SA == nil {
		return tcpAddrOf4(p.IP4, p.Port)
	}
	return socket.SockaddrToTCPOrUnixAddr(p.SA)
}

// newUDPConn makes a UDP connection: a server's, for one datagram, with its
// listener's addrs, or a connected client's, with addrs of its own.
func newUDPConn(fd int, el *eventloop, addrs *connAddrs, sa unix.Sockaddr, connected bool) (c *conn) {
	c = &conn{
		gfd:        gfd.NewGFD(fd, el.idx, 0, 0),
		remote:     sa,
		addrs:      addrs,
		loop:       el,
		isDatagram: true,
	}
	c.setPollCallback(true)
	if connected {
		c.remote = nil
	}
	return
}

func (c *conn) release() {
	c.opened = false
	c.isEOF = false
	c.ctx = nil
	if c.safeCtxState.Load()&safeCtxSet != 0 {
		safeContexts.Delete(weak.Make(c))
		c.safeCtxState.And(^uint32(safeCtxSet))
	}
	c.buffer = nil
	c.loop.forgetPeekCache(c)
	if a := c.addrs; a != nil && a.remoteAddr != nil { // a client's own addresses
		if addr, ok := a.localAddr.(*net.TCPAddr); ok && len(c.loop.listeners) == 0 && len(addr.Zone) > 0 {
			bsPool.Put(bs.StringToBytes(addr.Zone))
		}
		if addr, ok := a.remoteAddr.(*net.TCPAddr); ok && len(addr.Zone) > 0 {
			bsPool.Put(bs.StringToBytes(addr.Zone))
		}
		if addr, ok := a.localAddr.(*net.UDPAddr); ok && len(c.loop.listeners) == 0 && len(addr.Zone) > 0 {
			bsPool.Put(bs.StringToBytes(addr.Zone))
		}
		if addr, ok := a.remoteAddr.(*net.UDPAddr); ok && len(addr.Zone) > 0 {
			bsPool.Put(bs.StringToBytes(addr.Zone))
		}
	}
	c.addrs = nil
	if !c.isDatagram {
		c.remote = nil
		c.remote4, c.remote4Port = [4]byte{}, 0
		c.inboundBuffer.Done()
		c.outboundBuffer.Release()
	}
}

func (c *conn) open(buf []byte) error {
	if c.isDatagram && c.remote == nil {
		return unix.Send(c.Fd(), buf, 0)
	}

	for {
		n, err := unix.Write(c.Fd(), buf)
		if err != nil {
			if err == unix.EAGAIN {
				_, _ = c.outboundBuffer.Write(buf)
				break
			}
			return err
		}
		buf = buf[n:]
		if len(buf) == 0 {
			break
		}
	}

	return nil
}

func (c *conn) write(data []byte) (n int, err error) {
	isET := c.loop.engine.opts.EdgeTriggeredIO
	n = len(data)
	// If there is pending data in outbound buffer,
	// the current data ought to be appended to the
	// outbound buffer for maintaining the sequence
	// of network packets.
	if !c.outboundBuffer.IsEmpty() {
		_, _ = c.outboundBuffer.Write(data)
		return
	}

	defer func() {
		if err != nil {
			_ = c.loop.close(c, os.NewSyscallError("write", err))
		}
	}()

	var sent int
loop:
	if sent, err = unix.Write(c.Fd(), data); err != nil {
		// A temporary error occurs, append the data to outbound buffer,
		// writing it back to the remote in the next round for LT mode.
		if err == unix.EAGAIN {
			_, err = c.outboundBuffer.Write(data)
			if !isET {
				err = c.loop.poller.ModReadWrite(c.pollAttachment(), isET)
			}
			return
		}
		return 0, err
	}
	data = data[sent:]
	if isET && len(data) > 0 {
		goto loop
	}
	// Failed to send all data back to the remote, buffer the leftover data for the next round.
	if len(data) > 0 {
		_, _ = c.outboundBuffer.Write(data)
		err = c.loop.poller.ModReadWrite(c.pollAttachment(), isET)
	}

	return
}

func (c *conn) writev(bs [][]byte) (n int, err error) {
	isET := c.loop.engine.opts.EdgeTriggeredIO

	for _, b := range bs {
		n += len(b)
	}

	// If there is pending data in outbound buffer,
	// the current data ought to be appended to the
	// outbound buffer for maintaining the sequence
	// of network packets.
	if !c.outboundBuffer.IsEmpty() {
		_, _ = c.outboundBuffer.Writev(bs)
		return
	}

	defer func() {
		if err != nil {
			_ = c.loop.close(c, os.NewSyscallError("writev", err))
		}
	}()

	remaining := n
	var sent int
loop:
	if sent, err = gio.Writev(c.Fd(), bs); err != nil {
		// A temporary error occurs, append the data to outbound buffer,
		// writing it back to the remote in the next round for LT mode.
		if err == unix.EAGAIN {
			_, err = c.outboundBuffer.Writev(bs)
			if !isET {
				err = c.loop.poller.ModReadWrite(c.pollAttachment(), isET)
			}
			return
		}
		return 0, err
	}
	pos := len(bs)
	if remaining -= sent; remaining > 0 {
		for i := range bs {
			bn := len(bs[i])
			if sent < bn {
				bs[i] = bs[i][sent:]
				pos = i
				break
			}
			sent -= bn
		}
	}
	bs = bs[pos:]
	if isET && remaining > 0 {
		goto loop
	}

	// Failed to send all data back to the remote, buffer the leftover data for the next round.
	if remaining > 0 {
		_, _ = c.outboundBuffer.Writev(bs)
		err = c.loop.poller.ModReadWrite(c.pollAttachment(), isET)
	}

	return
}

type asyncWriteHook struct {
	callback AsyncCallback
	data     []byte
}

func (c *conn) asyncWrite(a any) (err error) {
	hook := a.(*asyncWriteHook)
	defer func() {
		if hook.callback != nil {
			_ = hook.callback(c, err)
		}
	}()

	if !c.opened {
		return net.ErrClosed
	}

	_, err = c.write(hook.data)
	return
}

type asyncWritevHook struct {
	callback AsyncCallback
	data     [][]byte
}

func (c *conn) asyncWritev(a any) (err error) {
	hook := a.(*asyncWritevHook)
	defer func() {
		if hook.callback != nil {
			_ = hook.callback(c, err)
		}
	}()

	if !c.opened {
		return net.ErrClosed
	}

	_, err = c.writev(hook.data)
	return
}

func (c *conn) sendTo(buf []byte, addr unix.Sockaddr) (n int, err error) {
	defer func() {
		if err != nil {
			n = 0
		}
	}()

	if addr != nil {
		return len(buf), unix.Sendto(c.Fd(), buf, 0, addr)
	}
	if c.remote == nil { // connected UDP socket of client
		return len(buf), unix.Send(c.Fd(), buf, 0)
	}
	return len(buf), unix.Sendto(c.Fd(), buf, 0, c.remote) // unconnected UDP socket of server
}

func (c *conn) resetBuffer() {
	c.buffer = c.buffer[:0]
	c.inboundBuffer.Reset()
	c.inboundBuffer.Done()
}

func (c *conn) Read(p []byte) (n int, err error) {
	if c.inboundBuffer.IsEmpty() {
		n = copy(p, c.buffer)
		c.buffer = c.buffer[n:]
		if n == 0 && len(p) > 0 {
			err = io.ErrShortBuffer
		}
		return
	}
	n, _ = c.inboundBuffer.Read(p)
	if n == len(p) {
		return
	}
	m := copy(p[n:], c.buffer)
	n += m
	c.buffer = c.buffer[m:]
	return
}

func (c *conn) Next(n int) (buf []byte, err error) {
	inBufferLen := c.inboundBuffer.Buffered()
	if totalLen := inBufferLen + len(c.buffer); n > totalLen {
		return nil, io.ErrShortBuffer
	} else if n <= 0 {
		n = totalLen
	}

	if c.inboundBuffer.IsEmpty() {
		buf = c.buffer[:n]
		c.buffer = c.buffer[n:]
		return
	}

	buf = bsPool.Get(n)
	_, err = c.Read(buf)
	return
}

func (c *conn) Peek(n int) (buf []byte, err error) {
	inBufferLen := c.inboundBuffer.Buffered()
	if totalLen := inBufferLen + len(c.buffer); n > totalLen {
		return nil, io.ErrShortBuffer
	} else if n <= 0 {
		n = totalLen
	}

	if c.inboundBuffer.IsEmpty() {
		return c.buffer[:n], err
	}

	head, tail := c.inboundBuffer.Peek(n)
	if len(head) == n {
		return head, err
	}
	buf = bsPool.Get(n)[:0]
	buf = append(buf, head...)
	buf = append(buf, tail...)
	if inBufferLen >= n {
		return
	}

	remaining := n - inBufferLen
	buf = append(buf, c.buffer[:remaining]...)
	c.loop.setPeekCache(c, buf)
	return
}

func (c *conn) Discard(n int) (int, error) {
	c.loop.releasePeekCache(c)

	inBufferLen := c.inboundBuffer.Buffered()
	if totalLen := inBufferLen + len(c.buffer); n >= totalLen || n <= 0 {
		c.resetBuffer()
		return totalLen, nil
	}

	if c.inboundBuffer.IsEmpty() {
		c.buffer = c.buffer[n:]
		return n, nil
	}

	discarded, _ := c.inboundBuffer.Discard(n)
	if discarded < inBufferLen {
		return discarded, nil
	}

	remaining := n - inBufferLen
	c.buffer = c.buffer[remaining:]
	return n, nil
}

func (c *conn) Write(p []byte) (int, error) {
	if c.isDatagram {
		return c.sendTo(p, nil)
	}
	return c.write(p)
}

func (c *conn) SendTo(p []byte, addr net.Addr) (int, error) {
	if !c.isDatagram {
		return 0, errorx.ErrUnsupportedOp
	}

	sa := socket.NetAddrToSockaddr(addr)
	if sa == nil {
		return 0, errorx.ErrInvalidNetworkAddress
	}

	return c.sendTo(p, sa)
}

func (c *conn) Writev(bs [][]byte) (int, error) {
	if c.isDatagram {
		return 0, errorx.ErrUnsupportedOp
	}
	return c.writev(bs)
}

func (c *conn) ReadFrom(r io.Reader) (int64, error) {
	return c.outboundBuffer.ReadFrom(r)
}

func (c *conn) WriteTo(w io.Writer) (n int64, err error) {
	if !c.inboundBuffer.IsEmpty() {
		if n, err = c.inboundBuffer.WriteTo(w); err != nil {
			return
		}
	}
	var m int
	m, err = w.Write(c.buffer)
	n += int64(m)
	c.buffer = c.buffer[m:]
	return
}

func (c *conn) Flush() error {
	return c.loop.write(c)
}

func (c *conn) InboundBuffered() int {
	return c.inboundBuffer.Buffered() + len(c.buffer)
}

func (c *conn) OutboundBuffered() int {
	return c.outboundBuffer.Buffered()
}

func (c *conn) Context() any       { return c.ctx }
func (c *conn) SetContext(ctx any) { c.ctx = ctx }

// LocalAddr returns the local address, nil once the connection is closed.
func (c *conn) LocalAddr() net.Addr {
	if c.addrs == nil {
		return nil
	}
	return c.addrs.localAddr
}

// RemoteAddr returns the peer's address, nil once the connection is closed.
// For an accepted connection it is made on each call, from the socket
// address kept since the accept.
func (c *conn) RemoteAddr() net.Addr {
	switch {
	case c.addrs == nil:
		return nil
	case c.addrs.remoteAddr != nil:
		return c.addrs.remoteAddr
	case c.isDatagram:
		if c.remote == nil {
			return nil
		}
		return socket.SockaddrToUDPAddr(c.remote)
	case c.remote == nil && c.remote4Port != 0:
		return tcpAddrOf4(c.remote4, c.remote4Port)
	}
	return socket.SockaddrToTCPOrUnixAddr(c.remote)
}

// RemoteAddrPort returns an IP peer's address and port, without allocating
// (but for an IPv6 peer with a zone); the zero AddrPort for other peers
// (unix sockets) and once the connection is closed. It is RemoteAddr's
// address, as net.TCPAddr.AddrPort (or net.UDPAddr.AddrPort) gives it.
func (c *conn) RemoteAddrPort() netip.AddrPort {
	switch {
	case c.addrs == nil:
		return netip.AddrPort{}
	case c.addrs.remoteAddr != nil:
		switch a := c.addrs.remoteAddr.(type) {
		case *net.TCPAddr:
			return a.AddrPort()
		case *net.UDPAddr:
			return a.AddrPort()
		}
		return netip.AddrPort{}
	case !c.isDatagram && c.remote == nil && c.remote4Port != 0:
		return netip.AddrPortFrom(netip.AddrFrom4(c.remote4), c.remote4Port)
	}
	switch sa := c.remote.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port))
	case *unix.SockaddrInet6:
		if sa.ZoneId != 0 { // the zone's name, as RemoteAddr has it
			switch ra := c.RemoteAddr().(type) {
			case *net.TCPAddr:
				return ra.AddrPort()
			case *net.UDPAddr:
				return ra.AddrPort()
			}
		}
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr), uint16(sa.Port))
	}
	return netip.AddrPort{}
}

// tcpAddrOf4 makes the net.TCPAddr of an IPv4 peer and its IP in one
// allocation.
func tcpAddrOf4(ip [4]byte, port uint16) net.Addr {
	a := new(tcpAddr4)
	a.ip = ip
	a.TCPAddr = net.TCPAddr{IP: a.ip[:], Port: int(port)}
	return &a.TCPAddr
}

// tcpAddr4 is a net.TCPAddr of an IPv4 peer with its IP's bytes, made in
// one allocation.
type tcpAddr4 struct {
	net.TCPAddr
	ip [4]byte
}

// proto returns the protocol name, "" once the connection is closed.
func (c *conn) proto() string {
	if c.addrs == nil {
		return ""
	}
	return c.addrs.proto
}

// Implementation of Socket interface

// func (c *conn) Gfd() gfd.GFD             { return c.gfd }

func (c *conn) Fd() int                        { return c.gfd.FdBytes() }
func (c *conn) Dup() (fd int, err error)       { return socket.Dup(c.Fd()) }
func (c *conn) SetReadBuffer(bytes int) error  { return socket.SetRecvBuffer(c.Fd(), bytes) }
func (c *conn) SetWriteBuffer(bytes int) error { return socket.SetSendBuffer(c.Fd(), bytes) }
func (c *conn) SetLinger(sec int) error        { return socket.SetLinger(c.Fd(), sec) }
func (c *conn) SetNoDelay(noDelay bool) error {
	return socket.SetNoDelay(c.Fd(), func(b bool) int {
		if b {
			return 1
		}
		return 0
	}(noDelay))
}

func (c *conn) SetKeepAlivePeriod(d time.Duration) error {
	if c.proto() != "tcp" {
		return errorx.ErrUnsupportedOp
	}
	return socket.SetKeepAlivePeriod(c.Fd(), int(d.Seconds()))
}

func (c *conn) SetKeepAlive(enabled bool, idle, intvl time.Duration, cnt int) error {
	if c.proto() != "tcp" {
		return errorx.ErrUnsupportedOp
	}
	return socket.SetKeepAlive(c.Fd(), enabled, int(idle.Seconds()), int(intvl.Seconds()), cnt)
}

func (c *conn) AsyncWrite(buf []byte, callback AsyncCallback) error {
	if c.isDatagram {
		_, err := c.sendTo(buf, nil)
		// TODO: it will not go asynchronously with UDP, so calling a callback is needless,
		//  we may remove this branch in the future, please don't rely on the callback
		// 	to do something important under UDP, if you're working with UDP, just call Conn.Write
		// 	to send back your data.
		if callback != nil {
			_ = callback(nil, nil)
		}
		return err
	}
	return c.loop.poller.Trigger(queue.HighPriority, c.asyncWrite, &asyncWriteHook{callback, buf})
}

func (c *conn) AsyncWritev(bs [][]byte, callback AsyncCallback) error {
	if c.isDatagram {
		return errorx.ErrUnsupportedOp
	}
	return c.loop.poller.Trigger(queue.HighPriority, c.asyncWritev, &asyncWritevHook{callback, bs})
}

func (c *conn) Wake(callback AsyncCallback) error {
	return c.loop.poller.Trigger(queue.LowPriority, func(_ any) (err error) {
		err = c.loop.wake(c)
		if callback != nil {
			_ = callback(c, err)
		}
		return
	}, nil)
}

func (c *conn) CloseWithCallback(callback AsyncCallback) error {
	return c.loop.poller.Trigger(queue.LowPriority, func(_ any) (err error) {
		err = c.loop.close(c, nil)
		if callback != nil {
			_ = callback(c, err)
		}
		return
	}, nil)
}

func (c *conn) Close() error {
	return c.loop.poller.Trigger(queue.LowPriority, func(_ any) (err error) {
		err = c.loop.close(c, nil)
		return
	}, nil)
}

func (c *conn) EventLoop() EventLoop {
	return c.loop
}

func (*conn) SetDeadline(_ time.Time) error {
	return errorx.ErrUnsupportedOp
}

func (*conn) SetReadDeadline(_ time.Time) error {
	return errorx.ErrUnsupportedOp
}

func (*conn) SetWriteDeadline(_ time.Time) error {
	return errorx.ErrUnsupportedOp
}

func (c *conn) SafeContext() (ctx any) {
	if c.safeCtxState.Load()&safeCtxSet == 0 {
		return nil
	}
	ctx, _ = safeContexts.Load(weak.Make(c))
	return
}

func (c *conn) SetSafeContext(ctx any) {
	key := weak.Make(c)
	for st := c.safeCtxState.Load(); st&safeCtxKept == 0; st = c.safeCtxState.Load() {
		if c.safeCtxState.CompareAndSwap(st, st|safeCtxKept) {
			runtime.AddCleanup(c, func(k weak.Pointer[conn]) { safeContexts.Delete(k) }, key)
			break
		}
	}
	safeContexts.Store(key, ctx)
	c.safeCtxState.Or(safeCtxSet)
}
