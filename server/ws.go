package server

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/gobwas/ws"
	"github.com/panjf2000/gnet/v2"
	"github.com/valyala/bytebufferpool"

	"github.com/rtd-project/rtd/hub"
	"github.com/rtd-project/rtd/proto/http1"
	"github.com/rtd-project/rtd/proto/wsframe"
)

// SlowClientPolicy says what happens when a message would push a
// connection's send queue over its limit. The zero value is SlowClientClose,
// as in rtd serve: a client that cannot keep up is closed (and recovers what
// it missed from history when it comes back) rather than left to fall
// further behind.
type SlowClientPolicy uint8

const (
	// SlowClientClose closes the connection (the default): WebSocket with
	// 1013 (try again later) after a short grace so the close frame can
	// still be delivered, SSE by ending the stream.
	SlowClientClose SlowClientPolicy = iota
	// SlowClientError refuses the message: a send returns ErrSlowClient and a
	// hub publication is not delivered to that connection (counted).
	SlowClientError
	// SlowClientDrop drops the message silently (sends return ErrDropped).
	SlowClientDrop
)

// WSOptions configures a WebSocket route. The zero value protects as rtd
// serve does: pings every 25s, a socket silent for 60s (a dead peer) closed,
// a slow client closed with 1013 after a 1s grace, 64 KiB messages, a 1 MiB
// send queue, same-origin browsers only.
type WSOptions struct {
	// Protocols lists the accepted subprotocols in preference order. When
	// set, a client must offer one of them.
	Protocols []string
	// Origins lists the other sites whose pages may connect: origins
	// ("https://app.example.com"), patterns ("https://*.example.com") or "*"
	// (any site; see wsframe.MatchOrigin). Empty: same-origin only, so a
	// page of another site cannot connect with its visitors' cookies. A
	// request without Origin (a non-browser client) is allowed. A malformed
	// entry fails WebSocket with ErrBadOrigins.
	Origins []string
	// MaxMessageBytes bounds an inbound message (after reassembly and
	// decompression; larger → close 1009). Default 64 KiB.
	MaxMessageBytes int
	// MaxSendQueueBytes bounds what is queued for one socket in user space
	// (rtd's queue plus gnet's outbound buffer), and so an outbound message:
	// a larger one could never be queued (ErrTooLarge). Default 1 MiB.
	MaxSendQueueBytes int
	// HeartbeatInterval sends a ping this often. Default 25s (as rtd
	// serve's --ws-heartbeat); negative: no pings.
	HeartbeatInterval time.Duration
	// IdleTimeout closes (1001) a socket that sent nothing, not even a pong,
	// for this long: a dead peer is reclaimed within it. Default 60s (as rtd
	// serve's --ws-idle-timeout), or never when HeartbeatInterval is
	// negative (a client that only listens would send nothing); negative:
	// never. Keep it above HeartbeatInterval, twice it allows for a lost
	// pong.
	IdleTimeout time.Duration
	// CloseTimeout bounds the closing handshake: after rtd sends a close
	// frame, the TCP connection is closed when the peer answers or after
	// this long. Default 5s.
	CloseTimeout time.Duration
	// SlowClientGrace is how long a socket closed by SlowClientClose gets to
	// read its 1013 close frame. Default 1s.
	SlowClientGrace time.Duration
	// Compression negotiates permessage-deflate (no context takeover, so
	// there is no per-connection compressor state).
	Compression bool
	// SlowClientPolicy: SlowClientClose (default: 1013 after
	// SlowClientGrace), SlowClientError or SlowClientDrop.
	SlowClientPolicy SlowClientPolicy
	// KeepHeaders keeps the request headers for Socket.Request after OnOpen.
	// Off by default: idle sockets stay small.
	KeepHeaders bool
	// Authorize runs before the upgrade. A non-nil error rejects the request:
	// an *HTTPError with its status, anything else with 403.
	Authorize func(r *Request) error
}

const (
	defaultMaxMessageBytes   = 64 << 10
	defaultMaxSendQueueBytes = 1 << 20
	defaultCloseTimeout      = 5 * time.Second
	defaultSlowClientGrace   = time.Second
)

// The default heartbeat and idle timeout of a WebSocket route: variables so
// that a test can watch a default route close a dead peer in milliseconds.
var (
	defaultWSHeartbeat   = 25 * time.Second
	defaultWSIdleTimeout = 60 * time.Second
)

// withDefaults fills in the defaults; a negative HeartbeatInterval or
// IdleTimeout (off) becomes 0, which the timers read as off.
func (o WSOptions) withDefaults() WSOptions {
	switch {
	case o.IdleTimeout < 0:
		o.IdleTimeout = 0
	case o.IdleTimeout == 0 && o.HeartbeatInterval >= 0:
		o.IdleTimeout = defaultWSIdleTimeout
	}
	switch {
	case o.HeartbeatInterval < 0:
		o.HeartbeatInterval = 0
	case o.HeartbeatInterval == 0:
		o.HeartbeatInterval = defaultWSHeartbeat
	}
	if o.MaxMessageBytes <= 0 {
		o.MaxMessageBytes = defaultMaxMessageBytes
	}
	if o.MaxSendQueueBytes <= 0 {
		o.MaxSendQueueBytes = defaultMaxSendQueueBytes
	}
	if o.CloseTimeout <= 0 {
		o.CloseTimeout = defaultCloseTimeout
	}
	if o.SlowClientGrace <= 0 {
		o.SlowClientGrace = defaultSlowClientGrace
	}
	return o
}

// MessageType is the type of a WebSocket data message.
type MessageType uint8

const (
	// Text is a UTF-8 text message.
	Text MessageType = iota + 1
	// Binary is a binary message.
	Binary
)

// Message is one inbound WebSocket message. Data is valid only during the
// OnMessage call: copy what you keep.
type Message struct {
	Type MessageType
	Data []byte
}

// WSHandler holds a WebSocket route's callbacks. They run on the socket's
// event loop, one at a time and in order: they must not block.
type WSHandler struct {
	// OnOpen runs once the 101 response is queued. s.Request() still has
	// every header here, KeepHeaders or not.
	OnOpen func(s *Socket)
	// OnMessage runs for each complete text or binary message.
	OnMessage func(s *Socket, m Message)
	// OnClose runs once, when the connection is gone, with the close code and
	// reason the peer sent (or rtd sent; 1006 when the TCP connection just
	// dropped).
	OnClose func(s *Socket, code int, reason string)
}

type wsRoute struct {
	h    WSHandler
	opts WSOptions
	up   wsframe.UpgradeOptions
	m    *RouteMetrics
}

// WebSocket registers a WebSocket route on GET pattern.
func (s *Server) WebSocket(pattern string, h WSHandler, o WSOptions) error {
	if s.running.Load() {
		return ErrRunning
	}
	if err := checkOrigins(o.Origins, false); err != nil {
		return err
	}
	o = o.withDefaults()
	wr := &wsRoute{h: h, opts: o, up: wsframe.UpgradeOptions{Protocols: o.Protocols, Origins: o.Origins, Compression: o.Compression}, m: s.newRouteMetrics(pattern, kindWS)}
	if err := s.router.add(&route{method: "GET", pattern: pattern, kind: kindWS, ws: wr}); err != nil {
		return err
	}
	s.addRouteMetrics(wr.m)
	return nil
}

// Socket is one WebSocket connection. Its send methods and Close are safe
// from any goroutine and never block; everything else is for the handler's
// callbacks.
//
// Fields are ordered so that an idle socket fits a 240-byte allocation: it is
// the largest per-connection cost rtd adds to gnet's own.
type Socket struct {
	c      *conn
	route  *wsRoute
	req    atomic.Pointer[Request]
	reader *wsframe.Reader // from the loop's pool while frames are being read; nil when idle

	hc    hub.Client // hc.ID is the socket's ID
	value atomic.Pointer[any]

	// Read by senders on any goroutine.
	sendQueue

	// Loop-only state.
	lastRead    int64
	nextPing    int64
	closeReason string

	ctxMu sync.Mutex   // guards ctx
	ctx   *connContext // made by the first Context call; endedContext once closed

	closing   atomic.Bool // a close frame is queued or the connection is gone (any goroutine)
	closeCode uint16      // loop-only
	protocol  int8        // index of the subprotocol in route.opts.Protocols; -1 for none
	deflate   bool
}

// connContext is a connection's context, made only when asked for.
type connContext struct {
	ctx    context.Context
	cancel context.CancelFunc
}

// endedContext stands for the context of every connection that closed
// before anyone asked for one.
var endedContext = func() *connContext {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return &connContext{ctx, cancel}
}()

// lazyContext returns *cc's context, making it on first use. The caller
// holds the owner's lock.
func lazyContext(cc **connContext) context.Context {
	if *cc == nil {
		ctx, cancel := context.WithCancel(context.Background())
		*cc = &connContext{ctx, cancel}
	}
	return (*cc).ctx
}

// endContext cancels *cc's context, or marks it ended if none was made. The
// caller holds the owner's lock.
func endContext(cc **connContext) {
	if *cc == nil {
		*cc = endedContext
		return
	}
	(*cc).cancel()
}

// protocolIndex returns the index of p in protocols, -1 for "" or none.
func protocolIndex(protocols []string, p string) int8 {
	if p != "" {
		for i, q := range protocols {
			if q == p {
				return int8(i)
			}
		}
	}
	return -1
}

// upgradeWS validates an upgrade request, runs Authorize and switches the
// connection to WebSocket.
func (l *loop) upgradeWS(c *conn, rt *route, r *Request) gnet.Action {
	s := l.s
	start := time.Now()
	wr := rt.ws
	req := r.live.Request
	up, err := wsframe.CheckUpgrade(req.Method, req.Major, req.Minor, req, &wr.up)
	if err != nil {
		s.metrics.WSUpgradesReject.Add(1)
		wr.m.Rejected.Add(1)
		l.logRefused(c, "ws", req, wsframe.HandshakeStatus(err), err.Error())
		l.wbuf = wsframe.AppendHandshakeRejection(l.wbuf, err)
		return gnet.Close
	}
	if wr.opts.Authorize != nil {
		if err := wr.opts.Authorize(r); err != nil {
			s.metrics.WSUpgradesReject.Add(1)
			wr.m.Rejected.Add(1)
			l.wbuf = l.reject(l.wbuf, c, "ws", req, err)
			return gnet.Close
		}
	}
	if s.draining.Load() {
		s.metrics.WSUpgradesReject.Add(1)
		wr.m.Rejected.Add(1)
		l.logRefused(c, "ws", req, 503, "shutting down")
		l.wbuf = appendError(l.wbuf, 503, "shutting down", false)
		return gnet.Close
	}
	sock := &Socket{
		c:        c,
		route:    wr,
		protocol: protocolIndex(wr.opts.Protocols, up.Protocol),
		deflate:  up.Deflate,
	}
	sock.hc = hub.Client{ID: strconv.FormatUint(s.nextID.Add(1), 36), User: r.user, Loop: l.idx}
	c.ws = sock
	if err := s.hub.Connect(c); err != nil {
		c.ws = nil
		s.metrics.WSUpgradesReject.Add(1)
		wr.m.Rejected.Add(1)
		status, msg := errHubStatus(err)
		l.logRefused(c, "ws", req, status, msg)
		l.wbuf = appendError(l.wbuf, status, msg, false)
		return gnet.Close
	}
	now := s.now()
	sock.lastRead = now
	if wr.opts.HeartbeatInterval > 0 {
		sock.nextPing = now + int64(wr.opts.HeartbeatInterval)
	}
	l.wbuf = wsframe.AppendUpgradeResponse(l.wbuf, req.Header("Sec-WebSocket-Key"), &up)
	c.ws = sock
	c.state = stateWS
	c.flags = 0
	s.metrics.WSUpgrades.Add(1)
	s.metrics.WSConnections.Add(1)
	wr.m.Opened.Add(1)
	wr.m.Open.Add(1)
	s.metrics.HandshakeWS.Observe(int64(time.Since(start)))
	l.logOpen(c, "ws", &sock.hc, req)
	// The 101 stays in l.wbuf, which serveHTTP writes before the loop
	// flushes anything OnOpen queues or sends.
	sock.req.Store(openRequest(r, wr.h.OnOpen != nil, wr.opts.KeepHeaders))
	if wr.h.OnOpen != nil {
		wr.h.OnOpen(sock)
		if !wr.opts.KeepHeaders {
			sock.req.Store(sock.req.Load().withoutHeaders())
		}
	}
	return gnet.None
}

// reject answers an Authorize error (an HTTPError's status, else 403) and
// logs it.
func (l *loop) reject(dst []byte, c *conn, transport string, req *http1.Request, err error) []byte {
	status, msg := refusal(err)
	l.logRefused(c, transport, req, status, msg)
	return appendError(dst, status, msg, false)
}

// serveWS parses every whole frame in the input buffer, with a Reader from
// the loop's pool that goes back once the socket is between messages.
func (l *loop) serveWS(c *conn) gnet.Action {
	sock := c.ws
	if sock.reader == nil {
		sock.reader = l.takeReader(sock)
	}
	act := l.serveFrames(c)
	if sock.reader != nil && sock.reader.Idle() {
		l.putReader(sock)
	}
	return act
}

// takeReader returns a Reader for sock from the loop's pool.
func (l *loop) takeReader(sock *Socket) *wsframe.Reader {
	var r *wsframe.Reader
	if n := len(l.readers); n > 0 {
		r, l.readers = l.readers[n-1], l.readers[:n-1]
	} else {
		r = new(wsframe.Reader)
	}
	r.Init(wsframe.ReaderOptions{MaxMessageBytes: sock.route.opts.MaxMessageBytes, Deflate: sock.deflate})
	return r
}

// putReader gives sock's Reader back to the loop's pool.
func (l *loop) putReader(sock *Socket) {
	sock.reader.Release()
	l.readers = append(l.readers, sock.reader)
	sock.reader = nil
}

// serveFrames is serveWS's work.
func (l *loop) serveFrames(c *conn) gnet.Action {
	s := l.s
	sock := c.ws
	sock.lastRead = s.now()
	for c.state == stateWS {
		buf, _ := c.gc.Peek(-1)
		if len(buf) == 0 {
			return gnet.None
		}
		n, ev, err := sock.reader.Next(buf)
		if err != nil {
			var ce *wsframe.CloseError
			code := ws.StatusProtocolError
			reason := err.Error()
			if errors.As(err, &ce) {
				code, reason = ce.Code, ce.Reason
			}
			_, _ = c.gc.Discard(c.gc.InboundBuffered())
			l.failWS(c, int(code), reason)
			return gnet.None
		}
		if n == 0 {
			return gnet.None
		}
		l.onFrame(c, ev)
		_, _ = c.gc.Discard(n)
	}
	_, _ = c.gc.Discard(c.gc.InboundBuffered())
	return gnet.None
}

// onFrame handles one parsed event; ev's payload dies when it returns.
func (l *loop) onFrame(c *conn, ev wsframe.Event) {
	s := l.s
	sock := c.ws
	switch ev.Kind {
	case wsframe.Text, wsframe.Binary:
		mt := Text
		if ev.Kind == wsframe.Binary {
			mt = Binary
		}
		s.metrics.WSMessagesIn.Add(1)
		s.metrics.WSBytesIn.Add(int64(len(ev.Payload)))
		sock.route.m.MessagesIn[mt-1].Add(1)
		sock.route.m.BytesIn.Add(int64(len(ev.Payload)))
		if sock.closing.Load() || sock.route.h.OnMessage == nil {
			return
		}
		sock.route.h.OnMessage(sock, Message{Type: mt, Data: ev.Payload})
	case wsframe.Ping:
		if !sock.closing.Load() {
			l.postControl(c, ws.OpPong, ev.Payload)
		}
	case wsframe.Pong:
	case wsframe.Close:
		code, reason := int(ev.Code), string(ev.Reason)
		c.state = stateClosing
		c.deadline = s.now() + int64(sock.route.opts.CloseTimeout)
		if sock.closing.Swap(true) {
			// Our close was answered: the handshake is complete once
			// what is queued (our close frame last) is written.
			_ = l.post(inboxItem{op: opFail, c: c})
			return
		}
		sock.closeCode, sock.closeReason = uint16(code), reason
		reply := code
		if code == int(ws.StatusNoStatusRcvd) {
			reply = int(ws.StatusNormalClosure)
		}
		// Posted, so that what the handler sent before (an echo of the
		// message right before the close) goes out first.
		_ = l.post(inboxItem{op: opFail, c: c, code: reply})
	}
}

// failWS sends a close frame for a protocol error, behind what is already
// posted, and drops the connection once it is written.
func (l *loop) failWS(c *conn, code int, reason string) {
	sock := c.ws
	c.state = stateClosing
	c.deadline = l.s.now() + int64(sock.route.opts.CloseTimeout)
	if sock.closing.Swap(true) {
		code = 0 // our close frame is queued already
	} else {
		sock.closeCode, sock.closeReason = uint16(code), reason
	}
	_ = l.post(inboxItem{op: opFail, c: c, code: code, reason: reason})
}

// startCloseWS begins a server-initiated closing handshake: the close frame
// is queued behind what is already queued, then rtd waits for the peer's
// close frame (or the deadline) before dropping TCP.
func (l *loop) startCloseWS(c *conn, code int, reason string, wait time.Duration) {
	sock := c.ws
	if c.state != stateWS || sock.closing.Swap(true) {
		return
	}
	sock.closeCode, sock.closeReason = uint16(code), reason
	l.queueClose(c, code, reason)
	c.deadline = l.s.now() + int64(wait)
}

// wsTimer: heartbeats, idle timeout, closing deadline; refreshes the backlog
// figure that senders on other goroutines check.
func (l *loop) wsTimer(c *conn, now int64) {
	sock := c.ws
	o := &sock.route.opts
	l.setBacklog(&sock.sendQueue, c.gc.OutboundBuffered())
	if sock.closing.Load() {
		if now >= c.deadline {
			_ = c.gc.Close()
		}
		return
	}
	if o.IdleTimeout > 0 && now-sock.lastRead >= int64(o.IdleTimeout) {
		l.startCloseWS(c, int(ws.StatusGoingAway), "idle timeout", o.CloseTimeout)
		return
	}
	if o.HeartbeatInterval > 0 && now >= sock.nextPing {
		sock.nextPing = now + int64(o.HeartbeatInterval)
		l.queue(c, ws.CompiledPing)
	}
}

func (l *loop) wsGoAway(c *conn) {
	l.startCloseWS(c, int(ws.StatusGoingAway), "server shutting down", c.ws.route.opts.CloseTimeout)
}

// wsClosed runs from OnClose.
func (l *loop) wsClosed(c *conn, err error) {
	sock := c.ws
	sock.closing.Store(true)
	s := l.s
	s.metrics.WSConnections.Add(-1)
	code := int(sock.closeCode)
	if code == 0 {
		code = int(ws.StatusAbnormalClosure)
	}
	s.metrics.WSCloseByCode[closeSlot(code)].Add(1)
	sock.route.m.closes[closeSlot(code)].Add(1)
	sock.route.m.Open.Add(-1)
	l.logClose("ws", &sock.hc, code, sock.closeReason)
	if sock.reader != nil {
		l.putReader(sock)
	}
	s.hub.Disconnect(c)
	if sock.route.h.OnClose != nil {
		sock.route.h.OnClose(sock, code, sock.closeReason)
	}
	sock.ctxMu.Lock()
	endContext(&sock.ctx)
	sock.ctxMu.Unlock()
}

// frameOf picks the frame of a prepared publication this socket takes.
func (sock *Socket) frameOf(m *hub.Prepared) []byte {
	if sock.deflate {
		return deflateFrame(m)
	}
	return m.WS
}

// ID returns the socket's server-unique ID.
func (sock *Socket) ID() string { return sock.hc.ID }

// Protocol returns the negotiated subprotocol ("" if none).
func (sock *Socket) Protocol() string {
	if sock.protocol < 0 {
		return ""
	}
	return sock.route.opts.Protocols[sock.protocol]
}

// Compressed reports whether permessage-deflate was negotiated.
func (sock *Socket) Compressed() bool { return sock.deflate }

// Request returns the upgrade request (see Request for what is kept).
func (sock *Socket) Request() *Request { return sock.req.Load() }

// RemoteAddr returns the peer's address.
func (sock *Socket) RemoteAddr() string { return sock.Request().RemoteAddr() }

// SetValue attaches user data to the socket; Value returns it. Safe from any
// goroutine.
func (sock *Socket) SetValue(v any) { sock.value.Store(&v) }

// Value returns what SetValue stored, or nil.
func (sock *Socket) Value() any {
	if p := sock.value.Load(); p != nil {
		return *p
	}
	return nil
}

// Context returns a context cancelled when the connection closes.
func (sock *Socket) Context() context.Context {
	sock.ctxMu.Lock()
	defer sock.ctxMu.Unlock()
	return lazyContext(&sock.ctx)
}

// SendText sends a text message.
func (sock *Socket) SendText(text string) error {
	return sock.send(ws.OpText, nil, text)
}

// SendBinary sends a binary message. p may be reused when SendBinary returns.
func (sock *Socket) SendBinary(p []byte) error {
	return sock.send(ws.OpBinary, p, "")
}

// SendJSON sends v encoded as JSON in a text message.
func (sock *Socket) SendJSON(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return sock.send(ws.OpText, b, "")
}

// Ping sends a ping with payload (at most 125 bytes, else ErrTooLarge).
func (sock *Socket) Ping(payload []byte) error { return sock.sendControl(ws.OpPing, payload) }

// SendPong sends an unsolicited pong with payload p (at most 125 bytes, else
// ErrTooLarge): a one-way heartbeat the peer does not answer (RFC 6455
// §5.5.3). Pings are answered by the server itself; this is not needed for
// that. p may be reused when SendPong returns.
func (sock *Socket) SendPong(p []byte) error { return sock.sendControl(ws.OpPong, p) }

// sendControl sends a ping or pong: RFC 6455 caps their payload at 125 bytes.
func (sock *Socket) sendControl(op ws.OpCode, p []byte) error {
	if len(p) > 125 {
		return ErrTooLarge
	}
	return sock.send(op, p, "")
}

// Closed reports whether the socket is closing or closed: a close frame was
// sent or received, or the connection is gone. From then on every send
// fails with ErrClosed.
func (sock *Socket) Closed() bool { return sock.closing.Load() }

// Close starts the closing handshake with code and reason. It is idempotent
// and safe from any goroutine.
func (sock *Socket) Close(code int, reason string) error {
	if sock.closing.Load() {
		return nil
	}
	return sock.c.l.post(inboxItem{op: opClose, c: sock.c, code: code, reason: reason})
}

// compressMin is the smallest message a deflate socket sends compressed;
// below it the deflate block overhead outweighs the saving.
const compressMin = 128

// send frames a message into a pooled buffer and posts it to the loop.
func (sock *Socket) send(op ws.OpCode, p []byte, text string) error {
	if sock.closing.Load() {
		return ErrClosed
	}
	if text != "" {
		p = unsafe.Slice(unsafe.StringData(text), len(text)) // read only
	}
	if len(p) > sock.route.opts.MaxSendQueueBytes {
		return ErrTooLarge
	}
	l := sock.c.l
	if !sock.admit(len(p), sock.route.opts.MaxSendQueueBytes) {
		closeIt, err := l.s.refused(sock.c, sock.route.opts.SlowClientPolicy)
		if closeIt {
			_ = l.post(inboxItem{op: opClose, c: sock.c, code: closeTryAgainLater})
		}
		return err
	}
	bb := bytebufferpool.Get()
	if sock.deflate && !op.IsControl() && len(p) >= compressMin {
		bb.B = appendCompressedFrame(bb.B[:0], op, p)
	} else {
		bb.B = wsframe.AppendFrame(bb.B[:0], op, p)
	}
	sock.posted.Add(int64(len(bb.B)))
	if err := l.post(inboxItem{op: opSend, c: sock.c, buf: bb}); err != nil {
		sock.posted.Add(-int64(len(bb.B)))
		bytebufferpool.Put(bb)
		return ErrClosed
	}
	return nil
}

// closeTryAgainLater is 1013, which gobwas/ws has no constant for.
const closeTryAgainLater = 1013

// appendCompressedFrame appends a permessage-deflate frame (RSV1 set) of p.
func appendCompressedFrame(dst []byte, op ws.OpCode, p []byte) []byte {
	zb := bytebufferpool.Get()
	zb.B = wsframe.Compress(zb.B[:0], p)
	dst = wsframe.AppendFrameHeader(dst, true, op, true, len(zb.B))
	dst = append(dst, zb.B...)
	bytebufferpool.Put(zb)
	return dst
}

// Send sends m (text or binary) unchanged; m.Data may be reused when Send
// returns, so an OnMessage callback can echo its message.
func (sock *Socket) Send(m Message) error {
	if m.Type == Binary {
		return sock.send(ws.OpBinary, m.Data, "")
	}
	return sock.send(ws.OpText, m.Data, "")
}

// refusal is the status and message an Authorize hook's or a guard's error
// is answered with: an HTTPError's own, else 403.
func refusal(err error) (int, string) {
	var he *HTTPError
	if errors.As(err, &he) {
		return he.Status, he.Message
	}
	return 403, "forbidden"
}
