// Package centrifugepeer is the peer a team would deploy instead of rtd:
// github.com/centrifugal/centrifuge, the engine of Centrifugo, as its
// documentation sets it up — a Node with the in-memory broker, its WebSocket
// and SSE handlers, anonymous connections, and history with recovery for the
// bench channels (as many publications and as long as rtd keeps by default).
//
// It speaks Centrifuge's own client protocol (JSON), so `rtd bench` talks to
// it with --protocol centrifuge: GET /ws (connect, subscribe with recovery,
// rpc), GET /sse?channel=…&cf_connect=… (server-side subscriptions to the
// channels named in the query), POST /api/publish (the same body as rtd's,
// through Node.Publish) and GET /api/stats. The echo scenario is an RPC round
// trip (method "echo" answers its data), since Centrifuge has no raw echo.
package centrifugepeer

import (
	"context"
	"fmt"
	"net/http"
	"runtime/debug"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/centrifugal/centrifuge"

	"github.com/rtd-project/rtd/bench/peers/internal/hub"
)

// History is what each channel keeps for recovery: rtd's defaults
// (history-size 100, history-ttl 5m).
const (
	HistorySize = 100
	HistoryTTL  = 5 * time.Minute
)

type channelsKey struct{}

// Peer is a running centrifuge Node with its HTTP endpoints.
type Peer struct {
	node                     *centrifuge.Node
	published, failedPublish atomic.Int64
}

// New starts a Node.
func New() (*Peer, error) {
	node, err := centrifuge.New(centrifuge.Config{LogLevel: centrifuge.LogLevelNone})
	if err != nil {
		return nil, err
	}
	node.OnConnecting(func(ctx context.Context, e centrifuge.ConnectEvent) (centrifuge.ConnectReply, error) {
		reply := centrifuge.ConnectReply{Credentials: &centrifuge.Credentials{}} // anonymous
		if chans, _ := ctx.Value(channelsKey{}).([]string); len(chans) > 0 {
			// SSE: server-side subscriptions to the channels of the query.
			reply.Subscriptions = map[string]centrifuge.SubscribeOptions{}
			for _, ch := range chans {
				reply.Subscriptions[ch] = centrifuge.SubscribeOptions{EnableRecovery: true}
			}
		}
		return reply, nil
	})
	node.OnConnect(func(c *centrifuge.Client) {
		c.OnSubscribe(func(_ centrifuge.SubscribeEvent, cb centrifuge.SubscribeCallback) {
			cb(centrifuge.SubscribeReply{Options: centrifuge.SubscribeOptions{EnableRecovery: true}}, nil)
		})
		c.OnRPC(func(e centrifuge.RPCEvent, cb centrifuge.RPCCallback) {
			if e.Method != "echo" {
				cb(centrifuge.RPCReply{}, centrifuge.ErrorMethodNotFound)
				return
			}
			cb(centrifuge.RPCReply{Data: e.Data}, nil)
		})
	})
	if err := node.Run(); err != nil {
		return nil, err
	}
	return &Peer{node: node}, nil
}

// Shutdown stops the Node.
func (p *Peer) Shutdown(ctx context.Context) error { return p.node.Shutdown(ctx) }

// Handler serves /ws, /sse and the API.
func (p *Peer) Handler() http.Handler {
	anyOrigin := func(*http.Request) bool { return true }
	ws := centrifuge.NewWebsocketHandler(p.node, centrifuge.WebsocketConfig{CheckOrigin: anyOrigin})
	sse := centrifuge.NewSSEHandler(p.node, centrifuge.SSEConfig{})
	mux := http.NewServeMux()
	mux.Handle("GET /ws", ws)
	mux.HandleFunc("GET /sse", func(w http.ResponseWriter, r *http.Request) {
		ctx := context.WithValue(r.Context(), channelsKey{}, r.URL.Query()["channel"])
		sse.ServeHTTP(w, r.WithContext(ctx))
	})
	mux.HandleFunc("POST /api/publish", p.servePublish)
	mux.HandleFunc("GET /api/stats", p.serveStats)
	return mux
}

// servePublish takes rtd's body, {"channel","data"} or {"publications":[…]},
// and publishes each in order with history.
func (p *Peer) servePublish(w http.ResponseWriter, r *http.Request) {
	pubs, ok := hub.ReadPublications(w, r)
	if !ok {
		return
	}
	out := []byte(`{"offsets":[`)
	for i, pb := range pubs {
		res, err := p.node.Publish(pb.Channel, pb.Data, centrifuge.WithHistory(HistorySize, HistoryTTL))
		if err != nil {
			p.failedPublish.Add(1)
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		p.published.Add(1)
		if i > 0 {
			out = append(out, ',')
		}
		out = strconv.AppendUint(out, res.Offset, 10)
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(append(out, "]}"...))
}

func (p *Peer) serveStats(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("gc") == "1" {
		debug.FreeOSMemory() // as rtd does: RSS then shows what is live
	}
	h := p.node.Hub()
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"connections":{"all":%d},"channels":%d,"published":%d,"publish_errors":%d}`,
		h.NumClients(), h.NumChannels(), p.published.Load(), p.failedPublish.Load())
}
