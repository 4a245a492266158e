package server

import (
	"sort"
	"sync/atomic"
)

// RouteMetrics are the counters of one WebSocket or SSE route, for metrics
// labelled by route pattern (low cardinality: one set per registered
// route, never per path or client). Server.Metrics holds the same figures
// summed over every route. Each is an atomic; what the loops send is added
// once per flush.
type RouteMetrics struct {
	Pattern string // as registered: "/rooms/:room"
	Kind    string // "websocket" or "sse"

	Opened      atomic.Int64    // upgrades completed, streams started
	Rejected    atomic.Int64    // refused before they opened: handshake, origin, Authorize, limits, draining
	Open        atomic.Int64    // open now
	MessagesIn  [2]atomic.Int64 // WebSocket messages received: text, binary
	BytesIn     atomic.Int64    // WebSocket payload bytes received
	MessagesOut atomic.Int64    // messages (WebSocket frames, SSE events) queued to the route's connections
	BytesOut    atomic.Int64
	Dropped     atomic.Int64 // messages dropped by SlowClientDrop
	Refused     atomic.Int64 // messages refused by SlowClientError
	SlowCloses  atomic.Int64 // connections closed by SlowClientClose (or a reply with no room)

	closes [closeCodeSlots]atomic.Int64
	idx    int // in Server.routeMetrics
}

// CloseCount returns how many of the route's WebSocket connections closed
// with code (1000–1015; any other code counts under -1).
func (m *RouteMetrics) CloseCount(code int) int64 { return m.closes[closeSlot(code)].Load() }

// RouteMetrics returns the counters of every WebSocket and SSE route,
// sorted by pattern.
func (s *Server) RouteMetrics() []*RouteMetrics {
	out := append([]*RouteMetrics(nil), s.routeMetrics...)
	sort.Slice(out, func(i, j int) bool { return out[i].Pattern < out[j].Pattern })
	return out
}

// newRouteMetrics makes the counters of a long-lived route about to be
// registered; addRouteMetrics keeps them once it is.
func (s *Server) newRouteMetrics(pattern string, kind routeKind) *RouteMetrics {
	return &RouteMetrics{Pattern: pattern, Kind: kind.String(), idx: len(s.routeMetrics)}
}

func (s *Server) addRouteMetrics(m *RouteMetrics) { s.routeMetrics = append(s.routeMetrics, m) }

// routeMetrics returns the counters of c's route (nil for plain HTTP).
func (c *conn) routeMetrics() *RouteMetrics {
	switch {
	case c.ws != nil:
		return c.ws.route.m
	case c.sse != nil:
		return c.sse.route.m
	}
	return nil
}
