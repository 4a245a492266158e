package server

import (
	"bufio"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// echoRoutes registers handlers that reflect the request, so responses prove
// which request they answer.
func echoRoutes(s *Server) {
	must := func(err error) {
		if err != nil {
			panic(err)
		}
	}
	must(s.HandleFunc("GET", "/healthz", func(w *ResponseWriter, _ *Request) { w.WriteString("ok\n") }))
	must(s.HandleFunc("GET", "/items/:id", func(w *ResponseWriter, r *Request) {
		w.SetHeader("X-Item", r.Param("id"))
		fmt.Fprintf(w, "item=%s q=%s h=%s", r.Param("id"), r.Query("q"), r.Header("X-Test"))
	}))
	must(s.HandleFunc("POST", "/items/:id", func(w *ResponseWriter, r *Request) {
		w.WriteHeader(201)
		fmt.Fprintf(w, "posted %s %d:%s", r.Param("id"), len(r.Body()), r.Body())
	}))
	must(s.HandleFunc("GET", "/files/*path", func(w *ResponseWriter, r *Request) {
		w.WriteString("file=" + r.Param("path"))
	}))
}

func TestPipelinedRequestsAnsweredInOrder(t *testing.T) {
	s := startServer(t, Options{}, echoRoutes)
	c := dial(t, s)
	var req strings.Builder
	for i := range 5 {
		fmt.Fprintf(&req, "GET /items/%d?q=%d HTTP/1.1\r\nHost: x\r\n\r\n", i, i*i)
	}
	if _, err := c.Write([]byte(req.String())); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	for i := range 5 {
		resp, body := readResponse(t, br, "GET")
		want := fmt.Sprintf("item=%d q=%d h=", i, i*i)
		if resp.StatusCode != 200 || body != want || resp.Header.Get("X-Item") != strconv.Itoa(i) {
			t.Fatalf("response %d: %d %q (X-Item %q), want 200 %q", i, resp.StatusCode, body, resp.Header.Get("X-Item"), want)
		}
		if resp.Header.Get("Date") == "" {
			t.Fatalf("response %d has no Date header", i)
		}
	}
}

func TestRequestSplitIntoOneByteWrites(t *testing.T) {
	s := startServer(t, Options{}, echoRoutes)
	c := dial(t, s)
	req := "POST /items/7 HTTP/1.1\r\nHost: x\r\nX-Test: split\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n" +
		"GET /items/8?q=a%20b HTTP/1.1\r\nHost: x\r\nX-Test: two\r\n\r\n"
	for i := 0; i < len(req); i++ {
		if _, err := c.Write([]byte{req[i]}); err != nil {
			t.Fatal(err)
		}
	}
	br := bufio.NewReader(c)
	resp, body := readResponse(t, br, "POST")
	if resp.StatusCode != 201 || body != "posted 7 11:hello world" {
		t.Fatalf("POST: %d %q", resp.StatusCode, body)
	}
	resp, body = readResponse(t, br, "GET")
	if resp.StatusCode != 200 || body != "item=8 q=a b h=two" {
		t.Fatalf("GET: %d %q", resp.StatusCode, body)
	}
}

func TestLimitsAnsweredWithStatusThenClosed(t *testing.T) {
	s := startServer(t, Options{MaxRequestLine: 256, MaxHeaderBytes: 1024, MaxBodyBytes: 64}, echoRoutes)
	cases := []struct {
		name   string
		req    string
		status int
	}{
		{"uri too long", "GET /items/" + strings.Repeat("a", 300) + " HTTP/1.1\r\nHost: x\r\n\r\n", 414},
		{"uri too long before CRLF", "GET /items/" + strings.Repeat("a", 300), 414},
		{"headers too large", "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("b", 1100) + "\r\n\r\n", 431},
		{"headers too large before end", "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("b", 1100), 431},
		{"body too large", "POST /items/1 HTTP/1.1\r\nHost: x\r\nContent-Length: 65\r\n\r\n", 413},
		{"chunked body too large", "POST /items/1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n41\r\n" + strings.Repeat("c", 65) + "\r\n0\r\n\r\n", 413},
		{"malformed request line", "GET\r\n\r\n", 400},
		{"space before colon", "GET /healthz HTTP/1.1\r\nHost : x\r\n\r\n", 400},
		{"missing host", "GET /healthz HTTP/1.1\r\n\r\n", 400},
		{"unsupported transfer coding", "POST /items/1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501},
		{"smuggling: CL and TE", "POST /items/1 HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
		{"smuggling: two CL", "POST /items/1 HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde", 400},
		{"http/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, s)
			if _, err := c.Write([]byte(tc.req)); err != nil {
				t.Fatal(err)
			}
			br := bufio.NewReader(c)
			resp, _ := readResponse(t, br, "GET")
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if !resp.Close {
				t.Fatalf("response does not say Connection: close")
			}
			expectEOF(t, br)
		})
	}
	// The server still serves after all of that.
	c := dial(t, s)
	fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp, body := readResponse(t, bufio.NewReader(c), "GET"); resp.StatusCode != 200 || body != "ok\n" {
		t.Fatalf("after bad requests: %d %q", resp.StatusCode, body)
	}
}

func TestSlowHeadersDisconnectedAfterHeaderTimeout(t *testing.T) {
	s := startServer(t, Options{HeaderTimeout: 300 * time.Millisecond}, echoRoutes)
	c := dial(t, s)
	start := time.Now()
	if _, err := c.Write([]byte("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	resp, _ := readResponse(t, br, "GET")
	if resp.StatusCode != 408 {
		t.Fatalf("status %d, want 408", resp.StatusCode)
	}
	expectEOF(t, br)
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Fatalf("closed after %v, before the header timeout", d)
	}
	if got := s.Metrics().HeaderTimeouts.Load(); got != 1 {
		t.Fatalf("HeaderTimeouts = %d, want 1", got)
	}
}

func TestIdleKeepAliveClosed(t *testing.T) {
	s := startServer(t, Options{IdleTimeout: 200 * time.Millisecond}, echoRoutes)
	c := dial(t, s)
	fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(c)
	if resp, _ := readResponse(t, br, "GET"); resp.StatusCode != 200 || resp.Close {
		t.Fatalf("status %d close %v", resp.StatusCode, resp.Close)
	}
	expectEOF(t, br)
}

func TestKeepAliveRules(t *testing.T) {
	s := startServer(t, Options{}, echoRoutes)
	t.Run("HTTP/1.0 closes by default", func(t *testing.T) {
		c := dial(t, s)
		fmt.Fprintf(c, "GET /healthz HTTP/1.0\r\n\r\n")
		br := bufio.NewReader(c)
		if resp, _ := readResponse(t, br, "GET"); resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		expectEOF(t, br)
	})
	t.Run("HTTP/1.0 keep-alive stays open", func(t *testing.T) {
		c := dial(t, s)
		fmt.Fprintf(c, "GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /items/2 HTTP/1.0\r\n\r\n")
		br := bufio.NewReader(c)
		readResponse(t, br, "GET")
		if resp, body := readResponse(t, br, "GET"); resp.StatusCode != 200 || !strings.HasPrefix(body, "item=2") {
			t.Fatalf("second response %d %q", resp.StatusCode, body)
		}
		expectEOF(t, br)
	})
	t.Run("HTTP/1.1 Connection: close", func(t *testing.T) {
		c := dial(t, s)
		fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		br := bufio.NewReader(c)
		if resp, _ := readResponse(t, br, "GET"); !resp.Close {
			t.Fatal("response to Connection: close does not close")
		}
		expectEOF(t, br)
	})
}

func TestExpectContinue(t *testing.T) {
	s := startServer(t, Options{}, echoRoutes)
	c := dial(t, s)
	fmt.Fprintf(c, "POST /items/3 HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
	br := bufio.NewReader(c)
	line, err := br.ReadString('\n')
	if err != nil || line != "HTTP/1.1 100 Continue\r\n" {
		t.Fatalf("interim response %q, %v", line, err)
	}
	if blank, _ := br.ReadString('\n'); blank != "\r\n" {
		t.Fatalf("100 Continue not terminated: %q", blank)
	}
	fmt.Fprintf(c, "data")
	if resp, body := readResponse(t, br, "POST"); resp.StatusCode != 201 || body != "posted 3 4:data" {
		t.Fatalf("%d %q", resp.StatusCode, body)
	}
}

func TestNotFoundAndMethodNotAllowed(t *testing.T) {
	s := startServer(t, Options{}, echoRoutes)
	c := dial(t, s)
	fmt.Fprintf(c, "GET /nope HTTP/1.1\r\nHost: x\r\n\r\nDELETE /items/1 HTTP/1.1\r\nHost: x\r\n\r\nHEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /files/a/b/c.txt HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(c)
	if resp, _ := readResponse(t, br, "GET"); resp.StatusCode != 404 {
		t.Fatalf("unknown path: %d", resp.StatusCode)
	}
	resp, _ := readResponse(t, br, "DELETE")
	if resp.StatusCode != 405 || resp.Header.Get("Allow") != "GET, HEAD, POST" {
		t.Fatalf("wrong method: %d Allow=%q", resp.StatusCode, resp.Header.Get("Allow"))
	}
	resp, body := readResponse(t, br, "HEAD")
	if resp.StatusCode != 200 || body != "" || resp.ContentLength != 3 {
		t.Fatalf("HEAD: %d %q len %d", resp.StatusCode, body, resp.ContentLength)
	}
	if resp, body := readResponse(t, br, "GET"); resp.StatusCode != 200 || body != "file=a/b/c.txt" {
		t.Fatalf("wildcard: %d %q", resp.StatusCode, body)
	}
}

func TestMaxConnsRejectsWith503(t *testing.T) {
	s := startServer(t, Options{MaxConns: 2}, echoRoutes)
	held := []*bufio.Reader{}
	for range 2 {
		c := dial(t, s)
		fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
		br := bufio.NewReader(c)
		if resp, _ := readResponse(t, br, "GET"); resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		held = append(held, br)
	}
	c := dial(t, s)
	br := bufio.NewReader(c)
	if resp, _ := readResponse(t, br, "GET"); resp.StatusCode != 503 {
		t.Fatalf("over the limit: %d, want 503", resp.StatusCode)
	}
	expectEOF(t, br)
	if got := s.Metrics().ConnsRejected.Load(); got != 1 {
		t.Fatalf("ConnsRejected = %d", got)
	}
	_ = held
}
