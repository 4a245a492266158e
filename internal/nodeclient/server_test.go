package nodeclient

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/rtd-project/rtd/proto/sse"
)

// testServer is a throw-away reference server (net/http and gorilla/websocket, not rtd)
// that proves the client scripts work:
//
//	/ws          WebSocket echo, subprotocol "echo", permessage-deflate allowed
//	/sse-once    two "tick" events after Last-Event-ID (ids N+1, N+2, two-line data),
//	             then ends the response so the client reconnects after retry 50 ms
//	/sse-stream  one event per string sent on push, until the client goes away
//	/sse-silent  a stream that never sends an event
//	/page        a page whose native WebSocket and EventSource use the above
type testServer struct {
	*httptest.Server
	push chan string

	mu           sync.Mutex
	lastEventIDs []string // the Last-Event-ID of each /sse-once request, in order
}

func newTestServer(t *testing.T) *testServer {
	s := &testServer{push: make(chan string)}
	mux := http.NewServeMux()
	mux.HandleFunc("/ws", s.echo)
	mux.HandleFunc("/sse-once", s.sseOnce)
	mux.HandleFunc("/sse-stream", s.sseStream)
	mux.HandleFunc("/sse-silent", func(w http.ResponseWriter, r *http.Request) {
		startSSE(w)
		<-r.Context().Done()
	})
	mux.HandleFunc("/page", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, testPage)
	})
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func (s *testServer) wsURL(path string) string { return "ws" + s.URL[len("http"):] + path }

func (s *testServer) seenLastEventIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.lastEventIDs...)
}

var upgrader = websocket.Upgrader{
	EnableCompression: true,
	Subprotocols:      []string{"echo"},
	CheckOrigin:       func(*http.Request) bool { return true },
}

func (s *testServer) echo(w http.ResponseWriter, r *http.Request) {
	c, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer c.Close()
	for {
		typ, msg, err := c.ReadMessage()
		if err != nil {
			return // gorilla answers the client's close frame itself
		}
		if err := c.WriteMessage(typ, msg); err != nil {
			return
		}
	}
}

func startSSE(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(sse.AppendPreamble(nil, 50*time.Millisecond))
	w.(http.Flusher).Flush()
}

func (s *testServer) sseOnce(w http.ResponseWriter, r *http.Request) {
	last := r.Header.Get("Last-Event-ID")
	s.mu.Lock()
	s.lastEventIDs = append(s.lastEventIDs, last)
	s.mu.Unlock()
	n, _ := strconv.Atoi(last)
	startSSE(w)
	var b []byte
	for id := n + 1; id <= n+2; id++ {
		b, _ = sse.AppendEvent(b, sse.Event{ID: strconv.Itoa(id), Event: "tick", Data: fmt.Appendf(nil, "n=%d\r\nsecond line", id)})
	}
	_, _ = w.Write(b)
}

func (s *testServer) sseStream(w http.ResponseWriter, r *http.Request) {
	startSSE(w)
	for id := 1; ; id++ {
		select {
		case data := <-s.push:
			b, _ := sse.AppendEvent(nil, sse.Event{ID: strconv.Itoa(id), Data: []byte(data)})
			_, _ = w.Write(b)
			w.(http.Flusher).Flush()
		case <-r.Context().Done():
			return
		}
	}
}

// testPage drives the browser's own WebSocket and EventSource and reports through
// window.__results / window.__done, as browser.mjs expects.
const testPage = `<!doctype html>
<title>nodeclient harness</title>
<script>
const r = window.__results = {ws: [], wsOpen: null, wsClose: null, sse: [], opens: 0, errors: 0};
let wsDone = false, sseDone = false;
const finish = () => { if (wsDone && sseDone) window.__done = true; };

const ws = new WebSocket('ws://' + location.host + '/ws', ['echo']);
ws.binaryType = 'arraybuffer';
ws.onopen = () => {
  r.wsOpen = {protocol: ws.protocol, extensions: ws.extensions};
  ws.send('hello');
  ws.send(new Uint8Array([0, 255, 16]));
};
ws.onmessage = (e) => {
  r.ws.push(typeof e.data === 'string' ? {binary: false, data: e.data}
                                       : {binary: true, data: Array.from(new Uint8Array(e.data))});
  if (r.ws.length === 2) ws.close(1000, 'done');
};
ws.onclose = (e) => { r.wsClose = {code: e.code, reason: e.reason}; wsDone = true; finish(); };

const es = new EventSource('/sse-once');
es.onopen = () => r.opens++;
es.onerror = () => r.errors++;
es.addEventListener('tick', (e) => {
  r.sse.push({id: e.lastEventId, data: e.data});
  if (r.sse.length === 6) { es.close(); sseDone = true; finish(); }
});
</script>`
