package server

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/rtd-project/rtd/hub"
)

// startServer runs a server on a free loopback port with setup's routes and
// stops it when the test ends. It returns the server.
func startServer(t testing.TB, o Options, setup func(s *Server)) *Server {
	t.Helper()
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	if setup != nil {
		setup(s)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- s.Run(ctx) }()
	select {
	case <-s.Ready():
	case err := <-errc:
		cancel()
		t.Fatalf("server did not start: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return s
}

// dial opens a raw TCP connection to s with a bounded deadline.
func dial(t testing.TB, s *Server) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", s.Addr(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	t.Cleanup(func() { c.Close() })
	return c
}

// readResponse reads one HTTP response from br with net/http's parser, so the
// server's output is checked by an independent implementation.
func readResponse(t testing.TB, br *bufio.Reader, method string) (*http.Response, string) {
	t.Helper()
	resp, err := http.ReadResponse(br, &http.Request{Method: method})
	if err != nil {
		t.Fatalf("reading response: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading body: %v", err)
	}
	resp.Body.Close()
	return resp, string(body)
}

// expectEOF asserts that the server closes the connection (after what was
// already read).
func expectEOF(t testing.TB, br *bufio.Reader) {
	t.Helper()
	b, err := br.ReadByte()
	if err == nil {
		rest, _ := br.Peek(br.Buffered())
		t.Fatalf("expected the server to close, read %q%q", b, rest)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("expected the server to close, the connection stayed open")
	}
}

func bufioReader(c net.Conn) *bufio.Reader { return bufio.NewReader(c) }

// pushEncoder is an Encoder like the fan-out tier's, for tests that read a
// publication's channel and position from what a subscriber gets: a JSON
// object on WebSocket and on streams of several channels, the data as is on
// other streams.
type pushEncoder struct{}

func (pushEncoder) AppendMessage(dst []byte, p *hub.Publication) []byte {
	dst = fmt.Appendf(dst, `{"channel":%q,"offset":%d,"epoch":%q,"data":`, p.Channel, p.Offset, p.Epoch)
	if json.Valid(p.Data) {
		dst = append(dst, p.Data...)
	} else {
		q, _ := json.Marshal(string(p.Data))
		dst = append(dst, q...)
	}
	return append(dst, '}')
}

func (e pushEncoder) AppendEventData(dst []byte, p *hub.Publication, tagged bool) []byte {
	if tagged {
		return e.AppendMessage(dst, p)
	}
	return append(dst, p.Data...)
}
