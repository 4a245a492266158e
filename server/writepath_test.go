package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/rtd-project/rtd/hub"
	"github.com/rtd-project/rtd/proto/sse"
)

// The write path's promises, each checked from a raw socket the way real
// peers exercise them: several frames in one segment, HTTP/1.0 and
// Connection: close, replays larger than the send queue, shutdown with data
// queued.

// frameConn is a WebSocket client over a plain TCP connection, so a test decides
// exactly which bytes go out in one write.
type frameConn struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

// dialFrames upgrades a raw connection to path; extra header lines (each
// ending in CRLF) go into the request.
func dialFrames(t *testing.T, s *Server, path, extra string) *frameConn {
	t.Helper()
	c := dial(t, s)
	req := "GET " + path + " HTTP/1.1\r\nHost: " + s.Addr() + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" + extra + "\r\n"
	if _, err := c.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	resp, _ := readResponse(t, br, "GET")
	if resp.StatusCode != 101 {
		t.Fatalf("upgrade: %s", resp.Status)
	}
	return &frameConn{t: t, c: c, br: br}
}

// clientFrame returns a masked client frame.
func clientFrame(op ws.OpCode, payload []byte) []byte {
	f := ws.NewFrame(op, true, append([]byte(nil), payload...))
	return ws.MustCompileFrame(ws.MaskFrameInPlace(f))
}

func clientClose(code int, reason string) []byte {
	return clientFrame(ws.OpClose, ws.NewCloseFrameBody(ws.StatusCode(code), reason))
}

// send writes frames in one write (one segment on loopback).
func (r *frameConn) send(frames ...[]byte) {
	r.t.Helper()
	if _, err := r.c.Write(bytes.Join(frames, nil)); err != nil {
		r.t.Fatal(err)
	}
}

// next reads one frame from the server (at most 1 MiB of payload).
func (r *frameConn) next() ws.Frame {
	r.t.Helper()
	h, err := ws.ReadHeader(r.br)
	if err != nil {
		r.t.Fatalf("reading a frame: %v", err)
	}
	if h.Length > 1<<20 {
		r.t.Fatalf("frame of %d bytes", h.Length)
	}
	f := ws.Frame{Header: h, Payload: make([]byte, h.Length)}
	if _, err := io.ReadFull(r.br, f.Payload); err != nil {
		r.t.Fatalf("reading a frame's payload: %v", err)
	}
	return f
}

// expectText reads a text frame and checks its payload.
func (r *frameConn) expectText(want string) {
	r.t.Helper()
	f := r.next()
	if f.Header.OpCode != ws.OpText || string(f.Payload) != want {
		r.t.Fatalf("got %v %q, want text %q", f.Header.OpCode, trim(f.Payload), want)
	}
}

// expectClose reads a close frame with code, then the end of the connection:
// nothing may follow a close frame (RFC 6455 §5.5.1).
func (r *frameConn) expectClose(code int) {
	r.t.Helper()
	f := r.next()
	if f.Header.OpCode != ws.OpClose {
		r.t.Fatalf("got %v %q, want close %d", f.Header.OpCode, trim(f.Payload), code)
	}
	got, reason := ws.ParseCloseFrameData(f.Payload)
	if int(got) != code {
		r.t.Fatalf("close %d %q, want %d", got, reason, code)
	}
	expectEOF(r.t, r.br)
}

func trim(b []byte) []byte {
	if len(b) > 80 {
		return b[:80]
	}
	return b
}

func TestWSDataThenCloseInOneSegment(t *testing.T) {
	s := startServer(t, Options{}, echoWS(WSOptions{}))
	r := dialFrames(t, s, "/echo", "")
	r.send(clientFrame(ws.OpText, []byte("one")), clientFrame(ws.OpText, []byte("two")), clientClose(1000, "bye"))
	r.expectText("one")
	r.expectText("two")
	r.expectClose(1000)
}

func TestWSDataThenProtocolErrorInOneSegment(t *testing.T) {
	s := startServer(t, Options{}, echoWS(WSOptions{}))
	r := dialFrames(t, s, "/echo", "")
	unmasked := ws.MustCompileFrame(ws.NewTextFrame([]byte("not masked")))
	r.send(clientFrame(ws.OpText, []byte("first")), clientFrame(ws.OpPing, []byte("p")), unmasked, clientFrame(ws.OpText, []byte("never")))
	r.expectText("first")
	if f := r.next(); f.Header.OpCode != ws.OpPong || string(f.Payload) != "p" {
		t.Fatalf("got %v %q, want the pong", f.Header.OpCode, f.Payload)
	}
	r.expectClose(1002)
}

// commandRoutes is a small command protocol: "sub CH [SINCE]" subscribes with
// a reply written by SubscribeWith; anything else is answered with Send.
func commandRoutes(o WSOptions) func(s *Server) {
	return func(s *Server) {
		s.WebSocket("/cmd", WSHandler{OnMessage: func(sock *Socket, m Message) {
			f := strings.Fields(string(m.Data))
			switch {
			case len(f) >= 2 && f[0] == "sub":
				var since *hub.Position
				if len(f) == 3 {
					p, err := hub.ParsePosition(f[2])
					if err != nil {
						panic(err)
					}
					since = &p
				}
				sock.SubscribeWith(f[1], since, func(dst []byte, res hub.SubscribeResult, err error) []byte {
					if err != nil {
						return fmt.Appendf(dst, "sub %s: %v", f[1], err)
					}
					return fmt.Appendf(dst, "sub %s %s recovered=%v", f[1], res.Position, res.Recovered)
				})
			case len(f) == 2 && f[0] == "unsub":
				_ = sock.Unsubscribe(f[1])
				_ = sock.SendText("unsub " + f[1])
			default:
				_ = sock.SendText("re " + string(m.Data))
			}
		}}, o)
	}
}

func TestWSRepliesInCommandOrder(t *testing.T) {
	s := startServer(t, Options{}, commandRoutes(WSOptions{}))
	r := dialFrames(t, s, "/cmd", "")
	var frames [][]byte
	for _, c := range []string{"ping 1", "sub a", "history 3", "unsub a", "sub b", "ping 6"} {
		frames = append(frames, clientFrame(ws.OpText, []byte(c)))
	}
	r.send(frames...)
	r.expectText("re ping 1")
	f := r.next()
	if !strings.HasPrefix(string(f.Payload), "sub a ") {
		t.Fatalf("second reply %q, want the reply to sub a", f.Payload)
	}
	r.expectText("re history 3")
	r.expectText("unsub a")
	if f := r.next(); !strings.HasPrefix(string(f.Payload), "sub b ") {
		t.Fatalf("fifth reply %q, want the reply to sub b", f.Payload)
	}
	r.expectText("re ping 6")
}

// bigBody mounts GET /big answering n bytes, and GET /big-deferred
// answering them from a deferred handler.
func bigBody(n int) func(s *Server) {
	body := bytes.Repeat([]byte("0123456789abcdef"), n/16)
	write := func(w *ResponseWriter) {
		w.SetHeader("Content-Type", "application/octet-stream")
		_, _ = w.Write(body)
	}
	return func(s *Server) {
		s.HandleFunc("GET", "/big", func(w *ResponseWriter, r *Request) { write(w) })
		s.HandleFunc("GET", "/big-deferred", func(w *ResponseWriter, r *Request) { w.Defer(write) })
	}
}

func TestLargeResponseCompleteBeforeClose(t *testing.T) {
	const size = 6 << 20
	s := startServer(t, Options{}, bigBody(size))
	for _, req := range []string{
		"GET /big HTTP/1.0\r\n\r\n",
		"GET /big HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		"GET /big-deferred HTTP/1.0\r\n\r\n",
		"GET /big-deferred HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
	} {
		t.Run(strings.Join(strings.Fields(req)[1:3], " ")+map[bool]string{true: " close"}[strings.Contains(req, "close")], func(t *testing.T) {
			head, body, ok := exchange(t, s, req)
			if !ok || !bytes.HasPrefix(head, []byte("HTTP/1.1 200")) {
				t.Fatalf("response head %q", trim(head))
			}
			if len(body) != size {
				t.Fatalf("body %d bytes, want %d: the connection was closed with bytes unsent", len(body), size)
			}
		})
	}
}

// exchange sends req on a new connection and returns the head and body of
// all the server sends until it closes. The client's receive buffer is small,
// so most of a large answer waits in the server when it decides to close.
func exchange(t *testing.T, s *Server, req string) (head, body []byte, ok bool) {
	t.Helper()
	c := dial(t, s)
	_ = c.(*net.TCPConn).SetReadBuffer(16 << 10)
	if _, err := c.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	all, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Cut(all, []byte("\r\n\r\n"))
}

// TestStreamsSurviveConnectionClose: an SSE stream is a body that ends when
// the server ends it, and an upgraded connection is no longer HTTP: neither
// ends because the request said Connection: close or came as HTTP/1.0 (what
// a stock nginx proxy_pass sends upstream).
func TestStreamsSurviveConnectionClose(t *testing.T) {
	streams := make(chan *Stream, 4)
	s := startServer(t, Options{}, func(s *Server) {
		echoWS(WSOptions{})(s)
		s.SSE("/events", SSEHandler{OnOpen: func(st *Stream) { streams <- st }}, SSEOptions{})
	})
	for _, head := range []string{
		"GET /events HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		"GET /events HTTP/1.0\r\n\r\n",
		"GET /events HTTP/1.0\r\nConnection: close\r\n\r\n",
	} {
		t.Run(strings.ReplaceAll(head[12:strings.Index(head, "\r\n\r\n")], "\r\n", " "), func(t *testing.T) {
			c := dial(t, s)
			if _, err := c.Write([]byte(head)); err != nil {
				t.Fatal(err)
			}
			st := <-streams
			if err := st.SendJSON("tick", map[string]int{"n": 1}); err != nil {
				t.Fatal(err)
			}
			br := bufio.NewReader(c)
			var got strings.Builder
			for !strings.Contains(got.String(), "event: tick\n") {
				line, err := br.ReadString('\n')
				if err != nil {
					t.Fatalf("stream ended before the event: %q (%v)", got.String(), err)
				}
				got.WriteString(line)
			}
			if !strings.Contains(got.String(), "200 OK") {
				t.Fatalf("head %q", got.String())
			}
		})
	}
	t.Run("websocket Connection: Upgrade, close", func(t *testing.T) {
		c := dial(t, s)
		req := "GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade, close\r\n" +
			"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
		if _, err := c.Write([]byte(req)); err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(c)
		if resp, _ := readResponse(t, br, "GET"); resp.StatusCode != 101 {
			t.Fatalf("upgrade: %s", resp.Status)
		}
		r := &frameConn{t: t, c: c, br: br}
		r.send(clientFrame(ws.OpText, []byte("still here")))
		r.expectText("still here")
	})
}

// TestShutdownDrainsQueuedEvents: events queued to a slow reader when the
// server shuts down are all delivered, then a jittered retry hint, then the
// end of the stream.
func TestShutdownDrainsQueuedEvents(t *testing.T) {
	const events, size = 120, 50 << 10
	streams := make(chan *Stream, 1)
	s, err := New(Options{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	s.SSE("/events", SSEHandler{OnOpen: func(st *Stream) { streams <- st }}, SSEOptions{Retry: time.Second, MaxSendQueueBytes: 16 << 20})
	errc := make(chan error, 1)
	go func() { errc <- s.Run(context.Background()) }()
	<-s.Ready()
	c := dial(t, s)
	_ = c.(*net.TCPConn).SetReadBuffer(16 << 10)
	if _, err := c.Write([]byte("GET /events HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	st := <-streams
	data := strings.Repeat("x", size)
	for i := range events {
		if err := st.SendJSON("", map[string]any{"n": i, "pad": data}); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	shut := make(chan error, 1)
	go func() { shut <- s.Shutdown(ctx) }()
	all, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-shut; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	<-errc
	got := strings.Count(string(all), "\ndata: ")
	if got != events {
		t.Fatalf("%d of %d queued events arrived before the stream ended", got, events)
	}
	tail := string(all[max(0, len(all)-64):])
	if !strings.Contains(tail, "retry: ") {
		t.Fatalf("no retry hint after the events: %q", tail)
	}
}

// TestReplayLargerThanSendQueue: a subscriber that resumes with many times
// its send queue missed gets every missed publication, in order, with
// recovered:true, under each slow-client policy, followed by the live ones
// published while the replay was being written — no gap, no duplicate.
func TestReplayLargerThanSendQueue(t *testing.T) {
	const queue, size, missed, live = 256 << 10, 60 << 10, 50, 20 // 50 × 60 KB ≈ 11.7 × the queue
	for _, policy := range []SlowClientPolicy{SlowClientClose, SlowClientDrop, SlowClientError} {
		t.Run(fmt.Sprint(policy), func(t *testing.T) {
			s := startServer(t, Options{Encoder: pushEncoder{}, Hub: hub.Options{HistorySize: 200}},
				commandRoutes(WSOptions{MaxSendQueueBytes: queue, SlowClientPolicy: policy, MaxMessageBytes: 1 << 20}))
			h := s.Hub()
			start, err := h.Publish("big", hub.Publication{Data: []byte(`"start"`)})
			if err != nil {
				t.Fatal(err)
			}
			pad := strings.Repeat("x", size)
			for i := 1; i <= missed; i++ {
				if _, err := h.Publish("big", hub.Publication{Data: fmt.Appendf(nil, `{"n":%d,"pad":%q}`, i, pad)}); err != nil {
					t.Fatal(err)
				}
			}
			r := dialFrames(t, s, "/cmd", "")
			_ = r.c.SetDeadline(time.Now().Add(30 * time.Second))
			r.send(clientFrame(ws.OpText, []byte("sub big "+start.String())))
			f := r.next()
			if !strings.HasSuffix(string(f.Payload), "recovered=true") {
				t.Fatalf("reply %q", f.Payload)
			}
			done := make(chan error, 1)
			go func() { // live publications while the replay is written
				for i := missed + 1; i <= missed+live; i++ {
					if _, err := h.Publish("big", hub.Publication{Data: fmt.Appendf(nil, `{"n":%d}`, i)}); err != nil {
						done <- err
						return
					}
				}
				done <- nil
			}()
			for want := 1; want <= missed+live; want++ {
				f := r.next()
				if f.Header.OpCode != ws.OpText {
					code, reason := ws.ParseCloseFrameData(f.Payload)
					t.Fatalf("publication %d: got %v %d %q", want, f.Header.OpCode, code, reason)
				}
				var p struct {
					Offset uint64 `json:"offset"`
					Data   struct {
						N int `json:"n"`
					} `json:"data"`
				}
				if err := json.Unmarshal(f.Payload, &p); err != nil {
					t.Fatalf("publication %d: %v: %q", want, err, trim(f.Payload))
				}
				if p.Data.N != want || p.Offset != start.Offset+uint64(want) {
					t.Fatalf("got publication n=%d offset %d, want n=%d offset %d", p.Data.N, p.Offset, want, start.Offset+uint64(want))
				}
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestSSENoticeNamesWhatWasDelivered: on a stream of two channels resuming
// one with a replay many times its send queue, a notice written meanwhile
// names, like every event, exactly the positions delivered before it — a
// Last-Event-ID taken from any event resumes with no gap and no repeat —
// and every publication's data names its channel.
func TestSSENoticeNamesWhatWasDelivered(t *testing.T) {
	const missed, size = 40, 60 << 10
	s := startServer(t, Options{Encoder: pushEncoder{}, Hub: hub.Options{HistorySize: 100}}, func(s *Server) {
		s.SSE("/sse", SSEHandler{OnOpen: func(st *Stream) {
			ps, err := ParseEventID(st.LastEventID())
			if err != nil || len(ps) != 2 {
				t.Errorf("Last-Event-ID %q: %v", st.LastEventID(), err)
				return
			}
			if res, err := st.Subscribe("a", &ps[0]); err != nil || !res.Recovered {
				t.Errorf("a: %v %v", res, err)
			}
			if res, err := st.Subscribe("b", &ps[1]); err != nil || res.Recovered {
				t.Errorf("b: %v %v", res, err)
			}
			if err := st.Notice(sse.Event{Event: "recovered", Data: []byte(`{"channel":"b"}`)}); err != nil {
				t.Error(err)
			}
		}}, SSEOptions{MaxSendQueueBytes: 256 << 10})
	})
	h := s.Hub()
	startA, _ := h.Publish("a", hub.Publication{Data: []byte(`0`)})
	h.Publish("b", hub.Publication{Data: []byte(`0`)})
	for i := 1; i <= missed; i++ {
		h.Publish("a", hub.Publication{Data: fmt.Appendf(nil, `{"n":%d,"pad":%q}`, i, strings.Repeat("x", size))})
	}
	c := dial(t, s)
	fmt.Fprintf(c, "GET /sse HTTP/1.1\r\nHost: x\r\nLast-Event-ID: %s,%s\r\n\r\n", startA, "feedf00d:3")
	br := bufio.NewReader(c)
	if resp := readStreamHead(t, br); resp != 200 {
		t.Fatalf("status %d", resp)
	}
	dec := sse.NewDecoder(sse.Options{})
	delivered := map[string]uint64{"a": startA.Offset}
	notices, n := 0, 0
	buf := make([]byte, 64<<10)
	for n < missed || notices == 0 {
		k, err := br.Read(buf)
		if err != nil {
			t.Fatalf("after %d events: %v", n, err)
		}
		err = dec.Feed(buf[:k], func(e sse.Event) {
			ps, err := ParseEventID(e.ID)
			if err != nil || len(ps) != 2 {
				t.Fatalf("event id %q", e.ID)
			}
			if e.Event == "recovered" {
				notices++
			} else {
				var push struct {
					Channel string
					Offset  uint64
				}
				if err := json.Unmarshal(e.Data, &push); err != nil || push.Channel != "a" {
					t.Fatalf("event data %q: not a's push", trim(e.Data))
				}
				delivered["a"], n = push.Offset, n+1
			}
			if ps[0].Offset != delivered["a"] {
				t.Fatalf("event %q (%s) names a at %d, delivered up to %d", e.Event, e.ID, ps[0].Offset, delivered["a"])
			}
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if notices != 1 {
		t.Fatalf("%d notices", notices)
	}
}

// readStreamHead reads a response head and returns its status.
func readStreamHead(t *testing.T, br *bufio.Reader) int {
	t.Helper()
	line, err := br.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	status, _ := strconv.Atoi(strings.Fields(line)[1])
	for line != "\r\n" {
		if line, err = br.ReadString('\n'); err != nil {
			t.Fatal(err)
		}
	}
	return status
}

// TestWriteTimeoutBoundsADrain: a response being closed waits for its last
// byte only while the client takes bytes — one that stops reading is dropped
// once WriteTimeout passes without progress, and one that reads slowly, for
// many times WriteTimeout in all, still gets every byte.
func TestWriteTimeoutBoundsADrain(t *testing.T) {
	const size = 4 << 20
	s := startServer(t, Options{WriteTimeout: 300 * time.Millisecond, SocketSendBuffer: 32 << 10}, bigBody(size))
	t.Run("stalled", func(t *testing.T) {
		c := dial(t, s)
		_ = c.(*net.TCPConn).SetReadBuffer(16 << 10)
		if _, err := c.Write([]byte("GET /big HTTP/1.0\r\n\r\n")); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for s.Conns() > 0 { // the client reads nothing; the server gives up
			if time.Now().After(deadline) {
				t.Fatalf("a response nobody reads still held %v after it stalled (WriteTimeout 300ms)", 10*time.Second)
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
	t.Run("slow but steady", func(t *testing.T) {
		c := dial(t, s)
		_ = c.(*net.TCPConn).SetReadBuffer(16 << 10)
		_ = c.SetDeadline(time.Now().Add(60 * time.Second))
		if _, err := c.Write([]byte("GET /big HTTP/1.0\r\n\r\n")); err != nil {
			t.Fatal(err)
		}
		began, n := time.Now(), 0
		buf := make([]byte, 64<<10)
		for {
			k, err := c.Read(buf)
			n += k
			if err != nil {
				break
			}
			time.Sleep(5 * time.Millisecond) // the client's own pace: ~13 MB/s at most
		}
		if took := time.Since(began); n < size || took < 300*time.Millisecond {
			t.Fatalf("read %d bytes (of a %d byte body and its head) in %v: cut short while the client read", n, size, took)
		}
	})
}
