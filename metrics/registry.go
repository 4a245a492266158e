package metrics

import (
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/rtd-project/rtd/metrics/latency"
)

// Kind is how Prometheus treats a series' value.
type Kind uint8

const (
	// Counter only goes up (and back to zero when the process restarts).
	Counter Kind = iota
	// Gauge goes up and down.
	Gauge
	// Histogram is a latency.Histogram (Metric.Histogram), rendered in
	// seconds with its classic buckets.
	Histogram
)

// Metric is one series, read on every scrape.
type Metric struct {
	Name string // full name, e.g. "rtd_websocket_upgrades_total"
	Help string // one line; series sharing a Name must share Help and Kind
	Kind Kind
	// Labels are constant labels that set this series apart from others of
	// the same Name, e.g. {"code": "1000"}. Series sharing a Name must use
	// the same label names.
	Labels map[string]string
	// Value reads the current value. It is called from the scraping
	// goroutine, concurrently with whatever updates it, so it must be safe
	// for that (an atomic load, or a snapshot under the owner's lock).
	Value func() float64
	// Histogram is read on every scrape for Kind Histogram (Value unused).
	Histogram *latency.Histogram
}

// Options configure a Registry. The zero value exposes the Go runtime
// (go_*) and process (process_*) metrics beside the given ones.
type Options struct {
	// OmitRuntime leaves out the Go runtime and process collectors.
	OmitRuntime bool
}

// Registry renders its metrics in the Prometheus text format. It is safe for
// concurrent scrapes.
type Registry struct {
	reg *prometheus.Registry
}

// textFormat is the classic Prometheus text exposition format (0.0.4).
var textFormat = expfmt.NewFormat(expfmt.TypeTextPlain)

// NewRegistry registers ms (and, unless o.OmitRuntime, the Go runtime and
// process collectors). A Metric that cannot be registered fails the whole
// call with ErrBadMetric, so a misnamed series is caught at start-up rather
// than by a failing scrape.
func NewRegistry(ms []Metric, o Options) (*Registry, error) {
	reg := prometheus.NewPedanticRegistry()
	for _, m := range ms {
		if err := check(m); err != nil {
			return nil, fmt.Errorf("%w: %q: %w", ErrBadMetric, m.Name, err)
		}
		var c prometheus.Collector
		switch m.Kind {
		case Counter:
			c = prometheus.NewCounterFunc(prometheus.CounterOpts{Name: m.Name, Help: m.Help, ConstLabels: m.Labels}, m.Value)
		case Gauge:
			c = prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: m.Name, Help: m.Help, ConstLabels: m.Labels}, m.Value)
		case Histogram:
			c = &histogramCollector{desc: prometheus.NewDesc(m.Name, m.Help, nil, m.Labels), h: m.Histogram}
		default:
			return nil, fmt.Errorf("%w: %q: unknown Kind %d", ErrBadMetric, m.Name, m.Kind)
		}
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("%w: %q: %w", ErrBadMetric, m.Name, err)
		}
	}
	// Register checks one collector against the others; only Gather catches
	// a name used both as a counter and as a gauge. This runs before the
	// runtime collectors join, so a host where those cannot read /proc still
	// starts (their failures surface in WriteText).
	if _, err := reg.Gather(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadMetric, err)
	}
	if !o.OmitRuntime {
		for _, c := range []prometheus.Collector{collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("%w: clashes with the runtime metrics: %w", ErrBadMetric, err)
			}
		}
	}
	return &Registry{reg: reg}, nil
}

// check holds names to the classic Prometheus charset
// ([a-zA-Z_:][a-zA-Z0-9_:]*): client_golang would accept any UTF-8 name, but
// such names need quoting in PromQL and are escaped differently by each
// scraper, so they would not reach dashboards as spelled here.
func check(m Metric) error {
	if m.Kind == Histogram && m.Histogram == nil {
		return errors.New("no Histogram")
	}
	if m.Kind != Histogram && m.Value == nil {
		return errors.New("no Value")
	}
	if !model.LegacyValidation.IsValidMetricName(m.Name) {
		return errors.New("name outside [a-zA-Z_:][a-zA-Z0-9_:]*")
	}
	for name := range m.Labels {
		if !model.LegacyValidation.IsValidLabelName(name) {
			return fmt.Errorf("label name %q outside [a-zA-Z_][a-zA-Z0-9_]*", name)
		}
	}
	return nil
}

// WriteText reads every metric and writes them to w in the Prometheus text
// format, families sorted by name. If a collector fails, the families that
// were gathered are still written and the error is returned with any
// write error.
func (r *Registry) WriteText(w io.Writer) error {
	families, gatherErr := r.reg.Gather()
	enc := expfmt.NewEncoder(w, textFormat)
	for _, f := range families {
		if err := enc.Encode(f); err != nil {
			return errors.Join(gatherErr, err)
		}
	}
	return gatherErr
}

// ContentType is the Content-Type of WriteText's output:
// "text/plain; version=0.0.4; charset=utf-8".
func (r *Registry) ContentType() string { return string(textFormat) }

// Int64 returns a reader of v, for counters kept as atomics.
func Int64(v *atomic.Int64) func() float64 {
	return func() float64 { return float64(v.Load()) }
}

// histogramCollector renders a latency.Histogram in seconds.
type histogramCollector struct {
	desc *prometheus.Desc
	h    *latency.Histogram
}

func (c *histogramCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *histogramCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.h.Snapshot()
	buckets := make(map[float64]uint64, len(latency.Bounds))
	for i, b := range latency.Bounds {
		buckets[b.Seconds()] = s.Cumulative[i]
	}
	m, err := prometheus.NewConstHistogram(c.desc, s.Count, s.Sum.Seconds(), buckets)
	if err != nil {
		m = prometheus.NewInvalidMetric(c.desc, err)
	}
	ch <- m
}
