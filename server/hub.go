package server

import (
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/gobwas/ws"

	"github.com/rtd-project/rtd/hub"
	"github.com/rtd-project/rtd/proto/sse"
	"github.com/rtd-project/rtd/proto/wsframe"
)

// Hub returns the server's hub: channels, presence, history. Publishing on it
// from any goroutine reaches every subscribed WebSocket and SSE connection.
func (s *Server) Hub() *hub.Hub { return s.hub }

// newHub builds the hub with the server as its Deliverer and Encoder.
func (s *Server) newHub(o hub.Options) (*hub.Hub, error) {
	o.Loops = s.opts.Loops
	o.Deliverer = (*hubSeam)(s)
	o.Encoder = (*hubSeam)(s)
	return hub.New(o)
}

// hubSeam is the server seen from the hub: it delivers batches to event loops
// and encodes publications. A separate type keeps Deliver/Encode out of the
// Server's public method set.
type hubSeam Server

// Deliver implements hub.Deliverer: the batch joins the loop's inbox.
func (h *hubSeam) Deliver(loop int, b *hub.Batch) {
	loops := *h.loops.Load()
	if loop >= len(loops) {
		b.Release() // no connection was ever opened on that loop
		return
	}
	if loops[loop].post(inboxItem{op: opBatch, batch: b}) != nil {
		b.Release()
	}
}

// Evict implements hub.Deliverer: close a connection the hub let go.
func (h *hubSeam) Evict(sub hub.Subscriber, reason string) {
	c := sub.(*conn)
	_ = c.l.post(inboxItem{op: opClose, c: c, why: closeReason{int(ws.StatusPolicyViolation), reason}})
}

// Encode implements hub.Encoder: the publication's WebSocket frame (the JSON
// push of the channel protocol, plus a lazily compressed variant for deflate
// sockets) and its SSE event, each encoded once for every recipient.
func (h *hubSeam) Encode(p *hub.Prepared) {
	p.At = time.Now().UnixNano() // for Metrics.DeliveryLatency
	push := appendPush(make([]byte, 0, 96+len(p.Data)+len(p.Channel)), &p.Publication)
	wp := wsframe.NewPrepared(ws.OpText, push)
	p.WS = wp.Frame()
	p.Ext = wp
	p.SSE = appendSSEEvent(nil, &p.Publication)
}

// appendPush appends the channel protocol's JSON push of a publication:
//
//	{"channel":"news","offset":18,"epoch":"…","event":"update","data":{…}}
//	{"channel":"news","join":{"client":"…","user":"…"}}      (KindJoin / KindLeave)
//	{"event":"…","data":…}                                  (direct sends: no channel)
func appendPush(b []byte, p *hub.Publication) []byte {
	b = append(b, '{')
	sep := false
	field := func(name string) {
		if sep {
			b = append(b, ',')
		}
		sep = true
		b = append(b, '"')
		b = append(b, name...)
		b = append(b, '"', ':')
	}
	if p.Channel != "" {
		field("channel")
		b = appendJSONString(b, p.Channel)
	}
	switch p.Kind {
	case hub.KindJoin, hub.KindLeave:
		field(p.Kind.String())
		b = append(b, `{"client":`...)
		b = appendJSONString(b, p.Info.Client)
		if p.Info.User != "" {
			b = append(b, `,"user":`...)
			b = appendJSONString(b, p.Info.User)
		}
		b = append(b, '}', '}')
		return b
	}
	if p.Offset > 0 {
		field("offset")
		b = strconv.AppendUint(b, p.Offset, 10)
		field("epoch")
		b = appendJSONString(b, p.Epoch)
	}
	if p.Event != "" {
		field("event")
		b = appendJSONString(b, p.Event)
	}
	if p.ID != "" {
		field("id")
		b = appendJSONString(b, p.ID)
	}
	field("data")
	b = appendJSONValue(b, p.Data)
	return append(b, '}')
}

// PushJSON returns the channel protocol's JSON push of a prepared
// publication: the payload of its WebSocket frame, shared and read-only.
// History replies embed it as is.
func PushJSON(m *hub.Prepared) []byte {
	n := 2
	switch m.WS[1] & 0x7f {
	case 126:
		n = 4
	case 127:
		n = 10
	}
	return m.WS[n:]
}

// appendJSONValue appends data as is when it is valid JSON, else as a JSON
// string, so that whatever an embedder publishes yields a valid push.
func appendJSONValue(b, data []byte) []byte {
	if len(data) > 0 && json.Valid(data) {
		return append(b, data...)
	}
	return appendJSONString(b, string(data))
}

func appendJSONString(b []byte, s string) []byte {
	q, _ := json.Marshal(s)
	return append(b, q...)
}

// appendSSEEvent appends a publication as an SSE event: id "epoch:offset"
// (what Last-Event-ID brings back), the event name, and the data. Data that
// is not valid UTF-8 text still goes out: SSE is a text protocol, and the
// client's decoder replaces invalid sequences.
func appendSSEEvent(b []byte, p *hub.Publication) []byte {
	e := sse.Event{Event: p.Event, Data: p.Data}
	switch p.Kind {
	case hub.KindJoin, hub.KindLeave:
		e.Event = p.Kind.String()
		e.Data = appendPush(nil, p)
	default:
		if p.Offset > 0 {
			e.ID = hub.Position{Epoch: p.Epoch, Offset: p.Offset}.String()
		}
	}
	out, err := sse.AppendEvent(b, e)
	if err != nil {
		// An event name with CR/LF/NUL cannot be sent as such: send the
		// event unnamed rather than lose it.
		e.Event = ""
		out, _ = sse.AppendEvent(b, e)
	}
	return out
}

// errHubStatus maps hub errors at connect time to HTTP statuses.
func errHubStatus(err error) (int, string) {
	switch {
	case errors.Is(err, hub.ErrTooManyUserConns):
		return 429, "too many connections for this user"
	case errors.Is(err, hub.ErrTooManyConns), errors.Is(err, hub.ErrShutdown):
		return 503, "server is at limit"
	}
	return 500, "internal error"
}

// Disconnect closes the connection with hub client ID id (WebSocket with
// 1008 and reason, SSE by ending the stream). It reports whether the
// connection was found.
func (s *Server) Disconnect(id, reason string) bool {
	c, ok := s.hub.Client(id)
	if !ok {
		return false
	}
	(*hubSeam)(s).Evict(c.Subscriber(), reason)
	return true
}

// DisconnectUser closes every connection of user; it returns how many.
func (s *Server) DisconnectUser(user, reason string) int {
	n := 0
	for _, c := range s.hub.Clients() {
		if c.User == user {
			(*hubSeam)(s).Evict(c.Subscriber(), reason)
			n++
		}
	}
	return n
}
