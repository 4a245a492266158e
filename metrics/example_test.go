package metrics_test

import (
	"fmt"
	"os"
	"sync/atomic"

	"github.com/rtd-project/rtd/metrics"
)

// The daemon passes readers of its atomics; Standard names them.
func ExampleStandard() {
	var upgrades, open atomic.Int64
	upgrades.Add(3)
	open.Add(2)
	reg, err := metrics.NewRegistry(metrics.Standard(metrics.Readers{
		WSUpgrades:    metrics.Int64(&upgrades),
		WSConnections: metrics.Int64(&open),
	}), metrics.Options{OmitRuntime: true})
	if err != nil {
		panic(err)
	}
	if err := reg.WriteText(os.Stdout); err != nil {
		panic(err)
	}
	// Output:
	// # HELP rtd_connections Client connections open now, by transport.
	// # TYPE rtd_connections gauge
	// rtd_connections{transport="ws"} 2
	// # HELP rtd_websocket_connections WebSocket connections open now.
	// # TYPE rtd_websocket_connections gauge
	// rtd_websocket_connections 2
	// # HELP rtd_websocket_upgrades_total WebSocket upgrades completed.
	// # TYPE rtd_websocket_upgrades_total counter
	// rtd_websocket_upgrades_total 3
}

// Metrics of your own, beside or instead of the standard set.
func ExampleNewRegistry() {
	queue := []string{"a", "b"}
	reg, err := metrics.NewRegistry([]metrics.Metric{{
		Name:   "app_queue_length",
		Help:   "Jobs waiting.",
		Kind:   metrics.Gauge,
		Labels: map[string]string{"queue": "default"},
		Value:  func() float64 { return float64(len(queue)) },
	}}, metrics.Options{OmitRuntime: true})
	if err != nil {
		panic(err)
	}
	if err := reg.WriteText(os.Stdout); err != nil {
		panic(err)
	}
	// Output:
	// # HELP app_queue_length Jobs waiting.
	// # TYPE app_queue_length gauge
	// app_queue_length{queue="default"} 2
}

func ExampleRegistry_ContentType() {
	reg, _ := metrics.NewRegistry(nil, metrics.Options{})
	fmt.Println(reg.ContentType())
	// Output: text/plain; version=0.0.4; charset=utf-8
}

func ExampleRegistry_WriteText() {
	reg, _ := metrics.NewRegistry(nil, metrics.Options{}) // Go runtime and process metrics only
	if err := reg.WriteText(os.Stdout); err != nil {
		panic(err)
	}
}

func ExampleInt64() {
	var n atomic.Int64
	read := metrics.Int64(&n)
	n.Add(41)
	n.Add(1)
	fmt.Println(read())
	// Output: 42
}
