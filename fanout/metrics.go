package fanout

import (
	"bytes"
	"runtime"
	"runtime/debug"
	"sync"

	"github.com/rtd-project/rtd/metrics"
	"github.com/rtd-project/rtd/server"
)

// mountMetrics serves GET /metrics in the Prometheus text format, to the
// callers /api/* answers (the API key, or loopback without one): the
// server's transport counters, the hub's figures, the tier's auth failures
// (connection tokens and API keys), and the Go runtime and process metrics.
// The retained history is counted at scrape time (a walk of the hub's
// channels); everything else is an atomic read.
func (t *Tier) mountMetrics() error {
	m := t.srv.Metrics()
	readers := metrics.Readers{
		ConnsAccepted:       metrics.Int64(&m.ConnsAccepted),
		ConnsRejected:       metrics.Int64(&m.ConnsRejected),
		HTTPRequests:        metrics.Int64(&m.HTTPRequests),
		HTTPErrors:          metrics.Int64(&m.HTTPErrors),
		WSUpgrades:          metrics.Int64(&m.WSUpgrades),
		WSUpgradesRejected:  metrics.Int64(&m.WSUpgradesReject),
		WSConnections:       metrics.Int64(&m.WSConnections),
		WSMessagesIn:        metrics.Int64(&m.WSMessagesIn),
		WSMessagesOut:       metrics.Int64(&m.WSMessagesOut),
		WSBytesIn:           metrics.Int64(&m.WSBytesIn),
		WSBytesOut:          metrics.Int64(&m.WSBytesOut),
		WSBackpressure:      metrics.Int64(&m.WSBackpressure),
		WSCloses:            func(code int) float64 { return float64(m.CloseCount(code)) },
		SSEStreams:          metrics.Int64(&m.SSEStreams),
		SSEConnections:      metrics.Int64(&m.SSEConnections),
		SSEEventsOut:        metrics.Int64(&m.SSEEventsOut),
		SSEBytesOut:         metrics.Int64(&m.SSEBytesOut),
		SSERejected:         metrics.Int64(&m.SSERejected),
		SSEBackpressure:     metrics.Int64(&m.SSEBackpressure),
		SlowClientCloses:    metrics.Int64(&m.SlowClientCloses),
		Drops:               metrics.Int64(&m.SlowClientDropped),
		SendQueueBytes:      func() float64 { return float64(t.srv.SendQueueBytes()) },
		Publications:        func() float64 { return float64(t.hub.Stats().Published) },
		Deliveries:          func() float64 { return float64(t.hub.Stats().Deliveries) },
		Channels:            func() float64 { return float64(t.hub.Stats().Channels) },
		Subscriptions:       func() float64 { return float64(t.hub.Stats().Subscriptions) },
		Users:               func() float64 { return float64(t.hub.Stats().Users) },
		HistoryPublications: func() float64 { return float64(t.hub.RetainedPublications()) },
		HistoryChannels:     func() float64 { return float64(t.hub.Stats().HistoryChannels) },
		HistoryRefused:      func() float64 { return float64(t.hub.Stats().HistoryChannelsRefused) },
		HistoryBytes:        func() float64 { return float64(t.hub.Stats().HistoryBytes) },
		AuthFailures:        func() float64 { return float64(t.authFailures.Load() + t.apiRejected.Load()) },
		DeliveryLatency:     &m.DeliveryLatency,
		HandshakeWS:         &m.HandshakeWS,
		HandshakeSSE:        &m.HandshakeSSE,
		APILatency:          &t.apiLatency,
		Build:               buildInfo(t.o.Version, t.o.Revision),
	}
	standard := metrics.Standard(readers)
	if _, err := metrics.NewRegistry(standard, metrics.Options{OmitRuntime: true}); err != nil {
		return err // a misnamed series fails Mount, not a scrape
	}
	// The per-route series cover every WebSocket and SSE route, the
	// embedder's own registered after Mount included: the registry is made
	// at the first scrape, once the server runs and its routes are fixed.
	var (
		once   sync.Once
		reg    *metrics.Registry
		regErr error
	)
	// Guarded as /api/* is: the figures (connections, users, publication
	// rates) tell an outsider about the service and its load.
	return t.srv.Group("", t.apiGuard).HandleFunc("GET", "/metrics", t.timed(func(w *server.ResponseWriter, _ *server.Request) {
		once.Do(func() {
			reg, regErr = metrics.NewRegistry(append(standard, RouteMetrics(t.srv)...), metrics.Options{})
		})
		if regErr != nil {
			writeJSONError(w, 500, "metrics: "+regErr.Error())
			return
		}
		var b bytes.Buffer
		if err := reg.WriteText(&b); err != nil {
			writeJSONError(w, 500, "metrics: "+err.Error())
			return
		}
		w.SetHeader("Content-Type", reg.ContentType())
		_, _ = w.Write(b.Bytes())
	}))
}

// RouteMetrics returns the per-route series (metrics.RouteMetrics) of every
// WebSocket and SSE route of srv, labelled by pattern: the tier's /ws and
// /sse and an embedder's own. The tier's /metrics serves them; a server
// without the tier registers them with metrics.NewRegistry. Call it once
// the routes are registered.
func RouteMetrics(srv *server.Server) []metrics.Metric {
	var routes []metrics.Route
	for _, m := range srv.RouteMetrics() {
		r := metrics.Route{
			Pattern:     m.Pattern,
			Transport:   "sse",
			Opened:      metrics.Int64(&m.Opened),
			Rejected:    metrics.Int64(&m.Rejected),
			Open:        metrics.Int64(&m.Open),
			MessagesOut: metrics.Int64(&m.MessagesOut),
			BytesOut:    metrics.Int64(&m.BytesOut),
			Dropped:     metrics.Int64(&m.Dropped),
			Refused:     metrics.Int64(&m.Refused),
			SlowCloses:  metrics.Int64(&m.SlowCloses),
		}
		if m.Kind == "websocket" {
			r.Transport = "ws"
			r.MessagesIn = func(kind string) float64 {
				if kind == "binary" {
					return float64(m.MessagesIn[1].Load())
				}
				return float64(m.MessagesIn[0].Load())
			}
			r.BytesIn = metrics.Int64(&m.BytesIn)
			r.Closes = func(code int) float64 { return float64(m.CloseCount(code)) }
		}
		routes = append(routes, r)
	}
	return metrics.RouteMetrics(routes)
}

// buildInfo labels rtd_build_info: version and revision as given, else as
// the toolchain stamped them, else "unknown".
func buildInfo(version, revision string) *metrics.BuildInfo {
	if bi, ok := debug.ReadBuildInfo(); ok {
		if version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && revision == "" {
				revision = s.Value
			}
		}
	}
	if version == "" {
		version = "unknown"
	}
	if revision == "" {
		revision = "unknown"
	}
	return &metrics.BuildInfo{Version: version, Revision: revision, Go: runtime.Version()}
}
