package wsframe

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gorilla/websocket"
)

// pipeServer runs this package's handshake and reader on the server end of a
// net.Pipe, the way rtd's server drives them: it echoes every data message
// (compressed when negotiated) and answers a close. It returns the Upgrade it
// agreed to; fragments counts the non-final fragments it absorbed.
func pipeServer(conn net.Conn, o *UpgradeOptions, fragments *int) (Upgrade, error) {
	br := bufio.NewReader(conn)
	line, err := br.ReadString('\n')
	if err != nil {
		return Upgrade{}, err
	}
	method, _, _ := strings.Cut(line, " ")
	h := headers{}
	for {
		l, err := br.ReadString('\n')
		if err != nil {
			return Upgrade{}, err
		}
		l = strings.TrimRight(l, "\r\n")
		if l == "" {
			break
		}
		k, v, _ := strings.Cut(l, ":")
		if old, ok := h[k]; ok {
			v = old + ", " + v
		}
		h[k] = strings.TrimSpace(v)
	}
	u, err := CheckUpgrade([]byte(method), 1, 1, h, o)
	if err != nil {
		conn.Write(AppendHandshakeRejection(nil, err))
		return u, err
	}
	if _, err := conn.Write(AppendUpgradeResponse(nil, h.Header("Sec-WebSocket-Key"), &u)); err != nil {
		return u, err
	}

	var r Reader
	r.Init(ReaderOptions{Deflate: u.Deflate, MaxMessageBytes: 1 << 20})
	defer r.Release()
	var pending []byte
	chunk := make([]byte, 1500)
	for {
		k, err := br.Read(chunk)
		if err != nil {
			return u, err
		}
		pending = append(pending, chunk[:k]...)
		for {
			n, ev, err := r.Next(pending)
			if err != nil {
				var ce *CloseError
				errors.As(err, &ce)
				conn.Write(AppendClose(nil, ce.Code, ce.Reason))
				return u, err
			}
			if n == 0 {
				break
			}
			var out []byte
			switch ev.Kind {
			case None:
				*fragments++
			case Text, Binary:
				op := ws.OpText
				if ev.Kind == Binary {
					op = ws.OpBinary
				}
				if u.Deflate {
					c := Compress(nil, ev.Payload)
					out = append(AppendFrameHeader(nil, true, op, true, len(c)), c...)
				} else {
					out = AppendFrame(nil, op, ev.Payload)
				}
			case Ping:
				out = AppendFrame(nil, ws.OpPong, ev.Payload)
			case Close:
				conn.Write(AppendClose(nil, ev.Code, "bye"))
				return u, nil
			}
			pending = pending[n:]
			if out != nil {
				if _, err := conn.Write(out); err != nil {
					return u, err
				}
			}
		}
	}
}

func pipeDialer(conn net.Conn, compression bool, protocols ...string) *websocket.Dialer {
	return &websocket.Dialer{
		NetDialContext:    func(context.Context, string, string) (net.Conn, error) { return conn, nil },
		EnableCompression: compression,
		Subprotocols:      protocols,
		HandshakeTimeout:  5 * time.Second,
	}
}

func TestGorillaEcho(t *testing.T) {
	for _, compression := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "deflate"}[compression], func(t *testing.T) {
			client, server := net.Pipe()
			defer client.Close()
			done := make(chan error, 1)
			var agreed Upgrade
			var fragments int
			go func() {
				var err error
				agreed, err = pipeServer(server, &UpgradeOptions{Protocols: []string{"rtd.v1"}, Compression: true}, &fragments)
				server.Close()
				done <- err
			}()

			c, resp, err := pipeDialer(client, compression, "other", "rtd.v1").Dial("ws://example.com/ws", nil)
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			if c.Subprotocol() != "rtd.v1" {
				t.Fatalf("subprotocol %q", c.Subprotocol())
			}
			if got := resp.Header.Get("Sec-WebSocket-Extensions") != ""; got != compression {
				t.Fatalf("extensions header %q", resp.Header.Get("Sec-WebSocket-Extensions"))
			}
			// 40 KB is sent by gorilla as several frames (4 KiB write buffer):
			// a fragmented, and with deflate a fragmented compressed, message.
			msgs := []struct {
				typ  int
				data []byte
			}{
				{websocket.TextMessage, []byte("hello")},
				{websocket.BinaryMessage, []byte{0, 1, 2, 0xff}},
				{websocket.TextMessage, noisyText(40000)},
				{websocket.TextMessage, []byte("")},
			}
			pong := make(chan string, 1)
			c.SetPongHandler(func(s string) error { pong <- s; return nil })
			wrote := make(chan struct{})
			go func() {
				defer close(wrote)
				c.WriteControl(websocket.PingMessage, []byte("are you there"), time.Now().Add(5*time.Second))
				for _, m := range msgs {
					if err := c.WriteMessage(m.typ, m.data); err != nil {
						return
					}
				}
			}()
			for i, m := range msgs {
				typ, data, err := c.ReadMessage()
				if err != nil || typ != m.typ || !bytes.Equal(data, m.data) {
					t.Fatalf("echo %d: type %d, %d bytes, err %v", i, typ, len(data), err)
				}
			}
			if s := <-pong; s != "are you there" {
				t.Fatalf("pong %q", s)
			}
			<-wrote // gorilla allows one writer at a time
			c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseTryAgainLater, "later"))
			_, _, err = c.ReadMessage()
			if !websocket.IsCloseError(err, websocket.CloseTryAgainLater) {
				t.Fatalf("close: %v", err)
			}
			if err := <-done; err != nil {
				t.Fatalf("server: %v", err)
			}
			if agreed.Deflate != compression || fragments == 0 {
				t.Fatalf("server agreed deflate=%v, absorbed %d fragments", agreed.Deflate, fragments)
			}
		})
	}
}

// A browser-like client from a foreign origin gets the HTTP rejection, which
// gorilla reports with its status.
func TestGorillaRejected(t *testing.T) {
	client, server := net.Pipe()
	defer client.Close()
	done := make(chan error, 1)
	go func() {
		var fragments int
		_, err := pipeServer(server, &UpgradeOptions{Origins: []string{"https://rtd.example"}}, &fragments)
		server.Close()
		done <- err
	}()
	hdr := http.Header{"Origin": {"https://evil.example"}}
	_, resp, err := pipeDialer(client, false).Dial("ws://example.com/ws", hdr)
	if err == nil || resp == nil || resp.StatusCode != 403 {
		t.Fatalf("err %v, resp %+v", err, resp)
	}
	if err := <-done; err != ErrOriginNotAllowed {
		t.Fatalf("server: %v", err)
	}
}

// noisyText is text that deflate cannot shrink below gorilla's 4 KiB frame
// size, so that compressed messages are fragmented too.
func noisyText(n int) []byte {
	out := make([]byte, 0, n+3)
	x := uint32(2463534242)
	for len(out) < n {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		if x%16 == 0 {
			out = append(out, "✓"...)
		} else {
			out = append(out, byte('a'+x%26))
		}
	}
	return out
}
