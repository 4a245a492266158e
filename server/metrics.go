package server

import (
	"sync/atomic"

	"github.com/rtd-project/rtd/metrics/latency"
)

// Metrics are the server's counters. Each is an atomic, so the hot paths pay
// one uncontended add; Snapshot reads them all. Names follow the seed's
// metric names (websocket.upgrades.total, …) with the dots as underscores.
type Metrics struct {
	ConnsAccepted  atomic.Int64 // TCP connections accepted
	ConnsRejected  atomic.Int64 // refused at accept: MaxConns reached or draining
	HTTPRequests   atomic.Int64 // requests parsed
	HTTPErrors     atomic.Int64 // requests answered with a parse error (4xx/5xx)
	HeaderTimeouts atomic.Int64 // connections closed by the header timeout

	WSUpgrades        atomic.Int64 // websocket.upgrades.total
	WSUpgradesReject  atomic.Int64 // websocket.upgrades.rejected.total
	WSConnections     atomic.Int64 // websocket.connections.total (open now)
	WSMessagesIn      atomic.Int64 // websocket.messages.in.total
	WSMessagesOut     atomic.Int64 // websocket.messages.out.total
	WSBytesIn         atomic.Int64 // websocket.bytes.in.total (payload bytes)
	WSBytesOut        atomic.Int64 // websocket.bytes.out.total (frame bytes)
	WSBackpressure    atomic.Int64 // websocket.backpressure.total (slow-client policy applied)
	WSCloseByCode     [closeCodeSlots]atomic.Int64
	SSEStreams        atomic.Int64 // SSE streams started
	SSEConnections    atomic.Int64 // SSE streams open now
	SSEEventsOut      atomic.Int64 // events queued to streams
	SSEBytesOut       atomic.Int64
	SSERejected       atomic.Int64 // streams refused before they started (origin, auth)
	SSEBackpressure   atomic.Int64
	SlowClientCloses  atomic.Int64 // connections closed by the Close policy
	SlowClientDropped atomic.Int64 // messages dropped by the Drop policy

	// DeliveryLatency: from a publication's Encode (hub.Prepared.At) to
	// the end of the flush that wrote it to its subscribers on a loop, one
	// observation per delivery batch (publication × loop) that wrote
	// something. Replays are not counted.
	DeliveryLatency latency.Histogram
	// HandshakeWS, HandshakeSSE: from the request parsed to the 101 or the
	// stream's head queued (Authorize and the hub's registration included).
	HandshakeWS  latency.Histogram
	HandshakeSSE latency.Histogram
}

// closeCodeSlots covers codes 1000–1015 plus one slot for every other code.
const closeCodeSlots = 17

func closeSlot(code int) int {
	if code >= 1000 && code <= 1015 {
		return code - 1000
	}
	return closeCodeSlots - 1
}

// CloseCount returns how many WebSocket connections closed with code
// (1000–1015; any other code counts under -1).
func (m *Metrics) CloseCount(code int) int64 { return m.WSCloseByCode[closeSlot(code)].Load() }

// Metrics returns the server's live counters.
func (s *Server) Metrics() *Metrics { return &s.metrics }

// Conns returns the number of open connections.
func (s *Server) Conns() int { return int(s.conns.Load()) }

// SendQueueBytes returns the bytes waiting to be written to the server's
// WebSocket and SSE connections: the sum of their outbound buffers as of
// each connection's last flush or timer tick (so at most a tick old). It
// costs one atomic load per event loop.
func (s *Server) SendQueueBytes() int64 {
	var n int64
	for _, l := range *s.loops.Load() {
		n += l.queued.Load()
	}
	return n
}
