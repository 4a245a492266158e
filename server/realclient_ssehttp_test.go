package server

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rtd-project/rtd/proto/sse"
)

// getStream starts GET url with net/http and returns the response, whose
// body streams; the request ends with the test.
func getStream(t *testing.T, url string, header ...string) *http.Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// readPreamble reads the preamble AppendPreamble writes for retry.
func readPreamble(t *testing.T, br *bufio.Reader, retry time.Duration) {
	t.Helper()
	want := sse.AppendPreamble(nil, retry)
	got := make([]byte, len(want))
	if _, err := io.ReadFull(br, got); err != nil {
		t.Fatalf("reading the preamble: %v", err)
	}
	if string(got) != string(want) {
		t.Fatalf("preamble %q, want %q", trimPadding(string(got)), trimPadding(string(want)))
	}
}

// TestSSEHeadersRetryHeartbeat reads a stream with net/http: the response
// head, the retry hint, and heartbeat comments that keep coming while no
// event is sent.
func TestSSEHeadersRetryHeartbeat(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{}, func(s *Server) {
		if err := s.SSE("/hb", SSEHandler{}, SSEOptions{Retry: 1500 * time.Millisecond, HeartbeatInterval: 20 * time.Millisecond}); err != nil {
			t.Fatal(err)
		}
	})
	resp := getStream(t, httpURL(s, "/hb"))
	// No length and no chunking: the body runs until the connection ends.
	if resp.StatusCode != 200 || resp.Proto != "HTTP/1.1" || resp.ContentLength != -1 {
		t.Fatalf("%s %d, length %d", resp.Proto, resp.StatusCode, resp.ContentLength)
	}
	for name, want := range map[string]string{
		"Content-Type":                "text/event-stream",
		"Cache-Control":               "no-cache",
		"X-Accel-Buffering":           "no",
		"Access-Control-Allow-Origin": "",
		"Content-Length":              "",
		"Transfer-Encoding":           "",
	} {
		if got := resp.Header.Values(name); strings.Join(got, ",") != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	br := bufio.NewReader(resp.Body)
	readPreamble(t, br, 1500*time.Millisecond)
	// Nothing else is sent: what follows is heartbeats only.
	for range 3 {
		want := ":\n\n"
		got := make([]byte, len(want))
		if _, err := io.ReadFull(br, got); err != nil || string(got) != want {
			t.Fatalf("read %q, %v; want a heartbeat %q", got, err, want)
		}
	}
}

// TestSSECORS: an allowed origin gets Access-Control-Allow-Origin (naming
// the origin when credentials are allowed, with Allow-Credentials and Vary),
// a request without Origin or from the server's own site gets no CORS
// headers, and a disallowed origin gets 403 and no stream: with no Origins
// configured, every other site is disallowed.
func TestSSECORS(t *testing.T) {
	t.Parallel()
	routes := []SSEOptions{
		{Origins: []string{"https://app.example"}, AllowCredentials: true},
		{Origins: []string{"*"}},
		{},
		{Origins: []string{"https://app.example", "https://other.example"}},
		{Origins: []string{"https://*.app.example"}, AllowCredentials: true},
	}
	// OnOpen runs after the head is written: the test waits for it.
	opened := make(chan string, 8)
	s := startServer(t, Options{}, func(s *Server) {
		for i, o := range routes {
			onOpen := func(st *Stream) { opened <- fmt.Sprint(i, st.Request().Header("Origin")) }
			if err := s.SSE(fmt.Sprintf("/cors/%d", i), SSEHandler{OnOpen: onOpen}, o); err != nil {
				t.Fatal(err)
			}
		}
	})
	for _, c := range []struct {
		route            int
		origin           string
		acao, acac, vary string
	}{
		{0, "https://app.example", "https://app.example", "true", "Origin"},
		{1, "https://x.example", "*", "", ""},
		{2, "http://" + s.Addr(), "", "", ""},
		{2, "", "", "", ""},
		{3, "https://other.example", "https://other.example", "", "Origin"},
		{3, "", "", "", ""},
		{4, "https://a.app.example", "https://a.app.example", "true", "Origin"},
	} {
		var header []string
		if c.origin != "" {
			header = []string{"Origin", c.origin}
		}
		resp := getStream(t, httpURL(s, fmt.Sprintf("/cors/%d", c.route)), header...)
		got := [4]string{resp.Header.Get("Content-Type"), resp.Header.Get("Access-Control-Allow-Origin"),
			resp.Header.Get("Access-Control-Allow-Credentials"), resp.Header.Get("Vary")}
		if want := [4]string{"text/event-stream", c.acao, c.acac, c.vary}; resp.StatusCode != 200 || got != want {
			t.Errorf("route %d, Origin %q: %d %q, want 200 %q", c.route, c.origin, resp.StatusCode, got, want)
		}
		readPreamble(t, bufio.NewReader(resp.Body), defaultSSERetry)
		resp.Body.Close()
		waitOpened(t, opened, fmt.Sprint(c.route, c.origin))
	}
	refused := []int{0, 2, 3, 4}
	for _, route := range refused {
		c := dial(t, s)
		fmt.Fprintf(c, "GET /cors/%d HTTP/1.1\r\nHost: x\r\nOrigin: https://evil.example\r\n\r\n", route)
		br := bufio.NewReader(c)
		resp, body := readResponse(t, br, "GET")
		if resp.StatusCode != 403 || body != "origin not allowed\n" || resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("disallowed origin on route %d: %d %q %v", route, resp.StatusCode, body, resp.Header)
		}
		expectEOF(t, br)
		// A stream would have opened before the connection closed.
		if len(opened) != 0 {
			t.Errorf("route %d opened a stream for a disallowed origin", route)
		}
	}
	if n := s.Metrics().SSERejected.Load(); n != int64(len(refused)) {
		t.Errorf("SSERejected = %d, want %d", n, len(refused))
	}
}

// TestSSEAuthorize: an *HTTPError rejects with its status and message,
// another error with 403, both without a stream; a request Authorize
// accepts streams.
func TestSSEAuthorize(t *testing.T) {
	t.Parallel()
	opened := make(chan string, 4)
	s := startServer(t, Options{}, func(s *Server) {
		err := s.SSE("/private", SSEHandler{OnOpen: func(st *Stream) { opened <- st.Request().Header("Authorization") }}, SSEOptions{
			Authorize: func(r *Request) error {
				switch r.Header("Authorization") {
				case "Bearer good":
					return nil
				case "Bearer banned":
					return errors.New("banned")
				case "Bearer expired":
					return &HTTPError{Status: 401, Message: `{"error":"token expired"}`}
				}
				return &HTTPError{Status: 401, Message: "login first"}
			},
		})
		if err != nil {
			t.Fatal(err)
		}
	})
	for _, c := range []struct {
		auth   string
		status int
		body   string
		ctype  string
	}{
		{"", 401, "login first\n", "text/plain; charset=utf-8"},
		{"Bearer banned", 403, "forbidden\n", "text/plain; charset=utf-8"},
		{"Bearer expired", 401, `{"error":"token expired"}` + "\n", "application/json"},
	} {
		conn := dial(t, s)
		fmt.Fprintf(conn, "GET /private HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\n\r\n", c.auth)
		br := bufio.NewReader(conn)
		resp, body := readResponse(t, br, "GET")
		if resp.StatusCode != c.status || body != c.body || resp.Header.Get("Content-Type") != c.ctype {
			t.Errorf("Authorization %q: %d %q (%s), want %d %q (%s)", c.auth, resp.StatusCode, body, resp.Header.Get("Content-Type"), c.status, c.body, c.ctype)
		}
		expectEOF(t, br)
	}
	// A stream would have opened before the connection closed.
	if len(opened) != 0 {
		t.Fatalf("%d streams opened for rejected requests", len(opened))
	}
	resp := getStream(t, httpURL(s, "/private"), "Authorization", "Bearer good")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("authorized: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	readPreamble(t, bufio.NewReader(resp.Body), defaultSSERetry)
	waitOpened(t, opened, "Bearer good")
}

// waitOpened waits for a stream's OnOpen to report want.
func waitOpened(t *testing.T, opened <-chan string, want string) {
	t.Helper()
	select {
	case got := <-opened:
		if got != want {
			t.Fatalf("a stream opened for %q, want %q", got, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("no stream opened for %q", want)
	}
}

// TestSSELastEventIDQuery: ?lastEventId= stands in for the header (for
// clients that cannot set one), percent-decoded; the header wins when both
// are sent.
func TestSSELastEventIDQuery(t *testing.T) {
	t.Parallel()
	seen := make(chan string, 1)
	s := startServer(t, Options{}, func(s *Server) {
		if err := s.SSE("/resume", SSEHandler{OnOpen: func(st *Stream) { seen <- st.LastEventID() }}, SSEOptions{}); err != nil {
			t.Fatal(err)
		}
	})
	for _, c := range []struct {
		query, header, want string
	}{
		{"", "", ""},
		{"?lastEventId=41", "", "41"},
		{"?lastEventId=a%20b%2Fc", "", "a b/c"},
		{"?lastEventId=41", "7", "7"},
		{"?lasteventid=41", "", ""}, // query names are case-sensitive
	} {
		var header []string
		if c.header != "" {
			header = []string{"Last-Event-ID", c.header}
		}
		getStream(t, httpURL(s, "/resume"+c.query), header...).Body.Close()
		waitOpened(t, seen, c.want)
	}
}

// serveStreams starts a server with one SSE route, /s, with options o; it
// returns the server and the streams the route opens.
func serveStreams(t *testing.T, o SSEOptions) (*Server, <-chan *Stream) {
	t.Helper()
	opened := make(chan *Stream, 1)
	s := startServer(t, Options{}, func(s *Server) {
		if err := s.SSE("/s", SSEHandler{OnOpen: func(st *Stream) { opened <- st }}, o); err != nil {
			t.Fatal(err)
		}
	})
	return s, opened
}

// TestSSESendRejectsFieldInjection: an id or event name with CR, LF or NUL
// fails Send with the sse package's error and writes nothing; the next valid
// event is the first thing after the preamble.
func TestSSESendRejectsFieldInjection(t *testing.T) {
	t.Parallel()
	s, opened := serveStreams(t, SSEOptions{HeartbeatInterval: -1})
	resp := getStream(t, httpURL(s, "/s"))
	st := <-opened
	for _, c := range []struct {
		e    sse.Event
		want error
	}{
		{sse.Event{ID: "1\ndata: injected", Data: []byte("x")}, sse.ErrInvalidID},
		{sse.Event{ID: "1\r", Data: []byte("x")}, sse.ErrInvalidID},
		{sse.Event{ID: "1\x00", Data: []byte("x")}, sse.ErrInvalidID},
		{sse.Event{Event: "tick\nid: 9", Data: []byte("x")}, sse.ErrInvalidEventName},
	} {
		if err := st.Send(c.e); !errors.Is(err, c.want) {
			t.Errorf("Send(%q) = %v, want %v", c.e, err, c.want)
		}
	}
	if err := st.Send(sse.Event{ID: "ok", Event: "tick", Data: []byte("fine")}); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if want := string(sse.AppendPreamble(nil, defaultSSERetry)) + "id: ok\nevent: tick\ndata: fine\n\n"; string(body) != want {
		t.Fatalf("stream %q, want %q", trimPadding(string(body)), trimPadding(want))
	}
}

// TestSSEClientDisconnect: when the client goes away, OnClose runs once,
// the stream's context (taken before or after) is cancelled, and sends fail
// with ErrClosed.
func TestSSEClientDisconnect(t *testing.T) {
	t.Parallel()
	opened := make(chan *Stream, 1)
	contexts := make(chan context.Context, 1)
	closed := make(chan *Stream, 2)
	s := startServer(t, Options{}, func(s *Server) {
		err := s.SSE("/s", SSEHandler{
			OnOpen: func(st *Stream) {
				contexts <- st.Context()
				opened <- st
			},
			OnClose: func(st *Stream) { closed <- st },
		}, SSEOptions{})
		if err != nil {
			t.Fatal(err)
		}
	})
	c := dial(t, s)
	fmt.Fprint(c, "GET /s HTTP/1.1\r\nHost: x\r\n\r\n")
	st, ctx := <-opened, <-contexts
	if err := st.Send(sse.Event{Data: []byte("before")}); err != nil {
		t.Fatal(err)
	}
	if ctx.Err() != nil {
		t.Fatal("context cancelled while the stream is open")
	}
	c.Close()
	select {
	case got := <-closed:
		if got != st {
			t.Fatal("OnClose got another stream")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("OnClose did not run after the client went away")
	}
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the context taken in OnOpen was not cancelled")
	}
	if st.Context().Err() == nil {
		t.Fatal("a context taken after the end is not cancelled")
	}
	if err := st.Send(sse.Event{Data: []byte("after")}); !errors.Is(err, ErrClosed) {
		t.Fatalf("send after the end: %v, want ErrClosed", err)
	}
	if err := st.Close(); err != nil {
		t.Fatalf("Close after the end: %v", err)
	}
	if n := s.Metrics().SSEConnections.Load(); n != 0 {
		t.Fatalf("SSEConnections = %d after the only stream ended", n)
	}
	select {
	case <-closed:
		t.Fatal("OnClose ran twice")
	default:
	}
}

// TestSSEStreamSugar: SendJSON names the event and encodes the data,
// Heartbeat writes a comment line in order with the events (not counted as
// one), RemoteAddr is the client's address; net/http reads the stream.
func TestSSEStreamSugar(t *testing.T) {
	t.Parallel()
	s, opened := serveStreams(t, SSEOptions{HeartbeatInterval: -1})
	c := dial(t, s)
	fmt.Fprint(c, "GET /s HTTP/1.1\r\nHost: x\r\n\r\n")
	st := <-opened
	if got, want := st.RemoteAddr(), c.LocalAddr().String(); got != want {
		t.Errorf("RemoteAddr %q, want the client's %q", got, want)
	}
	if err := st.SendJSON("greet", map[string]int{"a": 1}); err != nil {
		t.Fatal(err)
	}
	if err := st.Heartbeat(); err != nil {
		t.Fatal(err)
	}
	if err := st.SendJSON("", []int{1, 2}); err != nil {
		t.Fatal(err)
	}
	var jsonErr *json.UnsupportedTypeError
	if err := st.SendJSON("x", make(chan int)); !errors.As(err, &jsonErr) {
		t.Errorf("SendJSON of a channel: %v, want json's UnsupportedTypeError", err)
	}
	if err := st.SendJSON("bad\nname", 1); !errors.Is(err, sse.ErrInvalidEventName) {
		t.Errorf("SendJSON with a bad event name: %v", err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	resp, body := readResponse(t, bufioReader(c), "GET")
	want := string(sse.AppendPreamble(nil, defaultSSERetry)) + "event: greet\ndata: {\"a\":1}\n\n:\n\ndata: [1,2]\n\n"
	if resp.StatusCode != 200 || body != want {
		t.Fatalf("%d, stream %q, want %q", resp.StatusCode, trimPadding(body), trimPadding(want))
	}
	if n := s.Metrics().SSEEventsOut.Load(); n != 2 {
		t.Errorf("SSEEventsOut = %d, want the 2 events and not the heartbeat", n)
	}
	if err := st.Heartbeat(); !errors.Is(err, ErrClosed) {
		t.Errorf("Heartbeat after the end: %v, want ErrClosed", err)
	}
}

// TestSSEHeartbeatSlowClient: a heartbeat that does not fit the stream's send
// queue meets the slow-client policy as an event would: dropped, refused, or
// the stream ends (counted as a slow-client close). One larger than the
// whole queue could never be queued: ErrTooLarge, whatever the policy.
func TestSSEHeartbeatSlowClient(t *testing.T) {
	t.Parallel()
	type sent struct {
		st                           *Stream
		first, second, event, tooBig error
	}
	opened := make(chan sent, 1)
	s := startServer(t, Options{}, func(s *Server) {
		for path, p := range map[string]SlowClientPolicy{"/drop": SlowClientDrop, "/error": SlowClientError, "/close": SlowClientClose} {
			// 10 bytes: three heartbeats fit, a fourth does not while
			// they are queued (OnOpen runs on the loop: nothing is
			// written before it returns), nor does an 8-byte event.
			o := SSEOptions{HeartbeatInterval: -1, MaxSendQueueBytes: 10, SlowClientPolicy: p}
			err := s.SSE(path, SSEHandler{OnOpen: func(st *Stream) {
				r := sent{st: st, first: errors.Join(st.Heartbeat(), st.Heartbeat(), st.Heartbeat())}
				r.second = st.Heartbeat()
				r.event = st.Send(sse.Event{})
				r.tooBig = st.Send(sse.Event{Data: []byte("1234")})
				opened <- r
			}}, o)
			if err != nil {
				t.Fatal(err)
			}
		}
	})
	for _, tc := range []struct {
		path string
		want error
	}{{"/drop", ErrDropped}, {"/error", ErrSlowClient}, {"/close", ErrSlowClient}} {
		resp := getStream(t, httpURL(s, tc.path))
		r := <-opened
		if r.first != nil || !errors.Is(r.second, tc.want) || !errors.Is(r.event, tc.want) {
			t.Errorf("%s: heartbeats %v, %v, event %v; want nil, %v, %v", tc.path, r.first, r.second, r.event, tc.want, tc.want)
		}
		if !errors.Is(r.tooBig, ErrTooLarge) {
			t.Errorf("%s: an event larger than the queue: %v, want ErrTooLarge", tc.path, r.tooBig)
		}
		if tc.path != "/close" {
			_ = r.st.Close()
		}
		body, err := io.ReadAll(resp.Body)
		if want := string(sse.AppendPreamble(nil, defaultSSERetry)) + ":\n\n:\n\n:\n\n"; err != nil || string(body) != want {
			t.Fatalf("%s: the stream read %q, %v; want the preamble, the heartbeats that fit, then its end", tc.path, trimPadding(string(body)), err)
		}
	}
	if n := s.Metrics().SlowClientCloses.Load(); n != 1 {
		t.Errorf("SlowClientCloses = %d, want 1", n)
	}
	if n := s.Metrics().SlowClientDropped.Load(); n != 2 {
		t.Errorf("SlowClientDropped = %d, want 2", n)
	}
}
