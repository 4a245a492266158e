package fanout

import (
	"strings"
	"time"

	"github.com/rtd-project/rtd/hub"
	"github.com/rtd-project/rtd/server"
)

// Options configures the fan-out tier. The zero value serves anonymous
// clients (no token verifier), admits browsers from the server's own site
// only, accepts the server API and /metrics from loopback clients only, and
// lets clients subscribe to any channel but publish on none.
type Options struct {
	// APIKey protects /api/*: requests must carry "Authorization: Bearer KEY"
	// or "X-API-Key: KEY". Empty: only clients on loopback addresses may call
	// the API.
	APIKey string

	// Verifier checks connection tokens. Nil: every client is anonymous.
	Verifier TokenVerifier
	// AllowAnonymous admits clients without a token when a Verifier is set.
	// Anonymous clients may subscribe to (and read the presence and history
	// of) channels in no namespace and in namespaces marked Anonymous; never
	// personal channels; they publish only where a namespace has
	// ClientPublish. A namespace "*" without Anonymous keeps them out of
	// every channel not in another namespace.
	AllowAnonymous bool

	// Version and Revision label rtd_build_info on /metrics. Empty: what
	// the Go toolchain stamped into the binary (module version,
	// vcs.revision), else "unknown".
	Version, Revision string

	// Namespaces give channels matching a pattern their own options. The
	// most specific (longest) matching pattern wins; "*" matches everything.
	Namespaces []Namespace

	// MaxCommandBytes bounds one client command (WebSocket message).
	// Default 64 KiB; larger closes the connection with 1009.
	MaxCommandBytes int
	// MaxSSEChannels bounds the channels of one SSE stream. Default 16.
	MaxSSEChannels int
	// WSOptions are passed to the /ws route (heartbeats, send queue,
	// compression, slow-client policy, origins). MaxMessageBytes and
	// Authorize are set by the tier.
	WS WSRouteOptions
	// SSE options of the /sse route (heartbeat, retry, send queue,
	// slow-client policy, origins).
	SSE SSERouteOptions

	// Cluster, when the hub runs on a message bus (hub.Options.Broker),
	// gives /api/presence and /api/stats the figures of the other nodes,
	// and relays /api/disconnect, /api/send and /api/broadcast to them.
	// Nil: a single node (node-local figures and operations).
	Cluster Cluster
}

// WSRouteOptions are the /ws route settings an operator picks; each is the
// server.WSOptions field of the same name, with its default.
type WSRouteOptions struct {
	// Origins are the other sites whose pages may connect
	// (server.WSOptions.Origins): empty, same-origin only. With "*" the
	// rtd_token cookie is not read on /ws: any site's page could otherwise
	// connect as its visitor; tokens then come in ?token= or Authorization.
	Origins []string
	// HeartbeatInterval and IdleTimeout: default 25s and 60s (a dead peer
	// is closed within a minute); negative turns them off.
	HeartbeatInterval time.Duration
	IdleTimeout       time.Duration
	MaxSendQueueBytes int
	Compression       bool
	// SlowClientPolicy applies when a push would take a socket's send queue
	// over MaxSendQueueBytes. The zero value is server.SlowClientClose (1013
	// after SlowClientGrace; the client resubscribes with "since" to recover
	// what it missed); server.SlowClientError skips the push for that
	// socket (counted).
	SlowClientPolicy server.SlowClientPolicy
	// SlowClientGrace is how long a socket closed by SlowClientClose gets to
	// read its close frame. Default 1s.
	SlowClientGrace time.Duration
}

// SSERouteOptions are the /sse route settings an operator picks; each is the
// server.SSEOptions field of the same name, with its default.
type SSERouteOptions struct {
	// Origins and AllowCredentials as server.SSEOptions (empty: same-origin
	// only; credentials need named origins). With "*" the rtd_token cookie
	// is not read on /sse, as for WSRouteOptions.Origins.
	Origins           []string
	AllowCredentials  bool
	HeartbeatInterval time.Duration
	Retry             time.Duration
	MaxSendQueueBytes int
	// SlowClientPolicy as for WSRouteOptions; SlowClientClose ends the
	// stream once what is queued is written, and the client's EventSource
	// comes back with its Last-Event-ID.
	SlowClientPolicy server.SlowClientPolicy
}

// Namespace holds the options of the channels whose names match Pattern: an
// exact name, or a prefix followed by "*" ("chat:*").
type Namespace struct {
	Pattern     string        `yaml:"pattern"`
	HistorySize int           `yaml:"history_size"` // publications kept for recovery; 0 = the hub default, -1 = none
	HistoryTTL  time.Duration `yaml:"history_ttl"`  // 0 = the hub default
	Presence    *bool         `yaml:"presence"`     // nil = on
	JoinLeave   bool          `yaml:"join_leave"`   // push join/leave events
	// ClientPublish lets any client that may subscribe also publish.
	ClientPublish bool `yaml:"client_publish"`
	// Personal restricts "PREFIX{sub}" channels to that user: with pattern
	// "user:*", only user 42 may subscribe to "user:42".
	Personal bool `yaml:"personal"`
	// Anonymous lets clients without a token subscribe (when a Verifier is
	// set and AllowAnonymous is on; without a Verifier every client may).
	Anonymous bool `yaml:"anonymous"`
}

const (
	defaultMaxCommandBytes = 64 << 10
	defaultMaxSSEChannels  = 16
	defaultSendQueueBytes  = 1 << 20 // as the server's own default
)

func (o Options) withDefaults() Options {
	if o.MaxCommandBytes <= 0 {
		o.MaxCommandBytes = defaultMaxCommandBytes
	}
	if o.MaxSSEChannels <= 0 {
		o.MaxSSEChannels = defaultMaxSSEChannels
	}
	if o.WS.MaxSendQueueBytes <= 0 {
		o.WS.MaxSendQueueBytes = defaultSendQueueBytes
	}
	return o
}

// namespace returns the most specific namespace matching channel, or nil.
func (o *Options) namespace(channel string) *Namespace {
	var best *Namespace
	bestLen := -1
	for i := range o.Namespaces {
		ns := &o.Namespaces[i]
		n, ok := matchLen(ns.Pattern, channel)
		if ok && n > bestLen {
			best, bestLen = ns, n
		}
	}
	return best
}

// matchLen matches one pattern: an exact name, or a prefix and "*". It
// returns how specific the match is.
func matchLen(pattern, channel string) (int, bool) {
	if prefix, ok := strings.CutSuffix(pattern, "*"); ok {
		return len(prefix), strings.HasPrefix(channel, prefix)
	}
	return len(pattern) + 1, pattern == channel
}

// ChannelOptions maps the namespaces onto the hub: pass it as
// server.Options.Hub.ChannelOptions.
func (o *Options) ChannelOptions(channel string, base hub.ChannelOptions) hub.ChannelOptions {
	ns := o.namespace(channel)
	if ns == nil {
		return base
	}
	switch {
	case ns.HistorySize < 0:
		base.HistorySize = 0
	case ns.HistorySize > 0:
		base.HistorySize = ns.HistorySize
	}
	if ns.HistoryTTL > 0 {
		base.HistoryTTL = ns.HistoryTTL
	}
	if ns.Presence != nil {
		base.Presence = *ns.Presence
	}
	base.JoinLeave = ns.JoinLeave
	return base
}
