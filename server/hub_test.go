package server

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/rtd-project/rtd/hub"
)

type push struct {
	Channel string          `json:"channel"`
	Offset  uint64          `json:"offset"`
	Epoch   string          `json:"epoch"`
	Event   string          `json:"event"`
	Data    json.RawMessage `json:"data"`
}

// hubRoutes subscribes every WebSocket and SSE connection to the channel
// named in the path, recovering from ?since= (WebSocket) or Last-Event-ID.
func hubRoutes(t *testing.T) func(s *Server) {
	return func(s *Server) {
		s.WebSocket("/ws/:ch", WSHandler{OnOpen: func(sock *Socket) {
			var since *hub.Position
			if v := sock.Request().Query("since"); v != "" {
				p, err := hub.ParsePosition(v)
				if err != nil {
					t.Errorf("since: %v", err)
				}
				since = &p
			}
			res, err := sock.Subscribe(sock.Request().Param("ch"), since)
			if err != nil {
				t.Errorf("subscribe: %v", err)
			}
			_ = sock.SendJSON(map[string]any{"recovered": res.Recovered, "position": res.Position.String()})
		}}, WSOptions{Compression: true})
		s.SSE("/sse/:ch", SSEHandler{OnOpen: func(st *Stream) {
			var since *hub.Position
			if v := st.LastEventID(); v != "" {
				p, _ := hub.ParsePosition(v)
				since = &p
			}
			if _, err := st.Subscribe(st.Request().Param("ch"), since); err != nil {
				t.Errorf("subscribe: %v", err)
			}
		}}, SSEOptions{})
	}
}

func TestHubFanOutToWebSocketAndSSE(t *testing.T) {
	s := startServer(t, Options{Encoder: pushEncoder{}}, hubRoutes(t))
	const clients, msgs = 8, 200
	var wg sync.WaitGroup
	errs := make(chan error, 2*clients)
	ready := make(chan struct{}, 2*clients)
	for i := range clients {
		d := websocket.Dialer{EnableCompression: i%2 == 0}
		c, _, err := d.Dial(wsURL(s, "/ws/news"), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetReadDeadline(time.Now().Add(20 * time.Second))
		if _, _, err := c.ReadMessage(); err != nil { // the subscribe reply
			t.Fatal(err)
		}
		ready <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 1; n <= msgs; n++ {
				_, m, err := c.ReadMessage()
				if err != nil {
					errs <- err
					return
				}
				var p push
				if err := json.Unmarshal(m, &p); err != nil || p.Channel != "news" || p.Offset != uint64(n) || string(p.Data) != fmt.Sprintf(`{"n":%d}`, n) {
					errs <- fmt.Errorf("ws push %d: %s (%v)", n, m, err)
					return
				}
			}
		}()
	}
	for range clients {
		req, _ := http.NewRequest("GET", "http://"+s.Addr()+"/sse/news", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		br := bufio.NewReader(resp.Body)
		// The preamble ends with the retry hint's blank line: after it the
		// stream is subscribed.
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(line, "retry:") {
				br.ReadString('\n')
				break
			}
		}
		ready <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 1; n <= msgs; n++ {
				var id, data string
				for {
					line, err := br.ReadString('\n')
					if err != nil {
						errs <- err
						return
					}
					line = strings.TrimSuffix(line, "\n")
					if line == "" {
						break
					}
					if v, ok := strings.CutPrefix(line, "id: "); ok {
						id = v
					}
					if v, ok := strings.CutPrefix(line, "data: "); ok {
						data = v
					}
				}
				if !strings.HasSuffix(id, fmt.Sprintf(":%d", n)) || data != fmt.Sprintf(`{"n":%d}`, n) {
					errs <- fmt.Errorf("sse event %d: id %q data %q", n, id, data)
					return
				}
			}
		}()
	}
	// SSE subscribes in OnOpen, before the response head is flushed: by the
	// time the client has read the head, it is subscribed.
	var pub sync.WaitGroup
	pub.Add(1)
	go func() {
		defer pub.Done()
		for n := 1; n <= msgs; n++ {
			if _, err := s.Hub().Publish("news", hub.Publication{Data: fmt.Appendf(nil, `{"n":%d}`, n)}); err != nil {
				errs <- err
				return
			}
		}
	}()
	pub.Wait()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestHubRecoveryOverWebSocket(t *testing.T) {
	s := startServer(t, Options{Encoder: pushEncoder{}}, hubRoutes(t))
	c, _, err := websocket.DefaultDialer.Dial(wsURL(s, "/ws/room"), nil)
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	c.ReadMessage()
	for n := 1; n <= 3; n++ {
		s.Hub().Publish("room", hub.Publication{Data: fmt.Appendf(nil, "%d", n)})
	}
	var last push
	for range 3 {
		_, m, err := c.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		json.Unmarshal(m, &last)
	}
	c.Close()
	for n := 4; n <= 9; n++ {
		s.Hub().Publish("room", hub.Publication{Data: fmt.Appendf(nil, "%d", n)})
	}
	since := hub.Position{Epoch: last.Epoch, Offset: last.Offset}.String()
	c, _, err = websocket.DefaultDialer.Dial(wsURL(s, "/ws/room?since="+since), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	// Subscribe queues the missed publications at once, ahead of what the
	// callback sends afterwards (the reply).
	next := func(want uint64) {
		t.Helper()
		_, m, err := c.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		var p push
		json.Unmarshal(m, &p)
		if p.Offset != want || string(p.Data) != fmt.Sprint(want) {
			t.Fatalf("after recovery got %s, want offset %d", m, want)
		}
	}
	for n := 4; n <= 9; n++ {
		next(uint64(n))
	}
	_, m, _ := c.ReadMessage()
	if !strings.Contains(string(m), `"recovered":true`) {
		t.Fatalf("subscribe reply %s", m)
	}
	s.Hub().Publish("room", hub.Publication{Data: []byte("10")})
	next(10)
}
