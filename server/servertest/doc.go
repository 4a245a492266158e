// Package servertest runs a server.Server in-process on a loopback port for
// one test, and gives it fluent clients: WebSocket (origin, subprotocols,
// headers, a JWT made from claims and a secret; send text, JSON or binary;
// expect text, JSON, a close code, or a refused handshake), SSE (query,
// Last-Event-ID; expect events with their type, data and id, or the end of
// the stream) and plain HTTP. It is to rtd what net/http/httptest is to
// net/http.
//
// Start takes the server's Options and a function that registers the
// routes — an embedder's own, or the whole fan-out tier with fanout.Mount —
// and the test's cleanup shuts the server down. Every Expect waits at most
// Host.Timeout (5s) and fails the test with what came instead:
//
//	servertest: WebSocket /echo: got close 1013 "slow client", want text "echo:hello"
//
// A WebSocket client answers the server's pings as a browser does, from a
// goroutine that reads the connection while the test is busy elsewhere;
// NoPong makes it a dead peer, for testing heartbeats and idle timeouts.
//
// # Testing an embedded route
//
// An echo route:
//
//	func TestEchoRoute(t *testing.T) {
//		h := servertest.Start(t, server.Options{}, func(s *server.Server) error {
//			return s.WebSocket("/echo", server.WSHandler{
//				OnMessage: func(sock *server.Socket, m server.Message) { _ = sock.SendText("echo:" + string(m.Data)) },
//			}, server.WSOptions{})
//		})
//		ws := h.WebSocket("/echo").Origin(h.URL).Connect()
//		ws.SendText("hello").ExpectText("echo:hello")
//		ws.SendJSON(map[string]int{"n": 1}).ExpectText(`echo:{"n":1}`)
//		ws.Close()
//	}
//
// A route behind a JWT, refused without a token (401) and open with one:
//
//	func TestSecureRoute(t *testing.T) {
//		v, _ := auth.NewVerifier(auth.Options{Secret: []byte("test-secret")})
//		h := servertest.Start(t, server.Options{}, func(s *server.Server) error {
//			return s.WebSocket("/secure", server.WSHandler{
//				OnOpen: func(sock *server.Socket) { _ = sock.SendJSON(map[string]string{"hello": sock.Request().User()}) },
//			}, server.WSOptions{Authorize: func(r *server.Request) error {
//				c, err := v.Verify(strings.TrimPrefix(r.Header("Authorization"), "Bearer "))
//				if err != nil {
//					return &server.HTTPError{Status: 401, Message: "invalid token"}
//				}
//				r.SetUser(c.User)
//				return nil
//			}})
//		})
//		h.WebSocket("/secure").ExpectRejected(401)
//		h.WebSocket("/secure").JWT(map[string]any{"sub": "u1"}, "test-secret").Connect().ExpectJSON(`{"hello":"u1"}`)
//	}
//
// An SSE route:
//
//	func TestSSERoute(t *testing.T) {
//		h := servertest.Start(t, server.Options{}, func(s *server.Server) error {
//			return s.SSE("/events", server.SSEHandler{OnOpen: func(st *server.Stream) {
//				_ = st.Send(sse.Event{Event: "ready", ID: "1", Data: []byte(st.Request().Query("room"))})
//				_ = st.Close()
//			}}, server.SSEOptions{})
//		})
//		st := h.SSE("/events").Query("room", "lobby").Connect()
//		st.ExpectID("ready", "lobby", "1")
//		st.ExpectEnd()
//	}
package servertest
