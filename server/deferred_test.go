package server

import (
	"bufio"
	"fmt"
	"testing"
	"time"
)

// deferredRoutes adds POST /slow/:id, whose response is deferred until a value
// arrives on release, and GET /panic, whose deferred handler panics.
func deferredRoutes(release <-chan string, started chan<- string) func(s *Server) {
	return func(s *Server) {
		echoRoutes(s)
		must := func(err error) {
			if err != nil {
				panic(err)
			}
		}
		must(s.HandleFunc("POST", "/slow/:id", func(w *ResponseWriter, r *Request) {
			w.WriteString("discarded") // what the handler wrote before Defer is not sent
			id, body := r.Param("id"), string(r.Body())
			w.Defer(func(w *ResponseWriter) {
				started <- id
				w.WriteHeader(202)
				w.SetHeader("X-Slow", id)
				fmt.Fprintf(w, "slow %s %s %s", id, body, <-release)
			})
		}))
		must(s.HandleFunc("GET", "/panic", func(w *ResponseWriter, _ *Request) {
			w.Defer(func(*ResponseWriter) { panic("boom") })
		}))
	}
}

// TestDeferredResponseKeepsLoopFree parks a deferred response on a one-loop
// server and checks that another connection of that loop is served meanwhile
// (a handler waiting on the loop would deadlock here), then that the deferred
// response and the requests pipelined behind it come out in order.
func TestDeferredResponseKeepsLoopFree(t *testing.T) {
	release, started := make(chan string), make(chan string, 1)
	s := startServer(t, Options{Loops: 1}, deferredRoutes(release, started))
	c := dial(t, s)
	fmt.Fprintf(c, "POST /slow/1 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"+
		"GET /items/2?q=4 HTTP/1.1\r\nHost: x\r\n\r\n"+
		"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	if id := <-started; id != "1" {
		t.Fatalf("deferred handler started for %q", id)
	}

	other := dial(t, s)
	fmt.Fprintf(other, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp, body := readResponse(t, bufio.NewReader(other), "GET"); resp.StatusCode != 200 || body != "ok\n" {
		t.Fatalf("other connection while the response is deferred: %d %q", resp.StatusCode, body)
	}

	release <- "done"
	br := bufio.NewReader(c)
	resp, body := readResponse(t, br, "POST")
	if resp.StatusCode != 202 || body != "slow 1 hello done" || resp.Header.Get("X-Slow") != "1" || resp.Close {
		t.Fatalf("deferred response: %d %q X-Slow=%q close=%v", resp.StatusCode, body, resp.Header.Get("X-Slow"), resp.Close)
	}
	if resp, body := readResponse(t, br, "GET"); body != "item=2 q=4 h=" {
		t.Fatalf("first pipelined request after the deferred one: %d %q", resp.StatusCode, body)
	}
	if resp, body := readResponse(t, br, "GET"); body != "ok\n" {
		t.Fatalf("second pipelined request after the deferred one: %d %q", resp.StatusCode, body)
	}

	// The connection is back to normal keep-alive service.
	fmt.Fprintf(c, "POST /slow/3 HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx")
	<-started
	release <- "again"
	resp, body = readResponse(t, br, "POST")
	if body != "slow 3 x again" || !resp.Close {
		t.Fatalf("deferred response with Connection: close: %q close=%v", body, resp.Close)
	}
	expectEOF(t, br)
}

func TestDeferredHandlerPanicAnswers500(t *testing.T) {
	s := startServer(t, Options{}, deferredRoutes(nil, nil))
	c := dial(t, s)
	fmt.Fprintf(c, "GET /panic HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(c)
	if resp, _ := readResponse(t, br, "GET"); resp.StatusCode != 500 {
		t.Fatalf("panicking deferred handler: %d, want 500", resp.StatusCode)
	}
	if resp, body := readResponse(t, br, "GET"); resp.StatusCode != 200 || body != "ok\n" {
		t.Fatalf("after the panic: %d %q", resp.StatusCode, body)
	}
}

// TestDeferredResponseAfterClientLeft: the client goes away while its
// response is being made; the late response is dropped and the server keeps
// serving.
func TestDeferredResponseAfterClientLeft(t *testing.T) {
	release, started := make(chan string), make(chan string, 1)
	s := startServer(t, Options{Loops: 1}, deferredRoutes(release, started))
	c := dial(t, s)
	fmt.Fprintf(c, "POST /slow/9 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
	<-started
	c.Close()
	// Poll for the condition, bounded: the server learns of the close
	// asynchronously and has no event for it on plain HTTP connections.
	for deadline := time.Now().Add(10 * time.Second); s.conns.Load() != 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the server still counts %d connections after the client left", s.conns.Load())
		}
	}
	release <- "late"
	other := dial(t, s)
	fmt.Fprintf(other, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp, body := readResponse(t, bufio.NewReader(other), "GET"); resp.StatusCode != 200 || body != "ok\n" {
		t.Fatalf("after a dropped deferred response: %d %q", resp.StatusCode, body)
	}
}
