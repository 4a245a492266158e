// Package gorillapeer is the reference peer: gorilla/websocket with a reader
// and a writer goroutine per connection and a buffered send channel, the
// design of gorilla's chat example (a client whose channel is full is closed).
package gorillapeer

import (
	"net/http"
	"sync"

	"github.com/gorilla/websocket"

	"github.com/rtd-project/rtd/bench/peers/internal/hub"
)

// sendQueue is the chat example's send channel size.
const sendQueue = 256

var upgrader = websocket.Upgrader{ReadBufferSize: 1024, WriteBufferSize: 1024, CheckOrigin: func(*http.Request) bool { return true }}

// Handler serves /ws, /echo, /sse and the API over h.
func Handler(h *hub.Hub) http.Handler {
	mux := http.NewServeMux()
	h.Mount(mux)
	mux.HandleFunc("GET /sse", h.ServeSSE)
	mux.HandleFunc("GET /ws", func(w http.ResponseWriter, r *http.Request) { serveWS(h, w, r) })
	mux.HandleFunc("GET /echo", serveEcho)
	return mux
}

type client struct {
	conn *websocket.Conn
	send chan []byte
	once sync.Once
}

func (c *client) Deliver(p *hub.Publication) bool {
	return c.queue(p.Frame)
}

func (c *client) queue(msg []byte) bool {
	select {
	case c.send <- msg:
		return true
	default:
		c.once.Do(func() { close(c.send) })
		return false
	}
}

func serveWS(h *hub.Hub, w http.ResponseWriter, r *http.Request) {
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	h.WS.Add(1)
	c := &client{conn: conn, send: make(chan []byte, sendQueue)}
	go c.writePump()
	var subscribed []string
	defer func() {
		for _, ch := range subscribed {
			h.Unsubscribe(ch, c)
		}
		h.WS.Add(-1)
		conn.Close()
	}()
	for {
		_, msg, err := conn.ReadMessage()
		if err != nil {
			return
		}
		cmd, err := hub.ParseCommand(msg)
		var reply []byte
		if err != nil {
			reply = hub.Reply(cmd, err)
		} else {
			reply = h.Handle(cmd, c, &subscribed)
		}
		if !c.queue(reply) {
			return
		}
	}
}

func (c *client) writePump() {
	defer c.conn.Close()
	for msg := range c.send {
		if err := c.conn.WriteMessage(websocket.TextMessage, msg); err != nil {
			return
		}
	}
	_ = c.conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseTryAgainLater, "slow client"))
}

func serveEcho(w http.ResponseWriter, r *http.Request) {
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer conn.Close()
	for {
		op, msg, err := conn.ReadMessage()
		if err != nil {
			return
		}
		if err := conn.WriteMessage(op, msg); err != nil {
			return
		}
	}
}
