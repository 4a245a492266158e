//go:build linux

package bench

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

	"github.com/gorilla/websocket"
)

// The fake server's Centrifuge side (newFakeServerFor(t, ProtocolCentrifuge)):
// the JSON protocol as github.com/centrifugal/centrifuge speaks it, with the
// things a client must cope with: several replies in one frame, a ping in the
// same frame as the connect reply, recovery in the subscribe result.

// cfCommand is a client command; a pong is {} (every field nil).
type cfCommand struct {
	ID        int              `json:"id"`
	Connect   *json.RawMessage `json:"connect"`
	Subscribe *struct {
		Channel string `json:"channel"`
		Recover bool   `json:"recover"`
		Epoch   string `json:"epoch"`
		Offset  int    `json:"offset"`
	} `json:"subscribe"`
	RPC *struct {
		Method string          `json:"method"`
		Data   json.RawMessage `json:"data"`
	} `json:"rpc"`
}

func (f *fakeServer) cfWS(w http.ResponseWriter, r *http.Request) {
	c, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer c.Close()
	var wmu sync.Mutex // replies (here) and pushes (the pusher) share the socket
	write := func(p []byte) error {
		wmu.Lock()
		defer wmu.Unlock()
		return c.WriteMessage(websocket.TextMessage, p)
	}
	gone := make(chan struct{})
	defer close(gone)
	connected := false
	for {
		var cmd cfCommand
		if err := c.ReadJSON(&cmd); err != nil {
			return
		}
		var reply []byte
		switch {
		case cmd.Connect != nil && !connected:
			connected = true
			reply = fmt.Appendf(nil, `{"id":%d,"connect":{"client":"c1","ping":25,"pong":true}}`+"\n{}", cmd.ID)
		case !connected:
			return
		case cmd.Subscribe != nil:
			sub := cmd.Subscribe
			since := 0
			if sub.Recover {
				if sub.Epoch != "e" {
					return
				}
				since = sub.Offset
			}
			q, replay := f.joinAfter(sub.Channel, since)
			defer f.leave(sub.Channel, q)
			top := since + len(replay)
			reply = fmt.Appendf(nil, `{"id":%d,"subscribe":{"recoverable":true,"epoch":"e"`, cmd.ID)
			if sub.Recover {
				reply = fmt.Appendf(reply, `,"offset":%d,"publications":[`, since)
				for i, data := range replay {
					if i > 0 {
						reply = append(reply, ',')
					}
					reply = fmt.Appendf(reply, `{"data":%s,"offset":%d}`, data, since+1+i)
				}
				reply = append(reply, `],"recovered":true,"was_recovering":true`...)
			} else if top > 0 {
				reply = fmt.Appendf(reply, `,"offset":%d`, top)
			}
			reply = append(reply, `,"positioned":true}}`...)
			if err := write(reply); err != nil {
				return
			}
			reply = nil
			go cfPusher(sub.Channel, top, q, gone, write)
		case cmd.RPC != nil:
			reply = fmt.Appendf(nil, `{"id":%d,"rpc":{"data":%s}}`, cmd.ID, cmd.RPC.Data)
		default:
			f.mu.Lock()
			f.pongs++
			f.mu.Unlock()
		}
		if reply != nil && write(reply) != nil {
			return
		}
	}
}

// cfPusher writes the publications of q as pushes, as many as are waiting
// (at most 8) in one frame.
func cfPusher(channel string, offset int, q chan []byte, gone chan struct{}, write func([]byte) error) {
	var frame []byte
	for {
		select {
		case <-gone:
			return
		case data := <-q:
			frame = frame[:0]
			for n := 0; ; n++ {
				offset++
				if n > 0 {
					frame = append(frame, '\n')
				}
				frame = fmt.Appendf(frame, `{"push":{"channel":%q,"pub":{"data":%s,"offset":%d}}}`, channel, data, offset)
				if n == 7 || len(q) == 0 {
					break
				}
				data = <-q
			}
			if write(frame) != nil {
				return
			}
		}
	}
}

// cfSSE subscribes the stream to ?channel= once cf_connect holds a connect
// command, as a centrifuge server does with server-side subscriptions.
func (f *fakeServer) cfSSE(w http.ResponseWriter, r *http.Request) {
	var cmd cfCommand
	if err := json.Unmarshal([]byte(r.URL.Query().Get("cf_connect")), &cmd); err != nil || cmd.Connect == nil {
		http.Error(w, "no connect command", 400)
		return
	}
	ch := r.URL.Query().Get("channel")
	head := fmt.Sprintf("data: {\"id\":%d,\"connect\":{\"client\":\"c1\",\"subs\":{%q:{\"recoverable\":true,\"epoch\":\"e\"}}}}\n\ndata: {}\n\n", cmd.ID, ch)
	f.streamSSE(w, r, head, func(ch string, offset int, data []byte) string {
		return fmt.Sprintf("data: {\"push\":{\"channel\":%q,\"pub\":{\"data\":%s,\"offset\":%d}}}\n\n", ch, data, offset)
	})
}
