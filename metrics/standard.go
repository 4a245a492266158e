package metrics

import (
	"strconv"

	"github.com/rtd-project/rtd/metrics/latency"
)

// Readers are the live values behind rtd's standard metric set. Each is
// called on every scrape and must be safe to call concurrently with the
// counters' updates; a nil reader leaves its series out. The comment after
// each field is the series it feeds.
type Readers struct {
	// Server: accepted connections and HTTP requests (server.Metrics).
	ConnsAccepted func() float64 // rtd_tcp_connections_accepted_total
	ConnsRejected func() float64 // rtd_tcp_connections_rejected_total
	HTTPRequests  func() float64 // rtd_http_requests_total
	HTTPErrors    func() float64 // rtd_http_errors_total

	// WebSocket transport (server.Metrics).
	WSUpgrades         func() float64 // rtd_websocket_upgrades_total
	WSUpgradesRejected func() float64 // rtd_websocket_upgrades_rejected_total
	WSConnections      func() float64 // rtd_websocket_connections and rtd_connections{transport="ws"}
	WSMessagesIn       func() float64 // rtd_websocket_messages_in_total
	WSMessagesOut      func() float64 // rtd_websocket_messages_out_total
	WSBytesIn          func() float64 // rtd_websocket_bytes_in_total
	WSBytesOut         func() float64 // rtd_websocket_bytes_out_total
	WSBackpressure     func() float64 // rtd_websocket_backpressure_total
	// WSCloses feeds rtd_websocket_close_total{code="…"}: it is called with
	// each code 1000–1015 and with -1 for code="other" (every other code),
	// which is how server.Metrics.CloseCount counts them.
	WSCloses func(code int) float64

	// SSE transport (server.Metrics).
	SSEStreams      func() float64 // rtd_sse_streams_total
	SSEConnections  func() float64 // rtd_sse_connections and rtd_connections{transport="sse"}
	SSEEventsOut    func() float64 // rtd_sse_events_out_total
	SSEBytesOut     func() float64 // rtd_sse_bytes_out_total
	SSERejected     func() float64 // rtd_sse_rejected_total
	SSEBackpressure func() float64 // rtd_sse_backpressure_total

	// Slow clients, both transports.
	SlowClientCloses func() float64 // rtd_slow_client_closes_total
	Drops            func() float64 // rtd_drops_total
	SendQueueBytes   func() float64 // rtd_send_queue_bytes

	// Hub and channel layer.
	Publications        func() float64 // rtd_publications_total
	Deliveries          func() float64 // rtd_deliveries_total
	Channels            func() float64 // rtd_channels
	Subscriptions       func() float64 // rtd_subscriptions
	Users               func() float64 // rtd_users
	HistoryPublications func() float64 // rtd_history_publications
	HistoryChannels     func() float64 // rtd_history_channels
	HistoryRefused      func() float64 // rtd_history_channels_refused_total
	HistoryBytes        func() float64 // rtd_history_bytes
	AuthFailures        func() float64 // rtd_auth_failures_total

	// Latency histograms (seconds, buckets latency.Bounds).
	DeliveryLatency *latency.Histogram // rtd_delivery_latency_seconds: publication prepared → written to the socket, per delivery batch
	HandshakeWS     *latency.Histogram // rtd_handshake_seconds{transport="ws"}
	HandshakeSSE    *latency.Histogram // rtd_handshake_seconds{transport="sse"}
	APILatency      *latency.Histogram // rtd_api_request_duration_seconds

	// Build identifies the binary: rtd_build_info{version,revision,go} 1.
	Build *BuildInfo
}

// BuildInfo labels rtd_build_info.
type BuildInfo struct {
	Version  string // release version (git describe), or "unknown"
	Revision string // VCS revision, or "unknown"
	Go       string // the Go toolchain (runtime.Version())
}

// closeCodes are the WebSocket close codes with a series of their own;
// every other code is counted under "other".
const (
	firstCloseCode = 1000
	lastCloseCode  = 1015
	otherCloseCode = -1
)

// Standard returns rtd's metric set for the non-nil readers in r, ready for
// NewRegistry.
func Standard(r Readers) []Metric {
	var ms []Metric
	add := func(kind Kind, name, help string, value func() float64) {
		if value != nil {
			ms = append(ms, Metric{Name: name, Help: help, Kind: kind, Value: value})
		}
	}
	add(Counter, "rtd_tcp_connections_accepted_total", "TCP connections accepted.", r.ConnsAccepted)
	add(Counter, "rtd_tcp_connections_rejected_total", "TCP connections refused at accept (connection limit reached or draining).", r.ConnsRejected)
	add(Counter, "rtd_http_requests_total", "HTTP requests parsed.", r.HTTPRequests)
	add(Counter, "rtd_http_errors_total", "HTTP requests answered with a parse error.", r.HTTPErrors)

	add(Counter, "rtd_websocket_upgrades_total", "WebSocket upgrades completed.", r.WSUpgrades)
	add(Counter, "rtd_websocket_upgrades_rejected_total", "WebSocket upgrade requests refused (bad handshake, origin, auth, limits).", r.WSUpgradesRejected)
	add(Gauge, "rtd_websocket_connections", "WebSocket connections open now.", r.WSConnections)
	add(Counter, "rtd_websocket_messages_in_total", "WebSocket messages received.", r.WSMessagesIn)
	add(Counter, "rtd_websocket_messages_out_total", "WebSocket messages sent.", r.WSMessagesOut)
	add(Counter, "rtd_websocket_bytes_in_total", "WebSocket payload bytes received.", r.WSBytesIn)
	add(Counter, "rtd_websocket_bytes_out_total", "WebSocket frame bytes sent.", r.WSBytesOut)
	add(Counter, "rtd_websocket_backpressure_total", "Times the slow-client policy was applied to a WebSocket.", r.WSBackpressure)
	if r.WSCloses != nil {
		for code := firstCloseCode; code <= lastCloseCode; code++ {
			ms = append(ms, closeMetric(strconv.Itoa(code), code, r.WSCloses))
		}
		ms = append(ms, closeMetric("other", otherCloseCode, r.WSCloses))
	}

	add(Counter, "rtd_sse_streams_total", "SSE streams started.", r.SSEStreams)
	add(Gauge, "rtd_sse_connections", "SSE streams open now.", r.SSEConnections)
	add(Counter, "rtd_sse_events_out_total", "SSE events sent.", r.SSEEventsOut)
	add(Counter, "rtd_sse_bytes_out_total", "SSE bytes sent.", r.SSEBytesOut)
	add(Counter, "rtd_sse_rejected_total", "SSE streams refused before they started (origin, auth, limits).", r.SSERejected)
	add(Counter, "rtd_sse_backpressure_total", "Times the slow-client policy was applied to an SSE stream.", r.SSEBackpressure)

	const connsHelp = "Client connections open now, by transport."
	if r.WSConnections != nil {
		ms = append(ms, Metric{Name: "rtd_connections", Help: connsHelp, Kind: Gauge, Labels: map[string]string{"transport": "ws"}, Value: r.WSConnections})
	}
	if r.SSEConnections != nil {
		ms = append(ms, Metric{Name: "rtd_connections", Help: connsHelp, Kind: Gauge, Labels: map[string]string{"transport": "sse"}, Value: r.SSEConnections})
	}

	add(Counter, "rtd_slow_client_closes_total", "Connections closed because their send queue was full.", r.SlowClientCloses)
	add(Counter, "rtd_drops_total", "Messages dropped because a send queue was full.", r.Drops)
	add(Gauge, "rtd_send_queue_bytes", "Bytes waiting in send queues.", r.SendQueueBytes)

	add(Counter, "rtd_publications_total", "Publications accepted.", r.Publications)
	add(Counter, "rtd_deliveries_total", "Publications handed to subscribers (one per recipient).", r.Deliveries)
	add(Gauge, "rtd_channels", "Channels alive (with subscribers or history).", r.Channels)
	add(Gauge, "rtd_subscriptions", "Subscriptions (client, channel pairs).", r.Subscriptions)
	add(Gauge, "rtd_users", "Distinct users connected.", r.Users)
	add(Gauge, "rtd_history_publications", "Publications retained in channel histories.", r.HistoryPublications)
	add(Gauge, "rtd_history_channels", "Channels alive with history on (bounded by max-history-channels).", r.HistoryChannels)
	add(Counter, "rtd_history_channels_refused_total", "Publications refused because max-history-channels channels with history were alive, or the histories retained max-history-bytes.", r.HistoryRefused)
	add(Gauge, "rtd_history_bytes", "Bytes retained by every channel's history (data and encodings; bounded for new channels by max-history-bytes).", r.HistoryBytes)
	add(Counter, "rtd_auth_failures_total", "Connection tokens and API keys refused.", r.AuthFailures)

	hist := func(name, help string, labels map[string]string, h *latency.Histogram) {
		if h != nil {
			ms = append(ms, Metric{Name: name, Help: help, Kind: Histogram, Labels: labels, Histogram: h})
		}
	}
	hist("rtd_delivery_latency_seconds", "Time from a publication being prepared by the hub to its bytes being written to the subscribers' sockets, per delivery batch (one per event loop per publication).", nil, r.DeliveryLatency)
	const handshakeHelp = "Server time of a WebSocket upgrade or SSE stream start: request parsed to response head queued (token check and registration included)."
	hist("rtd_handshake_seconds", handshakeHelp, map[string]string{"transport": "ws"}, r.HandshakeWS)
	hist("rtd_handshake_seconds", handshakeHelp, map[string]string{"transport": "sse"}, r.HandshakeSSE)
	hist("rtd_api_request_duration_seconds", "Time to answer a /api/* request (and /metrics), from the request parsed to the response handed to the loop.", nil, r.APILatency)
	if b := r.Build; b != nil {
		ms = append(ms, Metric{Name: "rtd_build_info", Help: "The running binary: version, VCS revision and Go toolchain; always 1.", Kind: Gauge,
			Labels: map[string]string{"version": b.Version, "revision": b.Revision, "go": b.Go}, Value: func() float64 { return 1 }})
	}
	return ms
}

func closeMetric(label string, code int, closes func(int) float64) Metric {
	return Metric{
		Name:   "rtd_websocket_close_total",
		Help:   "WebSocket connections closed, by close code.",
		Kind:   Counter,
		Labels: map[string]string{"code": label},
		Value:  func() float64 { return closes(code) },
	}
}
