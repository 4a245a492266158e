package server

import (
	"encoding/json"
	"time"
	"unsafe"

	"github.com/gobwas/ws"
	"github.com/valyala/bytebufferpool"

	"github.com/rtd-project/rtd/hub"
	"github.com/rtd-project/rtd/proto/wsframe"
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
	// a larger one could never be queued (ErrTooLarge). Default 1 MiB, at
	// most 1 GiB.
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
	// OpenWithoutHeaders: OnOpen reads no request header (a route that
	// reads them in Authorize), so none is copied for it and
	// Request().Header is "" there too (unless KeepHeaders): a handshake
	// leaves a copy of its headers less behind as garbage.
	OpenWithoutHeaders bool
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
	orDefault(&o.MaxMessageBytes, defaultMaxMessageBytes)
	orDefault(&o.MaxSendQueueBytes, defaultMaxSendQueueBytes)
	o.MaxSendQueueBytes = min(o.MaxSendQueueBytes, maxSendQueueBytes)
	orDefault(&o.CloseTimeout, defaultCloseTimeout)
	orDefault(&o.SlowClientGrace, defaultSlowClientGrace)
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
	// every header here, KeepHeaders or not (but with OpenWithoutHeaders).
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
	o = o.withDefaults()
	wr := &wsRoute{h: h, opts: o, up: wsframe.UpgradeOptions{Protocols: o.Protocols, Origins: o.Origins, Compression: o.Compression}, m: s.newRouteMetrics(pattern, kindWS)}
	return s.handleConns(&route{method: "GET", pattern: pattern, kind: kindWS, ws: wr}, wr.m, o.Origins, false)
}

// Socket is one WebSocket connection. Its send methods and Close are safe
// from any goroutine and never block; everything else is for the handler's
// callbacks.
//
// An idle socket fits a 240-byte allocation (size_test.go): it is the
// largest per-connection cost rtd adds to gnet's own.
type Socket struct {
	endpoint
	route  *wsRoute
	reader *wsframe.Reader // from the loop's pool while frames are being read; nil when idle

	// Loop-only state. The next ping is the connection's deadline. The
	// negotiated subprotocol and deflate are in the endpoint.
	lastRead int64
}

// Protocol returns the negotiated subprotocol ("" if none).
func (sock *Socket) Protocol() string {
	if sock.protocol < 0 {
		return ""
	}
	return sock.route.opts.Protocols[sock.protocol]
}

// Compressed reports whether permessage-deflate was negotiated.
func (sock *Socket) Compressed() bool { return sock.deflate }

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

// Close starts the closing handshake with code and reason. It is idempotent
// and safe from any goroutine.
func (sock *Socket) Close(code int, reason string) error {
	return sock.close(code, reason)
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
	bb := bytebufferpool.Get()
	if sock.deflate && !op.IsControl() && len(p) >= compressMin {
		bb.B = appendCompressedFrame(bb.B[:0], op, p)
	} else {
		bb.B = wsframe.AppendFrame(bb.B[:0], op, p)
	}
	return sock.post(bb, opSend)
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

// SubscribeWith is Subscribe for protocols that answer a subscribe request.
// The subscription is made on the socket's loop once everything sent to the
// socket before is queued; reply then returns the text message to send
// (appended to dst), which goes out ahead of the missed publications and of
// every live one. A reply is never dropped: if the socket's send queue has
// no room for it, the socket is closed with 1013. reply must not keep dst,
// and may run after SubscribeWith returns: it must not use the Message of
// the callback that called SubscribeWith. Call it from the socket's
// callbacks.
func (sock *Socket) SubscribeWith(channel string, since *hub.Position, reply func(dst []byte, res hub.SubscribeResult, err error) []byte) {
	c := sock.conn()
	_ = c.l.post(inboxItem{op: opRun, c: c, run: func(l *loop) {
		if !c.accepting() {
			return
		}
		res, err := l.s.hub.Subscribe(c, channel, since)
		l.scratch = reply(l.scratch[:0], res, err)
		if len(l.scratch) > 0 {
			start := len(l.arena)
			l.arena = wsframe.AppendFrame(l.arena, ws.OpText, l.scratch)
			l.deliver(c, l.arena[start:len(l.arena):len(l.arena)], admitReply)
		}
		if err == nil && len(res.Missed) > 0 {
			l.addReplay(c, channel, res.Missed, true)
			l.resume(c)
		}
	}})
}
