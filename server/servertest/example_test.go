package servertest_test

import (
	"strings"
	"testing"

	"github.com/rtd-project/rtd/auth"
	"github.com/rtd-project/rtd/proto/sse"
	"github.com/rtd-project/rtd/server"
	"github.com/rtd-project/rtd/server/servertest"
)

// An echo route: what the client sends comes back with a prefix.
func TestEchoRoute(t *testing.T) {
	h := servertest.Start(t, server.Options{}, func(s *server.Server) error {
		return s.WebSocket("/echo", server.WSHandler{
			OnMessage: func(sock *server.Socket, m server.Message) { _ = sock.SendText("echo:" + string(m.Data)) },
		}, server.WSOptions{})
	})
	ws := h.WebSocket("/echo").Origin(h.URL).Connect()
	ws.SendText("hello").ExpectText("echo:hello")
	ws.SendJSON(map[string]int{"n": 1}).ExpectText(`echo:{"n":1}`)
	ws.Close()
}

// A route behind a JWT: refused without a token (401), open with one.
func TestSecureRoute(t *testing.T) {
	v, _ := auth.NewVerifier(auth.Options{Secret: []byte("test-secret")})
	h := servertest.Start(t, server.Options{}, func(s *server.Server) error {
		return s.WebSocket("/secure", server.WSHandler{
			OnOpen: func(sock *server.Socket) { _ = sock.SendJSON(map[string]string{"hello": sock.Request().User()}) },
		}, server.WSOptions{Authorize: func(r *server.Request) error {
			c, err := v.Verify(strings.TrimPrefix(r.Header("Authorization"), "Bearer "))
			if err != nil {
				return &server.HTTPError{Status: 401, Message: "invalid token"}
			}
			r.SetUser(c.User)
			return nil
		}})
	})
	h.WebSocket("/secure").ExpectRejected(401)
	h.WebSocket("/secure").JWT(map[string]any{"sub": "u1"}, "test-secret").Connect().ExpectJSON(`{"hello":"u1"}`)
}

// An SSE route: events in order, each with its id.
func TestSSERoute(t *testing.T) {
	h := servertest.Start(t, server.Options{}, func(s *server.Server) error {
		return s.SSE("/events", server.SSEHandler{OnOpen: func(st *server.Stream) {
			_ = st.Send(sse.Event{Event: "ready", ID: "1", Data: []byte(st.Request().Query("room"))})
			_ = st.Close()
		}}, server.SSEOptions{})
	})
	st := h.SSE("/events").Query("room", "lobby").Connect()
	st.ExpectID("ready", "lobby", "1")
	st.ExpectEnd()
}
