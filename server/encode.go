package server

import (
	"bytes"
	"sync"
	"time"

	"github.com/gobwas/ws"

	"github.com/rtd-project/rtd/hub"
	"github.com/rtd-project/rtd/proto/sse"
	"github.com/rtd-project/rtd/proto/wsframe"
)

// Encoder is the wire format of publications on the server's WebSocket and
// SSE routes: what a WebSocket subscriber's text message and an SSE
// subscriber's event data carry for each publication the hub delivers
// (channel publications, presence events, and the direct sends SendTo,
// SendToUser and Broadcast). Set it in Options.Encoder.
//
// The server does the framing: the WebSocket frame (and its
// permessage-deflate variant), and the SSE event's lines, "id:" (a channel
// publication's position "epoch:offset", or on a stream of several channels
// the list that ParseEventID reads; none for presence events and direct
// sends), "event:" (the publication's Event; "join" or "leave" for presence
// events) and "data:" (the encoder's data, one line per line of it).
//
// A publication is encoded once for all of its recipients: AppendMessage
// and AppendEventData(…, false) when the hub prepares it (for a channel
// publication under the channel's lock, which assigns its offset), and
// AppendEventData(…, true) at most once, when the first stream of several
// channels receives it (on that stream's loop). So the methods must be
// quick, must not block or call into the hub, may run on any goroutine and
// concurrently, and must not modify p or keep dst. Each appends to dst and
// returns the extended slice.
//
// The nil Encoder, the default, sends a publication's Data as is: the text
// message is Data (publish UTF-8 text: browsers close a connection that
// receives invalid UTF-8 in a text message, with 1007), and so is the event
// data (SSE is text: invalid UTF-8 arrives as U+FFFD). On a stream of
// several channels the event data is the channel's name, a newline and
// Data, so that the client can tell the channels apart (in a browser,
// e.data.slice(0, e.data.indexOf("\n")) is the channel). Direct sends go out
// the same way, without an id. Presence events (hub.KindJoin, hub.KindLeave)
// carry no Data and are not sent at all: a channel's JoinLeave option is for
// an Encoder that gives them a form (fanout.Encoder does).
type Encoder interface {
	// AppendMessage appends the payload of the WebSocket text message
	// that carries p. It must be valid UTF-8.
	AppendMessage(dst []byte, p *hub.Publication) []byte
	// AppendEventData appends the data of the SSE event that carries p.
	// tagged is set for a channel publication (p.Offset > 0) sent to
	// streams subscribed to several channels: the data must then tell the
	// client p's channel.
	AppendEventData(dst []byte, p *hub.Publication, tagged bool) []byte
}

// Encoder returns the server's Options.Encoder (nil: the default).
func (s *Server) Encoder() Encoder { return s.opts.Encoder }

// rawEncoder is the nil Encoder: Data as is.
type rawEncoder struct{}

func (rawEncoder) AppendMessage(dst []byte, p *hub.Publication) []byte {
	return append(dst, p.Data...)
}

func (rawEncoder) AppendEventData(dst []byte, p *hub.Publication, tagged bool) []byte {
	if tagged {
		dst = append(dst, p.Channel...)
		dst = append(dst, '\n')
	}
	return append(dst, p.Data...)
}

// encoded is what the server attaches to a prepared publication
// (hub.Prepared.Ext), besides its WebSocket frame and SSE event.
type encoded struct {
	ws  *wsframe.Prepared // the frame, and its compressed variant for deflate sockets
	enc Encoder

	taggedOnce sync.Once
	tagged     []byte // the SSE event for streams of several channels, less its id line
}

// Encode implements hub.Encoder: the publication's WebSocket frame (with a
// lazily compressed variant for deflate sockets) and its SSE event, each
// encoded once for every recipient, from what the Encoder makes of it. A
// publication the encoder has no form for (a presence event under the
// default) is left unencoded: the loops skip it.
func (h *hubSeam) Encode(p *hub.Prepared) {
	p.At = time.Now().UnixNano() // for Metrics.DeliveryLatency
	enc := h.opts.Encoder
	if enc == nil {
		if p.Kind != hub.KindMessage {
			return
		}
		enc = rawEncoder{}
	}
	sb := scratchPool.Get().(*[]byte)
	b := enc.AppendMessage((*sb)[:0], &p.Publication)
	wp := wsframe.NewPrepared(ws.OpText, b)
	b = enc.AppendEventData(b[:0], &p.Publication, false)
	n := len(b)
	b = appendEvent(b, &p.Publication, true, b[:n:n])
	p.SSE = bytes.Clone(b[n:])
	putScratch(sb, b)
	p.WS = wp.Frame()
	p.Ext = &encoded{ws: wp, enc: enc}
}

// EncodedMessage returns what the server's Encoder made of m for WebSocket
// subscribers (AppendMessage: the payload of m's frame), shared and
// read-only, so that a reply embedding publications (history) need not
// encode them again; nil for a publication left unencoded.
func EncodedMessage(m *hub.Prepared) []byte {
	if e, ok := m.Ext.(*encoded); ok {
		return e.ws.Payload()
	}
	return nil
}

// deflateFrame returns m's frame for permessage-deflate sockets.
func deflateFrame(m *hub.Prepared) []byte {
	if e, ok := m.Ext.(*encoded); ok {
		return e.ws.DeflateFrame()
	}
	return m.WS
}

// taggedEvent returns the SSE event of channel publication m for streams of
// several channels, less the id line each of them writes: encoded at the
// first call, once, and shared.
func taggedEvent(m *hub.Prepared) []byte {
	e := m.Ext.(*encoded)
	e.taggedOnce.Do(func() {
		sb := scratchPool.Get().(*[]byte)
		b := e.enc.AppendEventData((*sb)[:0], &m.Publication, true)
		n := len(b)
		b = appendEvent(b, &m.Publication, false, b[:n:n])
		e.tagged = bytes.Clone(b[n:])
		putScratch(sb, b)
	})
	return e.tagged
}

// appendEvent appends the SSE event of p with data: with withID, the id
// line of a channel publication (its position, what Last-Event-ID brings
// back), then the event name, then the data. An event name the SSE
// encoder refuses (CR, LF or NUL: possible in a direct send, which the hub
// does not check) is left out rather than the event lost.
func appendEvent(b []byte, p *hub.Publication, withID bool, data []byte) []byte {
	if withID && p.Offset > 0 {
		b = append(b, idField...)
		b = p.Position().AppendTo(b)
		b = append(b, '\n')
	}
	name := p.Event
	if p.Kind != hub.KindMessage {
		name = p.Kind.String()
	}
	out, err := sse.AppendEvent(b, sse.Event{Event: name, Data: data})
	if err != nil {
		out, _ = sse.AppendEvent(b, sse.Event{Data: data})
	}
	return out
}

// scratchPool holds the buffers publications are encoded in before they are
// copied out at their size (Encode runs on publishers' goroutines, several
// at once).
var scratchPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// maxScratch bounds the buffers the pool keeps after a large publication.
const maxScratch = 64 << 10

func putScratch(sb *[]byte, b []byte) {
	if cap(b) <= maxScratch {
		*sb = b[:0]
		scratchPool.Put(sb)
	}
}
