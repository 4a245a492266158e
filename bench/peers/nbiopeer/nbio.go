// Package nbiopeer is a peer on lesismal/nbio: an epoll engine (nbhttp) with
// its non-blocking WebSocket upgrader, no goroutine per connection. SSE streams
// are hijacked connections that publications are written to directly.
package nbiopeer

import (
	"context"
	"net"
	"net/http"

	"github.com/lesismal/nbio/nbhttp"
	"github.com/lesismal/nbio/nbhttp/websocket"

	"github.com/rtd-project/rtd/bench/peers/internal/hub"
)

// maxWriteBuffer bounds what nbio buffers for a connection that does not
// read; past it nbio closes the connection (its slow-client policy).
const maxWriteBuffer = 1 << 20

// Run serves /ws, /echo, /sse and the API over h on addr until ctx ends.
func Run(ctx context.Context, addr string, h *hub.Hub) error {
	mux := http.NewServeMux()
	h.Mount(mux)
	mux.HandleFunc("GET /sse", func(w http.ResponseWriter, r *http.Request) { serveSSE(h, w, r) })

	wsUp := websocket.NewUpgrader()
	wsUp.CheckOrigin = func(*http.Request) bool { return true }
	wsUp.OnMessage(func(c *websocket.Conn, _ websocket.MessageType, data []byte) {
		s := c.Session().(*subscriber)
		cmd, err := hub.ParseCommand(data)
		var reply []byte
		if err != nil {
			reply = hub.Reply(cmd, err)
		} else {
			reply = h.Handle(cmd, s, &s.subscribed)
		}
		_ = c.WriteMessage(websocket.TextMessage, reply)
	})
	wsUp.OnClose(func(c *websocket.Conn, _ error) {
		if s, ok := c.Session().(*subscriber); ok {
			for _, ch := range s.subscribed {
				h.Unsubscribe(ch, s)
			}
			h.WS.Add(-1)
		}
	})
	mux.HandleFunc("GET /ws", func(w http.ResponseWriter, r *http.Request) {
		c, err := wsUp.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		h.WS.Add(1)
		c.SetSession(&subscriber{conn: c})
	})

	echoUp := websocket.NewUpgrader()
	echoUp.CheckOrigin = func(*http.Request) bool { return true }
	echoUp.OnMessage(func(c *websocket.Conn, mt websocket.MessageType, data []byte) {
		_ = c.WriteMessage(mt, data)
	})
	mux.HandleFunc("GET /echo", func(w http.ResponseWriter, r *http.Request) { _, _ = echoUp.Upgrade(w, r, nil) })

	engine := nbhttp.NewEngine(nbhttp.Config{
		Network:            "tcp",
		Addrs:              []string{addr},
		Handler:            mux,
		MaxWriteBufferSize: maxWriteBuffer,
	})
	if err := engine.Start(); err != nil {
		return err
	}
	<-ctx.Done()
	return engine.Shutdown(context.Background())
}

type subscriber struct {
	conn       *websocket.Conn
	subscribed []string
}

func (s *subscriber) Deliver(p *hub.Publication) bool {
	return s.conn.WriteMessage(websocket.TextMessage, p.Frame) == nil
}

// sseStream is a hijacked connection carrying an event stream; a write error
// (the client went away, or nbio closed it as slow) unsubscribes it.
type sseStream struct {
	h        *hub.Hub
	conn     net.Conn
	channels []string
}

func (s *sseStream) Deliver(p *hub.Publication) bool {
	if _, err := s.conn.Write(p.Event); err != nil {
		go s.leave() // Deliver runs under the hub's lock
		return false
	}
	return true
}

func (s *sseStream) leave() {
	for _, ch := range s.channels {
		s.h.Unsubscribe(ch, s)
	}
	s.h.SSE.Add(-1)
	s.conn.Close()
}

func serveSSE(h *hub.Hub, w http.ResponseWriter, r *http.Request) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		http.Error(w, "hijack unsupported", http.StatusInternalServerError)
		return
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	if _, err := conn.Write([]byte("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n")); err != nil {
		conn.Close()
		return
	}
	s := &sseStream{h: h, conn: conn, channels: r.URL.Query()["channel"]}
	h.SSE.Add(1)
	for _, ch := range s.channels {
		h.Subscribe(ch, s)
	}
}
