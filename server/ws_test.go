package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	coder "github.com/coder/websocket"
	"github.com/gorilla/websocket"
)

// echoWS mounts a WebSocket echo on /echo with options o.
func echoWS(o WSOptions) func(s *Server) {
	return func(s *Server) {
		err := s.WebSocket("/echo", WSHandler{
			OnMessage: func(sock *Socket, m Message) { _ = sock.Send(m) },
		}, o)
		if err != nil {
			panic(err)
		}
	}
}

func wsURL(s *Server, path string) string { return "ws://" + s.Addr() + path }

func TestGorillaEcho(t *testing.T) {
	for _, deflate := range []bool{false, true} {
		t.Run(fmt.Sprintf("deflate=%v", deflate), func(t *testing.T) {
			s := startServer(t, Options{}, echoWS(WSOptions{Compression: true}))
			d := websocket.Dialer{EnableCompression: deflate, HandshakeTimeout: 5 * time.Second}
			c, resp, err := d.Dial(wsURL(s, "/echo"), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			ext := resp.Header.Get("Sec-WebSocket-Extensions")
			if deflate != strings.Contains(ext, "permessage-deflate") {
				t.Fatalf("extensions %q with deflate=%v", ext, deflate)
			}
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			var pongs atomic.Int32
			c.SetPongHandler(func(string) error { pongs.Add(1); return nil })
			msgs := []struct {
				typ  int
				data []byte
			}{
				{websocket.TextMessage, []byte("hello")},
				{websocket.BinaryMessage, []byte{0, 1, 2, 255}},
				{websocket.TextMessage, []byte(strings.Repeat("héllo wörld ", 3000))}, // fragmented by gorilla, compressible
				{websocket.TextMessage, []byte("")},
			}
			for _, m := range msgs {
				if err := c.WriteMessage(m.typ, m.data); err != nil {
					t.Fatal(err)
				}
				typ, got, err := c.ReadMessage()
				if err != nil {
					t.Fatal(err)
				}
				if typ != m.typ || !bytes.Equal(got, m.data) {
					t.Fatalf("echo of %d bytes: type %d, %d bytes", len(m.data), typ, len(got))
				}
			}
			if err := c.WriteControl(websocket.PingMessage, []byte("p1"), time.Now().Add(time.Second)); err != nil {
				t.Fatal(err)
			}
			// A message after the ping proves the pong was handled in order.
			c.WriteMessage(websocket.TextMessage, []byte("after ping"))
			if _, got, err := c.ReadMessage(); err != nil || string(got) != "after ping" {
				t.Fatalf("%q %v", got, err)
			}
			if pongs.Load() != 1 {
				t.Fatalf("pongs = %d, want 1", pongs.Load())
			}
			c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(4001, "bye"))
			_, _, err = c.ReadMessage()
			if !websocket.IsCloseError(err, 4001) {
				t.Fatalf("close: %v, want the server to echo 4001", err)
			}
		})
	}
}

func TestCoderEcho(t *testing.T) {
	for _, mode := range []coder.CompressionMode{coder.CompressionDisabled, coder.CompressionNoContextTakeover, coder.CompressionContextTakeover} {
		t.Run(fmt.Sprint(mode), func(t *testing.T) {
			s := startServer(t, Options{}, echoWS(WSOptions{Compression: true}))
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c, _, err := coder.Dial(ctx, wsURL(s, "/echo"), &coder.DialOptions{CompressionMode: mode, CompressionThreshold: 1})
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseNow()
			for _, m := range []struct {
				typ  coder.MessageType
				data []byte
			}{
				{coder.MessageText, []byte("hi coder")},
				{coder.MessageBinary, bytes.Repeat([]byte{7, 8, 9}, 5000)},
				{coder.MessageText, []byte(strings.Repeat("{\"k\":\"v\"},", 500))},
			} {
				if err := c.Write(ctx, m.typ, m.data); err != nil {
					t.Fatal(err)
				}
				typ, got, err := c.Read(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if typ != m.typ || !bytes.Equal(got, m.data) {
					t.Fatalf("echo: type %v, %d bytes, want %v %d", typ, len(got), m.typ, len(m.data))
				}
			}
			// coder reads pongs only while a Read is in progress.
			readErr := make(chan error, 1)
			go func() { _, _, err := c.Read(ctx); readErr <- err }()
			if err := c.Ping(ctx); err != nil {
				t.Fatalf("ping: %v", err)
			}
			if err := c.Close(coder.StatusNormalClosure, "done"); err != nil {
				t.Fatalf("close handshake: %v", err)
			}
			if err := <-readErr; coder.CloseStatus(err) != coder.StatusNormalClosure {
				t.Fatalf("reader ended with %v, want the server's 1000", err)
			}
		})
	}
}

func TestHandshakeRejections(t *testing.T) {
	s := startServer(t, Options{}, func(s *Server) {
		s.WebSocket("/ws", WSHandler{}, WSOptions{
			Origins:   []string{"https://app.example.com"},
			Protocols: []string{"rtd.v1"},
			Authorize: func(r *Request) error {
				switch r.Query("token") {
				case "good":
					r.SetUser("alice")
					return nil
				case "":
					return &HTTPError{Status: 401, Message: "token required"}
				}
				return errors.New("bad token")
			},
		})
	})
	cases := []struct {
		name   string
		query  string
		header http.Header
		status int
	}{
		{"no token", "", http.Header{"Sec-Websocket-Protocol": {"rtd.v1"}}, 401},
		{"bad token", "?token=x", http.Header{"Sec-Websocket-Protocol": {"rtd.v1"}}, 403},
		{"bad origin", "?token=good", http.Header{"Origin": {"https://evil.example"}, "Sec-Websocket-Protocol": {"rtd.v1"}}, 403},
		{"ok", "?token=good", http.Header{"Origin": {"https://app.example.com"}, "Sec-Websocket-Protocol": {"rtd.v1"}}, 101},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, resp, err := websocket.DefaultDialer.Dial(wsURL(s, "/ws"+tc.query), tc.header)
			if resp == nil {
				t.Fatalf("no response: %v", err)
			}
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d (%v)", resp.StatusCode, tc.status, err)
			}
			if c != nil {
				if c.Subprotocol() != "rtd.v1" {
					t.Fatalf("subprotocol %q", c.Subprotocol())
				}
				c.Close()
			}
		})
	}
	t.Run("version 8 gets 426", func(t *testing.T) {
		c := dial(t, s)
		fmt.Fprintf(c, "GET /ws?token=good HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n")
		resp, _ := readResponse(t, bufioReader(c), "GET")
		if resp.StatusCode != 426 || resp.Header.Get("Sec-WebSocket-Version") != "13" {
			t.Fatalf("%d %q", resp.StatusCode, resp.Header.Get("Sec-WebSocket-Version"))
		}
	})
	t.Run("plain GET on a WebSocket route", func(t *testing.T) {
		resp, err := http.Get("http://" + s.Addr() + "/ws?token=good")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 && resp.StatusCode != 426 {
			t.Fatalf("status %d, want 400 or 426", resp.StatusCode)
		}
	})
	if got := s.Metrics().WSUpgradesReject.Load(); got < 5 {
		t.Fatalf("rejected upgrades counted %d", got)
	}
}

func TestSocketAPI(t *testing.T) {
	type seen struct {
		id, proto, path, room, user, header string
	}
	opened := make(chan seen, 1)
	closed := make(chan [2]any, 1)
	s := startServer(t, Options{}, func(s *Server) {
		s.WebSocket("/rooms/:room", WSHandler{
			OnOpen: func(sock *Socket) {
				r := sock.Request()
				opened <- seen{sock.ID(), sock.Protocol(), r.Path(), r.Param("room"), r.User(), r.Header("X-Client")}
				sock.SetValue(r.Param("room"))
				_ = sock.SendJSON(map[string]string{"hello": r.Param("room")})
			},
			OnMessage: func(sock *Socket, m Message) {
				if string(m.Data) == "close me" {
					_ = sock.Close(4000, "as you wish")
					_ = sock.Close(4000, "twice is fine")
					return
				}
				_ = sock.SendText(sock.Value().(string) + ":" + string(m.Data) + ":" + sock.Request().Header("X-Client"))
			},
			OnClose: func(sock *Socket, code int, reason string) { closed <- [2]any{code, reason} },
		}, WSOptions{Protocols: []string{"a", "b"}, Authorize: func(r *Request) error { r.SetUser("u1"); return nil }})
	})
	c, _, err := websocket.DefaultDialer.Dial(wsURL(s, "/rooms/42"), http.Header{"Sec-Websocket-Protocol": {"b, a"}, "X-Client": {"test"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	got := <-opened
	if got.proto != "b" && got.proto != "a" || got.path != "/rooms/42" || got.room != "42" || got.user != "u1" || got.header != "test" || got.id == "" {
		t.Fatalf("OnOpen saw %+v", got)
	}
	if _, m, err := c.ReadMessage(); err != nil || string(m) != `{"hello":"42"}` {
		t.Fatalf("SendJSON: %q %v", m, err)
	}
	c.WriteMessage(websocket.TextMessage, []byte("x"))
	// Headers are not kept after OnOpen unless KeepHeaders is set.
	if _, m, err := c.ReadMessage(); err != nil || string(m) != "42:x:" {
		t.Fatalf("reply: %q %v", m, err)
	}
	c.WriteMessage(websocket.TextMessage, []byte("close me"))
	_, _, err = c.ReadMessage()
	if !websocket.IsCloseError(err, 4000) {
		t.Fatalf("expected close 4000, got %v", err)
	}
	c.Close()
	select {
	case cl := <-closed:
		if cl[0] != 4000 {
			t.Fatalf("OnClose code %v", cl[0])
		}
	case <-time.After(10 * time.Second):
		t.Fatal("OnClose not called")
	}
}

// TestSocketPongAndClosed: SendPong reaches gorilla's PongHandler with its
// payload, in order with the messages around it, and refuses more than 125
// bytes; Closed turns true once the close handshake starts, after which
// sends fail with ErrClosed.
func TestSocketPongAndClosed(t *testing.T) {
	opened := make(chan *Socket, 1)
	closed := make(chan struct{})
	s := startServer(t, Options{}, func(s *Server) {
		s.WebSocket("/ws", WSHandler{
			OnOpen:  func(sock *Socket) { opened <- sock },
			OnClose: func(*Socket, int, string) { close(closed) },
		}, WSOptions{Compression: true})
	})
	c, _, err := (&websocket.Dialer{EnableCompression: true}).Dial(wsURL(s, "/ws"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var pongs []string // written by the PongHandler, which runs inside ReadMessage
	c.SetPongHandler(func(p string) error { pongs = append(pongs, p); return nil })
	sock := <-opened
	if sock.Closed() {
		t.Fatal("Closed on an open socket")
	}
	if err := sock.SendPong(make([]byte, 126)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("SendPong of 126 bytes: %v, want ErrTooLarge", err)
	}
	full := strings.Repeat("p", 125)
	for _, step := range []func() error{
		func() error { return sock.SendText("before") },
		func() error { return sock.SendPong([]byte("beat")) },
		func() error { return sock.SendPong([]byte(full)) },
		func() error { return sock.SendPong(nil) },
		func() error { return sock.SendText("after") },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	if _, m, err := c.ReadMessage(); err != nil || string(m) != "before" || len(pongs) != 0 {
		t.Fatalf("first message %q %v with pongs %q", m, err, pongs)
	}
	if _, m, err := c.ReadMessage(); err != nil || string(m) != "after" {
		t.Fatalf("second message %q %v", m, err)
	}
	if len(pongs) != 3 || pongs[0] != "beat" || pongs[1] != full || pongs[2] != "" {
		t.Fatalf("pongs between the messages: %q", pongs)
	}
	if err := sock.Close(4000, "bye"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.ReadMessage(); !websocket.IsCloseError(err, 4000) {
		t.Fatalf("close: %v", err)
	}
	// The close frame was queued after the socket was marked closing.
	if !sock.Closed() {
		t.Fatal("Closed false once the close frame arrived")
	}
	<-closed
	if !sock.Closed() {
		t.Fatal("Closed false after OnClose")
	}
	if err := sock.SendPong([]byte("late")); !errors.Is(err, ErrClosed) {
		t.Fatalf("SendPong after close: %v, want ErrClosed", err)
	}
}
