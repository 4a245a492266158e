//go:build linux

package bench

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/gorilla/websocket"
)

// fakeServer is a small server with rtd's endpoints (/ws, /sse, /api/publish,
// /api/stats, /echo), a goroutine per connection: the generator's tests need a
// server that is correct, not a fast one.
type fakeServer struct {
	*httptest.Server
	mu   sync.Mutex
	subs map[string]map[chan []byte]bool // channel → subscribers' queues (data JSON)
	log  map[string][][]byte             // channel → its publications' data, offset i+1 at i
	pubs int
	// pongs counts the Centrifuge pongs received (fake_centrifuge_test.go).
	pongs int
	// The publications with these numbers (counted from 1 over all channels)
	// are not delivered, or delivered twice, so that tests can check that the
	// generator sees it.
	dropAt, dupAt int
}

func newFakeServer(t *testing.T) *fakeServer {
	return newFakeServerFor(t, ProtocolRTD)
}

// newFakeServerFor returns a fake server speaking protocol on /ws and /sse.
func newFakeServerFor(t *testing.T, protocol string) *fakeServer {
	t.Helper()
	f := &fakeServer{subs: map[string]map[chan []byte]bool{}, log: map[string][][]byte{}}
	mux := http.NewServeMux()
	if protocol == ProtocolCentrifuge {
		mux.HandleFunc("GET /ws", f.cfWS)
		mux.HandleFunc("GET /sse", f.cfSSE)
	} else {
		mux.HandleFunc("GET /ws", f.ws)
		mux.HandleFunc("GET /sse", f.sse)
	}
	mux.HandleFunc("GET /echo", f.echo)
	mux.HandleFunc("POST /api/publish", f.publish)
	mux.HandleFunc("GET /api/stats", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		fmt.Fprintf(w, `{"messages_in":%d}`, f.pubs)
	})
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

var upgrader = websocket.Upgrader{}

func (f *fakeServer) join(ch string) chan []byte {
	q, _ := f.joinAfter(ch, 0)
	return q
}

// joinAfter subscribes to ch and returns the queue of what is published from
// now on, and the channel's publications after offset since (the replay).
func (f *fakeServer) joinAfter(ch string, since int) (chan []byte, [][]byte) {
	q := make(chan []byte, 1<<16)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.subs[ch] == nil {
		f.subs[ch] = map[chan []byte]bool{}
	}
	f.subs[ch][q] = true
	return q, f.log[ch][min(since, len(f.log[ch])):]
}

func (f *fakeServer) leave(ch string, q chan []byte) {
	f.mu.Lock()
	delete(f.subs[ch], q)
	f.mu.Unlock()
}

func (f *fakeServer) publish(w http.ResponseWriter, r *http.Request) {
	type pub struct {
		Channel string          `json:"channel"`
		Data    json.RawMessage `json:"data"`
	}
	var body struct {
		pub
		Publications []pub `json:"publications"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	if body.Channel != "" {
		body.Publications = append(body.Publications, body.pub)
	}
	f.mu.Lock()
	for _, p := range body.Publications {
		f.pubs++
		f.log[p.Channel] = append(f.log[p.Channel], p.Data)
		for q := range f.subs[p.Channel] {
			switch f.pubs {
			case f.dropAt:
			case f.dupAt:
				q <- p.Data
				q <- p.Data
			default:
				q <- p.Data
			}
		}
	}
	f.mu.Unlock()
	fmt.Fprint(w, `{"ok":true}`)
}

func (f *fakeServer) ws(w http.ResponseWriter, r *http.Request) {
	c, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer c.Close()
	var cmd struct {
		ID      int    `json:"id"`
		Op      string `json:"op"`
		Channel string `json:"channel"`
		Since   string `json:"since"`
	}
	if err := c.ReadJSON(&cmd); err != nil || cmd.Op != "subscribe" {
		return
	}
	since := -1
	if cmd.Since != "" {
		pos, ok := parseRTDPosition(cmd.Since)
		if !ok || pos.epoch != "e" {
			return
		}
		since = int(pos.offset)
	}
	q, replay := f.joinAfter(cmd.Channel, max(since, 0))
	defer f.leave(cmd.Channel, q)
	top := max(since, 0) + len(replay)
	reply := fmt.Appendf(nil, `{"id":%d,"ok":true,"position":"e:%d"`, cmd.ID, top)
	if since >= 0 {
		reply = append(reply, `,"recovered":true`...)
	} else {
		replay = nil
	}
	if err := c.WriteMessage(websocket.TextMessage, append(reply, '}')); err != nil {
		return
	}
	for i, data := range replay {
		msg := fmt.Appendf(nil, `{"channel":%q,"offset":%d,"epoch":"e","data":%s}`, cmd.Channel, since+1+i, data)
		if c.WriteMessage(websocket.TextMessage, msg) != nil {
			return
		}
	}
	gone := make(chan struct{})
	go func() { // reads only to notice the close
		defer close(gone)
		for {
			if _, _, err := c.NextReader(); err != nil {
				return
			}
		}
	}()
	for offset := top + 1; ; offset++ {
		var data []byte
		select {
		case <-gone:
			return
		case data = <-q:
		}
		msg := fmt.Appendf(nil, `{"channel":%q,"offset":%d,"epoch":"e","data":%s}`, cmd.Channel, offset, data)
		if c.WriteMessage(websocket.TextMessage, msg) != nil {
			return
		}
	}
}

func (f *fakeServer) sse(w http.ResponseWriter, r *http.Request) {
	f.streamSSE(w, r, "", func(ch string, offset int, data []byte) string {
		// Two data lines for one event: the client must join them.
		s := string(data)
		cut := strings.Index(s, ",")
		return fmt.Sprintf("id: %d\ndata: %s\ndata: %s\n\n", offset, s[:cut+1], s[cut+1:])
	})
}

// streamSSE streams ?channel= after the first events in head, each
// publication as event makes it.
func (f *fakeServer) streamSSE(w http.ResponseWriter, r *http.Request, head string, event func(ch string, offset int, data []byte) string) {
	ch := r.URL.Query().Get("channel")
	q := f.join(ch)
	defer f.leave(ch, q)
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(200)
	fmt.Fprint(w, head)
	w.(http.Flusher).Flush()
	for offset := 1; ; offset++ {
		select {
		case <-r.Context().Done():
			return
		case data := <-q:
			fmt.Fprint(w, event(ch, offset, data))
			w.(http.Flusher).Flush()
		}
	}
}

func (f *fakeServer) echo(w http.ResponseWriter, r *http.Request) {
	c, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer c.Close()
	for {
		op, p, err := c.ReadMessage()
		if err != nil {
			return
		}
		if c.WriteMessage(op, p) != nil {
			return
		}
	}
}
