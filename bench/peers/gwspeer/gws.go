// Package gwspeer is a peer on lxzan/gws: a reading goroutine per connection
// (gws's ReadLoop on a net/http hijacked conn), asynchronous writes, and one
// gws.Broadcaster per publication so that the frame is encoded once.
package gwspeer

import (
	"net/http"

	"github.com/lxzan/gws"

	"github.com/rtd-project/rtd/bench/peers/internal/hub"
)

// Handler serves /ws, /echo, /sse and the API over h.
func Handler(h *hub.Hub) http.Handler {
	mux := http.NewServeMux()
	h.Mount(mux)
	mux.HandleFunc("GET /sse", h.ServeSSE)
	opts := &gws.ServerOption{ParallelEnabled: false}
	wsUp := gws.NewUpgrader(&wsHandler{h: h}, opts)
	echoUp := gws.NewUpgrader(echoHandler{}, opts)
	mux.HandleFunc("GET /ws", func(w http.ResponseWriter, r *http.Request) { serve(wsUp, w, r) })
	mux.HandleFunc("GET /echo", func(w http.ResponseWriter, r *http.Request) { serve(echoUp, w, r) })
	return mux
}

func serve(up *gws.Upgrader, w http.ResponseWriter, r *http.Request) {
	socket, err := up.Upgrade(w, r)
	if err != nil {
		return
	}
	socket.ReadLoop() // this request's goroutine reads until the close
}

// subscriber is a /ws connection.
type subscriber struct {
	socket     *gws.Conn
	subscribed []string
}

func (s *subscriber) Deliver(p *hub.Publication) bool {
	b, _ := p.Shared.(*gws.Broadcaster)
	if b == nil {
		b = gws.NewBroadcaster(gws.OpcodeText, p.Frame)
		p.Shared = b
	}
	return b.Broadcast(s.socket, nil) == nil
}

type wsHandler struct {
	gws.BuiltinEventHandler
	h *hub.Hub
}

const sessionKey = "sub"

func (w *wsHandler) OnOpen(socket *gws.Conn) {
	w.h.WS.Add(1)
	socket.Session().Store(sessionKey, &subscriber{socket: socket})
}

func (w *wsHandler) OnClose(socket *gws.Conn, err error) {
	v, _ := socket.Session().Load(sessionKey)
	s := v.(*subscriber)
	for _, ch := range s.subscribed {
		w.h.Unsubscribe(ch, s)
	}
	w.h.WS.Add(-1)
}

func (w *wsHandler) OnMessage(socket *gws.Conn, message *gws.Message) {
	defer message.Close()
	v, _ := socket.Session().Load(sessionKey)
	s := v.(*subscriber)
	cmd, err := hub.ParseCommand(message.Bytes())
	var reply []byte
	if err != nil {
		reply = hub.Reply(cmd, err)
	} else {
		reply = w.h.Handle(cmd, s, &s.subscribed)
	}
	socket.WriteAsync(gws.OpcodeText, reply, nil)
}

type echoHandler struct{ gws.BuiltinEventHandler }

func (echoHandler) OnMessage(socket *gws.Conn, message *gws.Message) {
	defer message.Close()
	_ = socket.WriteMessage(message.Opcode, message.Bytes())
}
