package metrics

import "strconv"

// Route is the readers of one WebSocket or SSE route's counters, for series
// labelled by the route's pattern: one set per registered route, so the
// cardinality is what the application registers, never per path or client.
// Nil readers are left out.
type Route struct {
	Pattern   string // the route as registered: "/rooms/:room"
	Transport string // "ws" or "sse"

	Opened, Rejected func() float64 // connections accepted, refused before they opened
	Open             func() float64 // open now
	// MessagesIn reads the messages received of kind "text" or "binary"
	// (WebSocket routes).
	MessagesIn       func(kind string) float64
	BytesIn          func() float64
	MessagesOut      func() float64 // messages (frames, events) queued
	BytesOut         func() float64
	Dropped, Refused func() float64 // messages the slow-client policy dropped or refused
	SlowCloses       func() float64 // connections it closed
	Closes           func(code int) float64
	CloseCodes       []int // the codes Closes is read for (1000–1015 when nil); -1 stands for any other, labelled "other"
}

// RouteMetrics returns the per-route series of routes, ready for
// NewRegistry beside Standard's:
//
//	rtd_route_connections_total{route,transport,outcome="opened"|"rejected"}
//	rtd_route_open_connections{route,transport}
//	rtd_route_messages_total{route,transport,direction="in"|"out",kind="text"|"binary"|"message"|"event"}
//	rtd_route_bytes_total{route,transport,direction}
//	rtd_route_backpressure_total{route,transport,outcome="dropped"|"refused"|"closed"}
//	rtd_route_close_total{route,transport,code}                  WebSocket close codes
func RouteMetrics(routes []Route) []Metric {
	var ms []Metric
	for _, r := range routes {
		labels := func(kv ...string) map[string]string {
			l := map[string]string{"route": r.Pattern, "transport": r.Transport}
			for i := 0; i+1 < len(kv); i += 2 {
				l[kv[i]] = kv[i+1]
			}
			return l
		}
		add := func(kind Kind, name, help string, value func() float64, kv ...string) {
			if value != nil {
				ms = append(ms, Metric{Name: name, Help: help, Kind: kind, Labels: labels(kv...), Value: value})
			}
		}
		const conns = "rtd_route_connections_total"
		const connsHelp = "Connections of a route: opened, or rejected before they opened (handshake, origin, auth, limits)."
		add(Counter, conns, connsHelp, r.Opened, "outcome", "opened")
		add(Counter, conns, connsHelp, r.Rejected, "outcome", "rejected")
		add(Gauge, "rtd_route_open_connections", "Connections of a route open now.", r.Open)
		const msgs = "rtd_route_messages_total"
		const msgsHelp = "Messages of a route, by direction and kind (text or binary in; message frames or events out)."
		if r.MessagesIn != nil {
			for _, kind := range []string{"text", "binary"} {
				add(Counter, msgs, msgsHelp, func() float64 { return r.MessagesIn(kind) }, "direction", "in", "kind", kind)
			}
		}
		outKind := "message"
		if r.Transport == "sse" {
			outKind = "event"
		}
		add(Counter, msgs, msgsHelp, r.MessagesOut, "direction", "out", "kind", outKind)
		const bytes = "rtd_route_bytes_total"
		const bytesHelp = "Bytes of a route, by direction (payload in, frames or events out)."
		add(Counter, bytes, bytesHelp, r.BytesIn, "direction", "in")
		add(Counter, bytes, bytesHelp, r.BytesOut, "direction", "out")
		const bp = "rtd_route_backpressure_total"
		const bpHelp = "Times the slow-client policy applied on a route, by outcome."
		add(Counter, bp, bpHelp, r.Dropped, "outcome", "dropped")
		add(Counter, bp, bpHelp, r.Refused, "outcome", "refused")
		add(Counter, bp, bpHelp, r.SlowCloses, "outcome", "closed")
		if r.Closes != nil {
			codes := r.CloseCodes
			if codes == nil {
				for c := firstCloseCode; c <= lastCloseCode; c++ {
					codes = append(codes, c)
				}
				codes = append(codes, otherCloseCode)
			}
			for _, code := range codes {
				label := strconv.Itoa(code)
				if code == otherCloseCode {
					label = "other"
				}
				add(Counter, "rtd_route_close_total", "WebSocket connections of a route closed, by close code.", func() float64 { return r.Closes(code) }, "code", label)
			}
		}
	}
	return ms
}
