// Package hub is what the peer servers share: channels with their
// subscribers, the publish and stats API, the /ws command format and an SSE
// handler for net/http. Only the WebSocket side differs between the peers, so
// that a comparison measures the WebSocket library and its concurrency model.
package hub

import (
	"encoding/json"
	"fmt"
	"net/http"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
)

// Publication is one message prepared once for every subscriber of a channel.
type Publication struct {
	Channel string
	Offset  uint64
	Frame   []byte // the /ws push: {"channel","offset","epoch","data"}
	Event   []byte // the SSE event: "id: OFFSET\ndata: DATA\n\n"
	// Shared lets a peer prepare its own form once per publication (a gws
	// Broadcaster). It is set and read under the hub's lock; when it is an
	// interface{ Close() error } it is closed after the fan-out.
	Shared any
}

// Subscriber receives publications. Deliver must not block: it runs under the
// hub's lock. It returns false when the message was dropped (slow client).
type Subscriber interface {
	Deliver(p *Publication) bool
}

// Hub is a set of channels.
type Hub struct {
	mu       sync.Mutex
	channels map[string]map[Subscriber]struct{}
	offsets  map[string]uint64

	published, delivered, dropped atomic.Int64
	// WS and SSE count open connections; the peers keep them.
	WS, SSE atomic.Int64
}

// New returns an empty hub.
func New() *Hub {
	return &Hub{channels: map[string]map[Subscriber]struct{}{}, offsets: map[string]uint64{}}
}

// Subscribe adds s to channel.
func (h *Hub) Subscribe(channel string, s Subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	subs := h.channels[channel]
	if subs == nil {
		subs = map[Subscriber]struct{}{}
		h.channels[channel] = subs
	}
	subs[s] = struct{}{}
}

// Unsubscribe removes s from channel.
func (h *Hub) Unsubscribe(channel string, s Subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.channels[channel], s)
	if len(h.channels[channel]) == 0 {
		delete(h.channels, channel)
	}
}

// Publish sends data (a JSON value) to every subscriber of channel, in publish
// order per channel, and returns its offset.
func (h *Hub) Publish(channel string, data []byte) uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.offsets[channel]++
	off := h.offsets[channel]
	p := &Publication{Channel: channel, Offset: off}
	p.Frame = fmt.Appendf(nil, `{"channel":%q,"offset":%d,"epoch":"peer","data":%s}`, channel, off, data)
	p.Event = fmt.Appendf(nil, "id: %d\ndata: %s\n\n", off, data)
	var ok, dropped int64
	for s := range h.channels[channel] {
		if s.Deliver(p) {
			ok++
		} else {
			dropped++
		}
	}
	if c, isCloser := p.Shared.(interface{ Close() error }); isCloser {
		_ = c.Close()
	}
	h.published.Add(1)
	h.delivered.Add(ok)
	h.dropped.Add(dropped)
	return off
}

// Command is a /ws client command.
type Command struct {
	ID      int64  `json:"id"`
	Op      string `json:"op"`
	Channel string `json:"channel"`
}

// ParseCommand decodes a /ws command.
func ParseCommand(p []byte) (Command, error) {
	var c Command
	err := json.Unmarshal(p, &c)
	return c, err
}

// Reply is the answer to a command: ok, or an error.
func Reply(c Command, err error) []byte {
	if err != nil {
		return fmt.Appendf(nil, `{"id":%d,"error":{"code":400,"message":%q}}`, c.ID, err.Error())
	}
	return fmt.Appendf(nil, `{"id":%d,"ok":true}`, c.ID)
}

// Handle runs a command for s and returns the reply; subscribed collects the
// channels s joined, for unsubscribing on close.
func (h *Hub) Handle(c Command, s Subscriber, subscribed *[]string) []byte {
	switch c.Op {
	case "subscribe":
		h.Subscribe(c.Channel, s)
		*subscribed = append(*subscribed, c.Channel)
	case "unsubscribe":
		h.Unsubscribe(c.Channel, s)
	case "ping":
		return []byte(`{"op":"pong"}`)
	default:
		return Reply(c, fmt.Errorf("unknown op %q", c.Op))
	}
	return Reply(c, nil)
}

// Mount adds POST /api/publish and GET /api/stats to mux.
func (h *Hub) Mount(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/publish", h.servePublish)
	mux.HandleFunc("GET /api/stats", h.serveStats)
}

func (h *Hub) servePublish(w http.ResponseWriter, r *http.Request) {
	pubs, ok := ReadPublications(w, r)
	if !ok {
		return
	}
	out := []byte(`{"offsets":[`)
	for i, p := range pubs {
		if i > 0 {
			out = append(out, ',')
		}
		out = strconv.AppendUint(out, h.Publish(p.Channel, p.Data), 10)
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(append(out, "]}"...))
}

// Pub is one publication of a POST /api/publish body.
type Pub struct {
	Channel string          `json:"channel"`
	Data    json.RawMessage `json:"data"`
}

// ReadPublications decodes a POST /api/publish body, one publication
// ({"channel","data"}) or a batch ({"publications":[…]}). On a bad body it
// answers 400 and returns false.
func ReadPublications(w http.ResponseWriter, r *http.Request) ([]Pub, bool) {
	var body struct {
		Pub
		Publications []Pub `json:"publications"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<20)).Decode(&body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return nil, false
	}
	if body.Channel != "" {
		body.Publications = append(body.Publications, body.Pub)
	}
	for _, p := range body.Publications {
		if p.Channel == "" || len(p.Data) == 0 {
			http.Error(w, "publication without channel or data", http.StatusBadRequest)
			return nil, false
		}
	}
	return body.Publications, true
}

func (h *Hub) serveStats(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("gc") == "1" {
		debug.FreeOSMemory() // as rtd does: RSS then shows what is live
	}
	h.mu.Lock()
	channels := len(h.channels)
	h.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"connections":{"ws":%d,"sse":%d},"channels":%d,"published":%d,"deliveries":%d,"drops":%d}`,
		h.WS.Load(), h.SSE.Load(), channels, h.published.Load(), h.delivered.Load(), h.dropped.Load())
}

// sseQueue is how many events an SSE stream may fall behind before it is
// closed as slow, like the gorilla chat example's send channel.
const sseQueue = 256

type sseSubscriber struct {
	q    chan []byte
	once sync.Once
	gone chan struct{}
}

func (s *sseSubscriber) Deliver(p *Publication) bool {
	select {
	case s.q <- p.Event:
		return true
	default:
		s.once.Do(func() { close(s.gone) })
		return false
	}
}

// ServeSSE streams the publications of ?channel= (one goroutine per stream).
func (h *Hub) ServeSSE(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	s := &sseSubscriber{q: make(chan []byte, sseQueue), gone: make(chan struct{})}
	channels := r.URL.Query()["channel"]
	for _, ch := range channels {
		h.Subscribe(ch, s)
	}
	h.SSE.Add(1)
	defer func() {
		for _, ch := range channels {
			h.Unsubscribe(ch, s)
		}
		h.SSE.Add(-1)
	}()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	fl.Flush()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.gone:
			return
		case ev := <-s.q:
			if _, err := w.Write(ev); err != nil {
				return
			}
			fl.Flush()
		}
	}
}
