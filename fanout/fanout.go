package fanout

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rtd-project/rtd/hub"
	"github.com/rtd-project/rtd/metrics/latency"
	"github.com/rtd-project/rtd/proto/sse"
	"github.com/rtd-project/rtd/server"
)

// Tier is the fan-out tier mounted on a server: the /ws channel protocol,
// /sse channel streams and the /api server API.
type Tier struct {
	o   Options
	srv *server.Server
	hub *hub.Hub

	authFailures atomic.Int64
	apiRejected  atomic.Int64
	published    atomic.Int64
	apiLatency   latency.Histogram // /api/* and /metrics response times

	// anon is the session of every /ws connection without a token until
	// it needs state of its own (ownSession): an idle anonymous socket
	// costs no session.
	anon *session

	mu          sync.Mutex
	expiring    map[*server.Socket]*session // sockets whose token expires
	expiringSSE map[*server.Stream]int64    // streams whose token expires, at (unix nanoseconds)
}

// Mount registers the tier's routes on srv:
//
//	GET  /ws                       WebSocket, JSON channel protocol
//	GET  /sse?channel=A&channel=B  SSE stream of channels
//	POST /api/publish              publish one publication or a batch
//	GET  /api/presence/:channel    connections and users of a channel (cluster-wide with o.Cluster)
//	GET  /api/history/:channel     retained publications (?since=&limit=)
//	GET  /api/stats                node totals (and cluster totals with o.Cluster)
//	POST /api/disconnect           {"user":…} or {"client":…} (on every node with o.Cluster)
//	POST /api/send                 a message to a user's connections or one client (on every node with o.Cluster)
//	POST /api/broadcast            a message to every connection (of every node with o.Cluster)
//	GET  /metrics                  Prometheus text format (API key or loopback, as /api/*),
//	                               with per-route series of every WebSocket and SSE route (RouteMetrics)
//
// Create srv with Encoder{} as server.Options.Encoder, the tier's wire format
// (Mount returns ErrEncoder otherwise), and o.ChannelOptions as
// server.Options.Hub.ChannelOptions so namespaces reach the hub. When the hub has a Broker, publishing
// answers 503 (the API) or error 112 (/ws) while the bus cannot take it.
func Mount(srv *server.Server, o Options) (*Tier, error) {
	switch srv.Encoder().(type) {
	case Encoder, *Encoder:
	default:
		return nil, ErrEncoder
	}
	t := &Tier{o: o.withDefaults(), srv: srv, hub: srv.Hub(), expiring: make(map[*server.Socket]*session), expiringSSE: make(map[*server.Stream]int64)}
	t.anon = &session{}
	t.anon.id.Store(anonymous)
	err := srv.WebSocket("/ws", server.WSHandler{
		OnOpen:    t.wsOpen,
		OnMessage: t.wsMessage,
		OnClose:   t.wsClose,
	}, server.WSOptions{
		OpenWithoutHeaders: true, // read in authorize
		Origins:            t.o.WS.Origins,
		HeartbeatInterval:  t.o.WS.HeartbeatInterval,
		IdleTimeout:        t.o.WS.IdleTimeout,
		MaxSendQueueBytes:  t.o.WS.MaxSendQueueBytes,
		Compression:        t.o.WS.Compression,
		SlowClientPolicy:   t.o.WS.SlowClientPolicy,
		SlowClientGrace:    t.o.WS.SlowClientGrace,
		MaxMessageBytes:    t.o.MaxCommandBytes,
		Authorize:          t.authorize,
	})
	if err != nil {
		return nil, err
	}
	err = srv.SSE("/sse", server.SSEHandler{OnOpen: t.sseOpen, OnClose: t.sseClose}, server.SSEOptions{
		OpenWithoutHeaders: true, // read in authorize
		Origins:            t.o.SSE.Origins,
		AllowCredentials:   t.o.SSE.AllowCredentials,
		HeartbeatInterval:  t.o.SSE.HeartbeatInterval,
		Retry:              t.o.SSE.Retry,
		MaxSendQueueBytes:  t.o.SSE.MaxSendQueueBytes,
		SlowClientPolicy:   t.o.SSE.SlowClientPolicy,
		Authorize:          t.authorizeSSE,
	})
	if err != nil {
		return nil, err
	}
	if err := t.mountAPI(); err != nil {
		return nil, err
	}
	if t.o.Cluster != nil {
		t.o.Cluster.OnRelay(t.applyRelayed)
	}
	if err := t.mountMetrics(); err != nil {
		return nil, err
	}
	return t, nil
}

// Run closes connections whose token expired until ctx ends.
func (t *Tier) Run(ctx context.Context) {
	tick := time.NewTicker(tokenCheckPeriod)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			t.expire(now)
		}
	}
}

// expire closes (3000) every socket whose token has expired, and ends every
// such SSE stream after an "error" event saying so (the stream cannot be
// refreshed: the client reconnects with a new token).
func (t *Tier) expire(now time.Time) {
	t.mu.Lock()
	var due []*server.Socket
	for sock, ss := range t.expiring {
		if e := ss.expires.Load(); e != 0 && e <= now.UnixNano() {
			due = append(due, sock)
			delete(t.expiring, sock)
		}
	}
	var dueSSE []*server.Stream
	for st, e := range t.expiringSSE {
		if e <= now.UnixNano() {
			dueSSE = append(dueSSE, st)
			delete(t.expiringSSE, st)
		}
	}
	t.mu.Unlock()
	for _, sock := range due {
		_ = sock.Close(closeTokenExpired, expiredReason)
	}
	for _, st := range dueSSE {
		_ = st.Send(sse.Event{Event: "error", Data: []byte(`{"error":"token expired"}`)})
		_ = st.Close()
	}
}

func (t *Tier) track(sock *server.Socket, ss *session) {
	t.mu.Lock()
	t.expiring[sock] = ss
	t.mu.Unlock()
}

func (t *Tier) untrack(sock *server.Socket) {
	t.mu.Lock()
	delete(t.expiring, sock)
	t.mu.Unlock()
}

// authorize runs before the /ws upgrade: a bad token is refused with 401
// before any WebSocket exists.
func (t *Tier) authorize(r *server.Request) error {
	id, err := t.identify(r, t.o.WS.Origins)
	if err != nil {
		return err
	}
	r.SetUser(id.User)
	// The session rides on the request the socket keeps (no user data of
	// its own to allocate per connection). Anonymous ones share t.anon:
	// their identity never changes (refresh refuses them any token).
	if id == anonymous {
		r.SetValue(t.anon)
		return nil
	}
	ss := &session{}
	ss.id.Store(id)
	r.SetValue(ss)
	return nil
}

// AuthFailures counts refused tokens (at connect and on refresh).
func (t *Tier) AuthFailures() int64 { return t.authFailures.Load() }
