package server

import (
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestDetachedRequest: what a Socket's Request answers after OnOpen, when
// it reads the detached copy rather than the input buffer.
func TestDetachedRequest(t *testing.T) {
	for _, tc := range []struct{ keep, onOpen, without bool }{
		{false, false, false}, {true, false, false}, {false, true, false}, {true, true, false},
		{false, true, true}, {true, true, true},
	} {
		keep := tc.keep
		t.Run(fmt.Sprint("KeepHeaders=", keep, ",OnOpen=", tc.onOpen, ",OpenWithoutHeaders=", tc.without), func(t *testing.T) {
			var onOpen func(*Socket)
			if tc.onOpen {
				// The request OnOpen reads still has the headers (not
				// with OpenWithoutHeaders, unless they are kept); the
				// one kept afterwards only with KeepHeaders. The rest
				// is there either way.
				want := "c9"
				if tc.without && !keep {
					want = ""
				}
				onOpen = func(sock *Socket) {
					r := sock.Request()
					if h := r.Header("X-Client"); h != want {
						t.Errorf("OnOpen: X-Client %q, want %q", h, want)
					}
					if r.Param("room") != "r%201" || r.Query("q") != "x y" || r.User() != "u7" {
						t.Errorf("OnOpen: room %q, q %q, user %q", r.Param("room"), r.Query("q"), r.User())
					}
				}
			}
			var peer atomic.Value // the client's address
			s := startServer(t, Options{}, func(s *Server) {
				err := s.WebSocket("/d/:room/*rest", WSHandler{
					OnOpen: onOpen,
					OnMessage: func(sock *Socket, _ Message) {
						r := sock.Request()
						q, ok := r.QueryOK("q")
						_ = sock.SendText(fmt.Sprintf("%s|%s|%s|%s|%s|%s|%v|%v|%s|%s|%s",
							r.Method(), r.Path(), r.RawQuery(), r.Param("room"), r.Param("rest"), q, ok,
							r.QueryAll("m"), r.Header("X-Client"), r.Param("nope"), r.User()))
						if r.RemoteAddr() != sock.RemoteAddr() || r.RemoteAddr() != peer.Load() {
							t.Errorf("RemoteAddr %q, socket's %q, the client's %q", r.RemoteAddr(), sock.RemoteAddr(), peer.Load())
						}
					},
				}, WSOptions{KeepHeaders: keep, OpenWithoutHeaders: tc.without, Authorize: func(r *Request) error {
					if r.Header("X-Client") != "c9" {
						t.Errorf("Authorize: X-Client %q", r.Header("X-Client"))
					}
					r.SetUser("u7")
					return nil
				}})
				if err != nil {
					t.Fatal(err)
				}
			})
			c, _, err := websocket.DefaultDialer.Dial(wsURL(s, "/d/r%201/a/b?q=x%20y&m=1&m=2"), http.Header{"X-Client": {"c9"}})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			peer.Store(c.LocalAddr().String())
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			_ = c.WriteMessage(websocket.TextMessage, []byte("?"))
			_, m, err := c.ReadMessage()
			if err != nil {
				t.Fatal(err)
			}
			header := ""
			if keep {
				header = "c9"
			}
			want := "GET|/d/r%201/a/b|q=x%20y&m=1&m=2|r%201|a/b|x y|true|[1 2]|" + header + "||u7"
			if string(m) != want {
				t.Fatalf("detached request:\n got %s\nwant %s", m, want)
			}
		})
	}
}
