package server

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/rs/zerolog"
)

// logBuffer collects log lines written from the loops and other goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// lines returns the JSON lines whose message is msg.
func (b *logBuffer) lines(t *testing.T, msg string) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(b.buf.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if m["message"] == msg {
			out = append(out, m)
		}
	}
	return out
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func logged(sampler zerolog.Sampler) (*logBuffer, Options) {
	b := &logBuffer{}
	l := zerolog.New(b)
	return b, Options{Logger: &l, LogSampler: sampler}
}

// TestAccessAndEventLog checks the request, refusal, open and close lines,
// and that a token in the query string never reaches the log.
func TestAccessAndEventLog(t *testing.T) {
	logs, o := logged(&zerolog.BasicSampler{N: 1})
	closed := make(chan int, 1)
	s := startServer(t, o, func(s *Server) {
		echoRoutes(s)
		err := s.WebSocket("/ws", WSHandler{OnClose: func(_ *Socket, code int, _ string) { closed <- code }}, WSOptions{
			Authorize: func(r *Request) error {
				if r.Query("token") != "good-secret" {
					return &HTTPError{Status: 401, Message: "bad token"}
				}
				r.SetUser("u1")
				return nil
			},
		})
		if err != nil {
			t.Fatal(err)
		}
	})
	c := dial(t, s)
	fmt.Fprintf(c, "GET /items/7?token=query-secret HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(c)
	readResponse(t, br, "GET")
	readResponse(t, br, "GET")
	if _, _, err := websocket.DefaultDialer.Dial(wsURL(s, "/ws?token=bad-secret"), nil); err == nil {
		t.Fatal("upgrade with a bad token succeeded")
	}
	ws, _, err := websocket.DefaultDialer.Dial(wsURL(s, "/ws?token=good-secret"), nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(4001, "bye"), time.Now().Add(5*time.Second))
	if code := <-closed; code != 4001 {
		t.Fatalf("closed with %d", code)
	}
	ws.Close()

	http := logs.lines(t, "http")
	if len(http) != 2 || http[0]["path"] != "/items/7" || http[0]["status"] != 200.0 || http[0]["method"] != "GET" ||
		http[1]["path"] != "/nope" || http[1]["status"] != 404.0 || http[0]["remote"] == "" {
		t.Fatalf("access lines: %v", http)
	}
	refused := logs.lines(t, "refused")
	if len(refused) != 1 || refused[0]["status"] != 401.0 || refused[0]["transport"] != "ws" || refused[0]["level"] != "warn" {
		t.Fatalf("refusal lines: %v", refused)
	}
	open, cl := logs.lines(t, "open"), logs.lines(t, "close")
	if len(open) != 1 || open[0]["user"] != "u1" || open[0]["path"] != "/ws" || open[0]["client"] == "" {
		t.Fatalf("open lines: %v", open)
	}
	if len(cl) != 1 || cl[0]["client"] != open[0]["client"] || cl[0]["code"] != 4001.0 || cl[0]["reason"] != "bye" {
		t.Fatalf("close lines: %v (open %v)", cl, open)
	}
	if all := logs.String(); strings.Contains(all, "secret") {
		t.Fatalf("a token reached the log:\n%s", all)
	}
}

// TestLogSampling: per-request lines go through Options.LogSampler.
func TestLogSampling(t *testing.T) {
	logs, o := logged(&zerolog.BasicSampler{N: 10})
	s := startServer(t, o, echoRoutes)
	c := dial(t, s)
	fmt.Fprint(c, strings.Repeat("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 50))
	br := bufio.NewReader(c)
	for range 50 {
		readResponse(t, br, "GET")
	}
	if n := len(logs.lines(t, "http")); n != 5 {
		t.Fatalf("%d access lines for 50 requests sampled 1 in 10, want 5", n)
	}
}

// TestSSECloseLog: a stream rtd ends is logged with the reason it ended it
// for (here a Disconnect), one the client dropped without; either way the
// stream reads as closed and its context is done once OnClose has run.
func TestSSECloseLog(t *testing.T) {
	logs, o := logged(&zerolog.BasicSampler{N: 1})
	opened := make(chan *Stream, 2)
	closed := make(chan *Stream, 2)
	s := startServer(t, o, func(s *Server) {
		err := s.SSE("/sse", SSEHandler{
			OnOpen:  func(st *Stream) { opened <- st },
			OnClose: func(st *Stream) { closed <- st },
		}, SSEOptions{})
		if err != nil {
			t.Fatal(err)
		}
	})
	resp := getStream(t, httpURL(s, "/sse"))
	kicked := <-opened
	ctx := kicked.Context()
	if !s.Disconnect(kicked.ID(), "kicked") {
		t.Fatal("Disconnect did not find the stream")
	}
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		t.Fatalf("the ended stream: %v", err)
	}
	resp.Body.Close()
	if st := <-closed; st != kicked || !st.Closed() || ctx.Err() == nil || kicked.Context().Err() == nil {
		t.Fatalf("after the end: Closed %v, context %v", st.Closed(), ctx.Err())
	}
	resp = getStream(t, httpURL(s, "/sse"))
	dropped := <-opened
	resp.Body.Close()
	<-closed
	if dropped.Context().Err() == nil {
		t.Fatal("the dropped stream's context is not done")
	}
	cl := logs.lines(t, "close")
	if len(cl) != 2 {
		t.Fatalf("close lines: %v", cl)
	}
	for _, line := range cl {
		want := map[string]any{"transport": "sse", "client": kicked.ID(), "reason": "kicked"}
		if line["client"] == dropped.ID() {
			want = map[string]any{"transport": "sse", "client": dropped.ID()}
		}
		if _, ok := line["code"]; ok || line["transport"] != want["transport"] || line["reason"] != want["reason"] {
			t.Errorf("close line %v, want %v and no code", line, want)
		}
	}
}
