// Package metrics exposes rtd's counters in the Prometheus text format.
//
// It imports neither server nor hub: every series is a Metric whose Value
// func is read at scrape time, so the components keep their counters as
// plain atomics (one uncontended add on the hot path) and pay nothing
// between scrapes. Standard builds rtd's metric set from a Readers struct of
// such funcs, and RouteMetrics the per-route series (route pattern,
// transport, message kind, outcome, close code) from Route readers; NewRegistry adds the Go runtime and process collectors; and
// WriteText renders a scrape with client_golang's own encoder, so the output
// is what every Prometheus server and exporter parser expects.
//
// The daemon wires it as:
//
//	m := srv.Metrics()
//	reg, err := metrics.NewRegistry(metrics.Standard(metrics.Readers{
//		WSUpgrades: metrics.Int64(&m.WSUpgrades),
//		WSCloses:   func(code int) float64 { return float64(m.CloseCount(code)) },
//		Channels:   func() float64 { return float64(h.Stats().Channels) },
//		// …
//	}), metrics.Options{})
//	// GET /metrics:
//	w.Header().Set("Content-Type", reg.ContentType())
//	err = reg.WriteText(w)
package metrics
