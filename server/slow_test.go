package server

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gorilla/websocket"
	"github.com/panjf2000/gnet/v2"
)

// sockets collects the sockets a route opens, in order.
type sockets chan *Socket

func feedRoute(o WSOptions) (func(s *Server), sockets) {
	opened := make(sockets, 16)
	return func(s *Server) {
		if err := s.WebSocket("/feed", WSHandler{OnOpen: func(sock *Socket) { opened <- sock }}, o); err != nil {
			panic(err)
		}
	}, opened
}

// rawWS upgrades a raw TCP connection and then leaves the socket to the test:
// a client that never reads.
func rawWS(t *testing.T, s *Server, path string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c := dial(t, s)
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(32 << 10)
	}
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", path)
	br := bufio.NewReaderSize(c, 64<<10)
	resp, _ := readResponse(t, br, "GET")
	if resp.StatusCode != 101 {
		t.Fatalf("upgrade: %d", resp.StatusCode)
	}
	return c, br
}

// outbound reads gnet's outbound buffer size of ep's connection on its loop.
func outbound(t *testing.T, ep *endpoint) int {
	res := make(chan int, 1)
	c := ep.conn()
	err := c.l.el.Execute(context.Background(), gnet.RunnableFunc(func(context.Context) error {
		if c.state == stateClosed {
			res <- 0
		} else {
			res <- c.gc.OutboundBuffered()
		}
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	return <-res
}

// slowClientRun opens a slow (never reading) socket and a fast gorilla socket
// on the same loop, then sends 64 KiB messages to both until the slow one's
// policy acts. It checks the fast client got every message in order and the
// slow one's user-space queue never passed the limit. It returns the send
// error the slow socket ended with and the slow client's connection.
func slowClientRun(t *testing.T, policy SlowClientPolicy) (net.Conn, *bufio.Reader, *Server, error) {
	const limit = 256 << 10
	setup, opened := feedRoute(WSOptions{MaxSendQueueBytes: limit, MaxMessageBytes: 1 << 20, SlowClientPolicy: policy, SlowClientGrace: 10 * time.Second})
	s := startServer(t, Options{Loops: 1, SocketSendBuffer: 64 << 10}, setup)
	slowConn, slowBr := rawWS(t, s, "/feed")
	slow := <-opened
	fast, _, err := websocket.DefaultDialer.Dial(wsURL(s, "/feed"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer fast.Close()
	fastSock := <-opened
	got := make(chan error, 1)
	acks := make(chan struct{}, 1)
	const rounds = 400 // 25 MiB to each: far beyond any kernel buffering
	go func() {
		fast.SetReadDeadline(time.Now().Add(60 * time.Second))
		for i := range rounds {
			_, m, err := fast.ReadMessage()
			if err != nil {
				got <- err
				return
			}
			if n := binary.BigEndian.Uint32(m); n != uint32(i) || len(m) != 64<<10 {
				got <- fmt.Errorf("fast client got message %d (%d bytes) at %d", n, len(m), i)
				return
			}
			acks <- struct{}{}
		}
		got <- nil
	}()
	msg := make([]byte, 64<<10)
	var slowErr error
	maxOut := 0
	for i := range rounds {
		binary.BigEndian.PutUint32(msg, uint32(i))
		// The fast client keeps up: one message in flight at a time, so
		// no policy ever has a reason to act on it.
		if err := fastSock.SendBinary(msg); err != nil {
			t.Fatalf("fast send %d: %v", i, err)
		}
		if slowErr == nil {
			if err := slow.SendBinary(msg); err != nil {
				slowErr = err
			}
			maxOut = max(maxOut, outbound(t, &slow.endpoint))
		}
		select {
		case <-acks:
		case err := <-got:
			if err != nil || i != rounds-1 {
				t.Fatalf("fast client stopped at %d: %v", i, err)
			}
			got <- nil // done after the last message: keep the verdict for below
		}
	}
	if err := <-got; err != nil {
		t.Fatalf("fast client: %v", err)
	}
	if slowErr == nil {
		t.Fatalf("the slow client took %d MiB without the policy acting", rounds/16)
	}
	if maxOut > limit {
		t.Fatalf("slow client's outbound buffer reached %d bytes, limit %d", maxOut, limit)
	}
	return slowConn, slowBr, s, slowErr
}

func TestSlowClientErrorPolicy(t *testing.T) {
	_, _, s, err := slowClientRun(t, SlowClientError)
	if !errors.Is(err, ErrSlowClient) {
		t.Fatalf("send error %v, want ErrSlowClient", err)
	}
	if s.Metrics().WSBackpressure.Load() == 0 {
		t.Fatal("backpressure not counted")
	}
}

func TestSlowClientDropPolicy(t *testing.T) {
	_, _, s, err := slowClientRun(t, SlowClientDrop)
	if !errors.Is(err, ErrDropped) {
		t.Fatalf("send error %v, want ErrDropped", err)
	}
	if s.Metrics().SlowClientDropped.Load() == 0 {
		t.Fatal("drops not counted")
	}
}

func TestSlowClientClosePolicyDelivers1013(t *testing.T) {
	c, br, _, err := slowClientRun(t, SlowClientClose)
	if !errors.Is(err, ErrSlowClient) {
		t.Fatalf("send error %v, want ErrSlowClient", err)
	}
	// The client starts reading again: behind the queued data frames it
	// must find a 1013 close frame.
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
	for frames := 0; ; frames++ {
		h, err := ws.ReadHeader(br)
		if err != nil {
			t.Fatalf("after %d frames: %v (no close frame)", frames, err)
		}
		payload := make([]byte, h.Length)
		if _, err := io.ReadFull(br, payload); err != nil {
			t.Fatalf("frame %d payload: %v", frames, err)
		}
		if h.OpCode == ws.OpClose {
			code, _ := ws.ParseCloseFrameData(payload)
			if code != 1013 {
				t.Fatalf("close code %d, want 1013", code)
			}
			return
		}
	}
}

// TestSendQueueBytes: what a client does not read shows in
// Server.SendQueueBytes, and leaves it when the connection closes.
func TestSendQueueBytes(t *testing.T) {
	opened := make(chan *Socket, 1)
	closed := make(chan struct{})
	s := startServer(t, Options{Loops: 1, SocketSendBuffer: 64 << 10}, func(s *Server) {
		err := s.WebSocket("/feed", WSHandler{
			OnOpen:  func(sock *Socket) { opened <- sock },
			OnClose: func(*Socket, int, string) { close(closed) },
		}, WSOptions{MaxSendQueueBytes: 8 << 20, MaxMessageBytes: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
	})
	conn, _ := rawWS(t, s, "/feed")
	sock := <-opened
	if n := s.SendQueueBytes(); n != 0 {
		t.Fatalf("%d bytes queued before any send", n)
	}
	const msgs, size = 64, 64 << 10 // 4 MiB: far more than both kernel buffers hold
	msg := make([]byte, size)
	for i := range msgs {
		if err := sock.SendBinary(msg); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	// outbound runs on the loop after the sends were drained and flushed,
	// and the flush published the backlog.
	out := outbound(t, &sock.endpoint)
	got := s.SendQueueBytes()
	if out == 0 || got < int64(out) || got > msgs*(size+10) {
		t.Fatalf("SendQueueBytes %d with %d bytes in the outbound buffer, %d sent", got, out, msgs*size)
	}
	conn.Close()
	<-closed
	if n := s.SendQueueBytes(); n != 0 {
		t.Fatalf("%d bytes still counted after the connection closed", n)
	}
}
