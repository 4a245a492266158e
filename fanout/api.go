package fanout

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"math"
	"net/url"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/rtd-project/rtd/hub"
	"github.com/rtd-project/rtd/server"
)

// apiPublication is one publication in a publish request.
type apiPublication struct {
	Channel string          `json:"channel"`
	Event   string          `json:"event"`
	ID      string          `json:"id"`
	Data    json.RawMessage `json:"data"`
}

type publishRequest struct {
	apiPublication
	Publications []apiPublication `json:"publications"`
}

// maxBatch bounds the publications of one publish request.
const maxBatch = 1000

// invalidEvent answers an event name hub.CheckEvent refuses, the same on
// every route that takes one (/api/publish, /api/send, /api/broadcast, /ws).
var invalidEvent = "invalid event name: at most " + strconv.Itoa(hub.MaxEventBytes) + " bytes of UTF-8 without control characters (CR, LF, NUL…)"

func (t *Tier) mountAPI() error {
	routes := []struct {
		method, pattern string
		fn              server.HandlerFunc
	}{
		{"POST", "/api/publish", t.apiPublish},
		{"GET", "/api/presence/:channel", t.apiPresence},
		{"GET", "/api/history/:channel", t.apiHistory},
		{"GET", "/api/stats", t.apiStats},
		{"POST", "/api/disconnect", t.apiDisconnect},
		{"POST", "/api/send", t.apiSend},
		{"POST", "/api/broadcast", t.apiBroadcast},
	}
	api := t.srv.Group("", t.apiGuard)
	for _, r := range routes {
		if err := api.HandleFunc(r.method, r.pattern, t.timed(r.fn)); err != nil {
			return err
		}
	}
	return nil
}

// errAPIKey answers a request apiGuard refuses.
var errAPIKey = &server.HTTPError{Status: 401, Message: `{"error":"invalid API key"}`}

// apiGuard checks the API key (or, with none configured, that the caller is on
// loopback). As a group guard it runs on the head of a request sent with
// "Expect: 100-continue" too, so a client without the key is refused before
// it uploads its body.
func (t *Tier) apiGuard(r *server.Request) error {
	if !t.apiAllowed(r) {
		t.apiRejected.Add(1)
		return errAPIKey
	}
	return nil
}

// timed runs fn and records how long the API took to answer; a deferred
// answer is recorded when it is done (offLoop).
func (t *Tier) timed(fn server.HandlerFunc) server.HandlerFunc {
	return func(w *server.ResponseWriter, r *server.Request) {
		start := time.Now()
		fn(w, r)
		if !w.Deferring() {
			t.apiLatency.Observe(int64(time.Since(start)))
		}
	}
}

func (t *Tier) apiAllowed(r *server.Request) bool {
	if t.o.APIKey == "" {
		return isLoopback(r.RemoteAddr())
	}
	key := r.Header("X-API-Key")
	if key == "" {
		key = tokenFromBearer(r.Header("Authorization"))
	}
	return subtle.ConstantTimeCompare([]byte(key), []byte(t.o.APIKey)) == 1
}

func tokenFromBearer(h string) string {
	const p = "Bearer "
	if len(h) > len(p) && h[:len(p)] == p {
		return h[len(p):]
	}
	return ""
}

func writeJSONError(w *server.ResponseWriter, status int, msg string) {
	w.WriteHeader(status)
	w.SetHeader("Content-Type", "application/json")
	b, _ := json.Marshal(map[string]string{"error": msg})
	_, _ = w.Write(append(b, '\n'))
}

func writeJSON(w *server.ResponseWriter, v any) {
	w.SetHeader("Content-Type", "application/json")
	b, _ := json.Marshal(v)
	_, _ = w.Write(append(b, '\n'))
}

type position struct {
	Channel string `json:"channel"`
	Offset  uint64 `json:"offset"`
	Epoch   string `json:"epoch"`
}

// apiPublish publishes one publication or a batch. Every publication is
// validated before any is published, so a bad batch publishes nothing.
func (t *Tier) apiPublish(w *server.ResponseWriter, r *server.Request) {
	var req publishRequest
	if err := json.Unmarshal(r.Body(), &req); err != nil {
		writeJSONError(w, 400, "malformed JSON")
		return
	}
	batch := req.Publications
	single := batch == nil
	if single {
		batch = []apiPublication{req.apiPublication}
	}
	if len(batch) == 0 || len(batch) > maxBatch {
		writeJSONError(w, 400, "between 1 and "+strconv.Itoa(maxBatch)+" publications")
		return
	}
	for i := range batch {
		p := &batch[i]
		if p.Channel == "" || len(p.Data) == 0 {
			writeJSONError(w, 400, "publication "+strconv.Itoa(i)+": channel and data required")
			return
		}
		if hub.CheckEvent(p.Event) != nil {
			writeJSONError(w, 400, "publication "+strconv.Itoa(i)+": "+invalidEvent)
			return
		}
	}
	if !t.hub.BrokerHealthy() {
		writeUnavailable(w, nil)
		return
	}
	// batch holds copies (json.Unmarshal), so it outlives the request.
	t.offLoop(w, t.hub.HasBroker(), func(w *server.ResponseWriter) { t.publishBatch(w, batch, single) })
}

// publishBatch publishes batch in order and answers the positions.
func (t *Tier) publishBatch(w *server.ResponseWriter, batch []apiPublication, single bool) {
	out := make([]position, 0, len(batch))
	for _, p := range batch {
		pos, err := t.hub.Publish(p.Channel, hub.Publication{Event: p.Event, ID: p.ID, Data: p.Data})
		if errors.Is(err, hub.ErrBrokerUnavailable) {
			// The bus refused it: nothing from here on was accepted, and
			// the caller learns which publications before it were.
			writeUnavailable(w, out)
			return
		}
		if errors.Is(err, hub.ErrTooManyHistoryChannels) {
			writeRefused(w, 429, "channel "+strconv.Quote(p.Channel)+": too many channels with history on this node: nothing from this publication on was published", out)
			return
		}
		if err != nil {
			writeJSONError(w, 400, "channel "+strconv.Quote(p.Channel)+": "+err.Error())
			return
		}
		t.published.Add(1)
		out = append(out, position{Channel: p.Channel, Offset: pos.Offset, Epoch: pos.Epoch})
	}
	if single {
		writeJSON(w, out[0])
		return
	}
	writeJSON(w, map[string]any{"publications": out})
}

// writeUnavailable answers 503 when the bus cannot take publications, with
// the positions of those of a batch it took before.
func writeUnavailable(w *server.ResponseWriter, accepted []position) {
	msg := "broker unavailable: nothing was published, retry later"
	if len(accepted) > 0 {
		msg = "broker unavailable: only the publications listed were published, retry the others later"
	}
	writeRefused(w, 503, msg, accepted)
}

// writeRefused answers a publish the hub stopped taking (status 503 or 429),
// with the positions of those of a batch it took before.
func writeRefused(w *server.ResponseWriter, status int, msg string, accepted []position) {
	w.WriteHeader(status)
	w.SetHeader("Content-Type", "application/json")
	w.SetHeader("Retry-After", "1")
	v := map[string]any{"error": msg}
	if len(accepted) > 0 {
		v["publications"] = accepted
	}
	b, _ := json.Marshal(v)
	_, _ = w.Write(append(b, '\n'))
}

// apiPresence answers a channel's presence. With a cluster, clients and users
// are counted over every node (this node's "list" and its own counts under
// "node"); ?scope=node answers this node only.
func (t *Tier) apiPresence(w *server.ResponseWriter, r *server.Request) {
	channel, ok := channelParam(w, r)
	if !ok {
		return
	}
	cluster := t.clusterScope(r)
	t.offLoop(w, cluster, func(w *server.ResponseWriter) { t.presence(w, channel, cluster) })
}

func (t *Tier) presence(w *server.ResponseWriter, channel string, cluster bool) {
	p, err := t.hub.Presence(channel)
	if err != nil {
		writeJSONError(w, 400, err.Error())
		return
	}
	all := p
	if cluster {
		if all, err = t.clusterPresence(channel, &p); err != nil {
			writeJSONError(w, 503, err.Error())
			return
		}
	}
	w.SetHeader("Content-Type", "application/json")
	b := append([]byte(`{"channel":`), strconv.Quote(channel)...)
	b = appendPresence(b, &all)
	if cluster {
		b = appendNodePresence(b, &p)
	}
	_, _ = w.Write(append(b, '}', '\n'))
}

// appendNodePresence appends this node's own counts, next to cluster-wide
// ones.
func appendNodePresence(b []byte, p *hub.Presence) []byte {
	b = append(b, `,"node":{"clients":`...)
	b = strconv.AppendInt(b, int64(p.Clients), 10)
	b = append(b, `,"users":`...)
	b = strconv.AppendInt(b, int64(p.Users), 10)
	return append(b, '}')
}

// channelParam returns the :channel segment percent-decoded, as clients
// encode a name with a space or a slash in a path; a malformed escape is
// answered 400 here.
func channelParam(w *server.ResponseWriter, r *server.Request) (string, bool) {
	ch, err := url.PathUnescape(r.Param("channel"))
	if err != nil {
		writeJSONError(w, 400, "malformed percent-encoding in channel")
		return "", false
	}
	return ch, true
}

func (t *Tier) apiHistory(w *server.ResponseWriter, r *server.Request) {
	since, err := parseSince(r.Query("since"))
	if err != nil {
		writeJSONError(w, 400, "invalid since")
		return
	}
	limit, _ := strconv.Atoi(r.Query("limit"))
	limit = clampLimit(limit)
	if since != nil {
		limit++ // one more tells whether there is a next page
	}
	channel, ok := channelParam(w, r)
	if !ok {
		return
	}
	// On a bus, a channel without local subscribers is read from the bus.
	t.offLoop(w, t.hub.HasBroker(), func(w *server.ResponseWriter) {
		res, err := t.hub.History(channel, since, limit)
		if err != nil {
			writeJSONError(w, 400, err.Error())
			return
		}
		w.SetHeader("Content-Type", "application/json")
		b := append([]byte(`{"channel":`), strconv.Quote(channel)...)
		b = appendHistory(b, &res, since, limit, math.MaxInt) // an HTTP body has no send queue to fit
		_, _ = w.Write(append(b, '}', '\n'))
	})
}

// Stats are the node totals /api/stats reports.
type Stats struct {
	Totals
	Channels       int    `json:"channels"`
	Users          int    `json:"users"`
	HeapInUseBytes uint64 `json:"heap_inuse_bytes"`

	// With a cluster (Options.Cluster): this node's ID, and in /api/stats
	// the totals over every node (or, when the bus cannot be reached,
	// ClusterError).
	Node         string        `json:"node,omitempty"`
	Cluster      *ClusterStats `json:"cluster,omitempty"`
	ClusterError string        `json:"cluster_error,omitempty"`
}

// Totals are the figures of Stats that add up over the nodes of a cluster.
type Totals struct {
	Connections   map[string]int64 `json:"connections"` // by transport, and "total"
	Subscriptions int              `json:"subscriptions"`
	Published     uint64           `json:"published"`
	Deliveries    uint64           `json:"deliveries"`
	MessagesIn    int64            `json:"messages_in"`
	MessagesOut   int64            `json:"messages_out"`
	Drops         int64            `json:"drops"`
	SlowCloses    int64            `json:"slow_client_closes"`
	AuthFailures  int64            `json:"auth_failures"`
	RSSBytes      int64            `json:"rss_bytes"`
}

// Stats returns the node totals.
func (t *Tier) Stats() Stats {
	m := t.srv.Metrics()
	h := t.hub.Stats()
	return Stats{
		Totals: Totals{
			Connections:   map[string]int64{"ws": m.WSConnections.Load(), "sse": m.SSEConnections.Load(), "total": int64(t.srv.Conns())},
			Subscriptions: h.Subscriptions,
			Published:     h.Published,
			Deliveries:    h.Deliveries,
			MessagesIn:    m.WSMessagesIn.Load(),
			MessagesOut:   m.WSMessagesOut.Load() + m.SSEEventsOut.Load(),
			Drops:         m.SlowClientDropped.Load(),
			SlowCloses:    m.SlowClientCloses.Load(),
			AuthFailures:  t.authFailures.Load(),
			RSSBytes:      rss(),
		},
		Channels: h.Channels,
		Users:    h.Users,
		Node:     t.node(),
	}
}

func (t *Tier) node() string {
	if t.o.Cluster == nil {
		return ""
	}
	return t.o.Cluster.Node()
}

// rss reads the process's resident set size from /proc/self/statm (0 where
// there is no procfs).
func rss() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

// apiStats answers the node totals. With ?gc=1 it first collects garbage
// and returns freed memory to the OS, so rss_bytes shows what is live (for
// measuring memory per connection; it pauses the process briefly). With a
// cluster it adds the totals over every node, unless ?scope=node.
func (t *Tier) apiStats(w *server.ResponseWriter, r *server.Request) {
	gc, cluster := r.Query("gc") == "1", t.clusterScope(r)
	t.offLoop(w, gc || cluster, func(w *server.ResponseWriter) { t.stats(w, gc, cluster) })
}

func (t *Tier) stats(w *server.ResponseWriter, gc, cluster bool) {
	if gc {
		debug.FreeOSMemory()
	}
	st := t.Stats()
	st.Connections["total"]-- // not the connection asking
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	st.HeapInUseBytes = ms.HeapInuse
	if cluster {
		cs, err := t.clusterStats(&st)
		if err != nil {
			st.ClusterError = err.Error()
		}
		st.Cluster = cs
	}
	writeJSON(w, st)
}

// apiDisconnect closes a user's connections or one client: on this node,
// then, with a cluster, on every other node (relayed). It answers how many
// connections it closed here. Closing is idempotent, so this node acts even
// when the relay fails; the answer is then 503 with the local count and
// "relayed":false, and a retry is harmless.
func (t *Tier) apiDisconnect(w *server.ResponseWriter, r *server.Request) {
	var req struct {
		User   string `json:"user"`
		Client string `json:"client"`
	}
	if err := json.Unmarshal(r.Body(), &req); err != nil || (req.User == "") == (req.Client == "") {
		writeJSONError(w, 400, `give exactly one of "user" or "client"`)
		return
	}
	n := t.disconnect(req.User, req.Client)
	if t.o.Cluster == nil {
		writeJSON(w, map[string]int{"disconnected": n})
		return
	}
	op := relayOp{Op: opDisconnect, User: req.User, Client: req.Client}
	t.offLoop(w, true, func(w *server.ResponseWriter) {
		if err := t.relay(&op); err != nil {
			writeRelayFailed(w, "broker unavailable: disconnected on this node only, retry later", map[string]any{"disconnected": n, "relayed": false})
			return
		}
		writeJSON(w, map[string]any{"disconnected": n, "relayed": true})
	})
}

// disconnect closes the client, or the user's connections, on this node.
func (t *Tier) disconnect(user, client string) int {
	const reason = "disconnected by the server API"
	if client != "" {
		if t.srv.Disconnect(client, reason) {
			return 1
		}
		return 0
	}
	return t.srv.DisconnectUser(user, reason)
}

// directMessage is the body of /api/send and /api/broadcast: a message for
// connections rather than a channel. It has no offset and no history: a
// connection that is not there misses it.
type directMessage struct {
	User   string          `json:"user"`
	Client string          `json:"client"`
	Event  string          `json:"event"`
	Data   json.RawMessage `json:"data"`
}

// check returns what is wrong with m, or "".
func (m *directMessage) check() string {
	if len(m.Data) == 0 {
		return "data required"
	}
	if hub.CheckEvent(m.Event) != nil {
		return invalidEvent
	}
	return ""
}

// parseDirect reads a directMessage, answering 400 itself when it is bad.
func parseDirect(w *server.ResponseWriter, r *server.Request) (directMessage, bool) {
	var m directMessage
	if err := json.Unmarshal(r.Body(), &m); err != nil {
		writeJSONError(w, 400, "malformed JSON")
		return m, false
	}
	if msg := m.check(); msg != "" {
		writeJSONError(w, 400, msg)
		return m, false
	}
	return m, true
}

// apiSend sends a message to every connection of a user, or to one client:
// {"user":…} or {"client":…}, with "data" and an optional "event". It
// answers how many connections of this node it went to; with a cluster it
// is relayed first to every other node, and when the relay fails nothing is
// sent (503), so a retry sends no connection the message twice.
func (t *Tier) apiSend(w *server.ResponseWriter, r *server.Request) {
	m, ok := parseDirect(w, r)
	if !ok {
		return
	}
	if (m.User == "") == (m.Client == "") {
		writeJSONError(w, 400, `give exactly one of "user" or "client"`)
		return
	}
	// m holds copies (json.Unmarshal), so it outlives the request.
	t.offLoop(w, t.o.Cluster != nil, func(w *server.ResponseWriter) {
		relayed, err := t.relayDirect(opSend, &m)
		if err != nil {
			writeRelayFailed(w, "broker unavailable: nothing was sent, retry later", nil)
			return
		}
		n := t.send(&m)
		if !relayed {
			writeJSON(w, map[string]int{"sent": n})
			return
		}
		writeJSON(w, map[string]any{"sent": n, "relayed": true})
	})
}

// send sends m to its client or user on this node.
func (t *Tier) send(m *directMessage) int {
	p := hub.Publication{Event: m.Event, Data: m.Data}
	if m.Client != "" {
		if t.hub.SendTo(m.Client, p) {
			return 1
		}
		return 0
	}
	return t.hub.SendToUser(m.User, p)
}

// apiBroadcast sends a message to every connection: of this node, and with
// a cluster (relayed first, as apiSend does) of every other node.
func (t *Tier) apiBroadcast(w *server.ResponseWriter, r *server.Request) {
	m, ok := parseDirect(w, r)
	if !ok {
		return
	}
	if m.User != "" || m.Client != "" {
		writeJSONError(w, 400, `broadcast takes no "user" or "client": use /api/send`)
		return
	}
	t.offLoop(w, t.o.Cluster != nil, func(w *server.ResponseWriter) {
		relayed, err := t.relayDirect(opBroadcast, &m)
		if err != nil {
			writeRelayFailed(w, "broker unavailable: nothing was sent, retry later", nil)
			return
		}
		if err := t.broadcast(&m); err != nil {
			writeJSONError(w, 503, err.Error())
			return
		}
		if !relayed {
			writeJSON(w, map[string]bool{"ok": true})
			return
		}
		writeJSON(w, map[string]bool{"ok": true, "relayed": true})
	})
}

// broadcast sends m to every connection of this node.
func (t *Tier) broadcast(m *directMessage) error {
	return t.hub.Broadcast(hub.Publication{Event: m.Event, Data: m.Data})
}
