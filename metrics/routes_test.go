package metrics

import (
	"bytes"
	"strings"
	"testing"
)

// Two routes' series register together (shared names, same label names)
// and read their own counters.
func TestRouteMetricsRegister(t *testing.T) {
	n := func(v float64) func() float64 { return func() float64 { return v } }
	ms := RouteMetrics([]Route{
		{Pattern: "/ws", Transport: "ws", Opened: n(3), Rejected: n(1), Open: n(2),
			MessagesIn: func(kind string) float64 { return map[string]float64{"text": 5, "binary": 6}[kind] },
			BytesIn:    n(7), MessagesOut: n(8), BytesOut: n(9), Dropped: n(0), Refused: n(0), SlowCloses: n(1),
			Closes: func(code int) float64 { return map[int]float64{1013: 1, -1: 4}[code] }},
		{Pattern: "/sse", Transport: "sse", Opened: n(1), MessagesOut: n(2)},
	})
	reg, err := NewRegistry(ms, Options{OmitRuntime: true})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := reg.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`rtd_route_connections_total{outcome="opened",route="/ws",transport="ws"} 3`,
		`rtd_route_connections_total{outcome="rejected",route="/ws",transport="ws"} 1`,
		`rtd_route_open_connections{route="/ws",transport="ws"} 2`,
		`rtd_route_messages_total{direction="in",kind="binary",route="/ws",transport="ws"} 6`,
		`rtd_route_messages_total{direction="out",kind="event",route="/sse",transport="sse"} 2`,
		`rtd_route_bytes_total{direction="out",route="/ws",transport="ws"} 9`,
		`rtd_route_backpressure_total{outcome="closed",route="/ws",transport="ws"} 1`,
		`rtd_route_close_total{code="1013",route="/ws",transport="ws"} 1`,
		`rtd_route_close_total{code="other",route="/ws",transport="ws"} 4`,
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("no %s in\n%s", want, b.String())
		}
	}
}
