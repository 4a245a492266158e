package metrics

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape renders r and parses it back the way a Prometheus server would.
func scrape(t testing.TB, r *Registry) map[string]*dto.MetricFamily {
	t.Helper()
	var buf bytes.Buffer
	if err := r.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(&buf)
	if err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	return families
}

// value returns the value of the series of family name whose labels are
// exactly labels (name=value pairs).
func value(t *testing.T, families map[string]*dto.MetricFamily, name string, labels ...string) (float64, dto.MetricType) {
	t.Helper()
	f, ok := families[name]
	if !ok {
		t.Fatalf("no family %s", name)
	}
	for _, m := range f.Metric {
		var got []string
		for _, l := range m.Label {
			got = append(got, l.GetName(), l.GetValue())
		}
		if strings.Join(got, ",") != strings.Join(labels, ",") {
			continue
		}
		switch f.GetType() {
		case dto.MetricType_COUNTER:
			return m.GetCounter().GetValue(), f.GetType()
		case dto.MetricType_GAUGE:
			return m.GetGauge().GetValue(), f.GetType()
		}
		t.Fatalf("%s has type %v", name, f.GetType())
	}
	t.Fatalf("%s has no series %v", name, labels)
	return 0, 0
}

// counters stands in for server.Metrics and the hub: one atomic per reader.
type counters struct{ v [32]atomic.Int64 }

// readers fills every Readers field with a reader of its own atomic, set to
// a distinct starting value (field i reads 100+i).
func (c *counters) readers() (Readers, []func() float64) {
	for i := range c.v {
		c.v[i].Store(int64(100 + i))
	}
	var fns []func() float64
	next := func() func() float64 {
		f := Int64(&c.v[len(fns)])
		fns = append(fns, f)
		return f
	}
	r := Readers{
		ConnsAccepted: next(), ConnsRejected: next(), HTTPRequests: next(), HTTPErrors: next(),
		WSUpgrades: next(), WSUpgradesRejected: next(), WSConnections: next(), WSMessagesIn: next(),
		WSMessagesOut: next(), WSBytesIn: next(), WSBytesOut: next(), WSBackpressure: next(),
		SSEStreams: next(), SSEConnections: next(), SSEEventsOut: next(), SSEBytesOut: next(),
		SSERejected: next(), SSEBackpressure: next(), SlowClientCloses: next(), Drops: next(),
		SendQueueBytes: next(), Publications: next(), Deliveries: next(), Channels: next(),
		Subscriptions: next(), Users: next(), HistoryPublications: next(), HistoryChannels: next(),
		HistoryRefused: next(), AuthFailures: next(),
		WSCloses: func(code int) float64 {
			if code == -1 {
				return 7
			}
			return float64(code - 990) // 1000 → 10, 1015 → 25
		},
	}
	return r, fns
}

// want lists each plain series in the order readers() hands out atomics.
var want = []struct {
	name string
	typ  dto.MetricType
}{
	{"rtd_tcp_connections_accepted_total", dto.MetricType_COUNTER},
	{"rtd_tcp_connections_rejected_total", dto.MetricType_COUNTER},
	{"rtd_http_requests_total", dto.MetricType_COUNTER},
	{"rtd_http_errors_total", dto.MetricType_COUNTER},
	{"rtd_websocket_upgrades_total", dto.MetricType_COUNTER},
	{"rtd_websocket_upgrades_rejected_total", dto.MetricType_COUNTER},
	{"rtd_websocket_connections", dto.MetricType_GAUGE},
	{"rtd_websocket_messages_in_total", dto.MetricType_COUNTER},
	{"rtd_websocket_messages_out_total", dto.MetricType_COUNTER},
	{"rtd_websocket_bytes_in_total", dto.MetricType_COUNTER},
	{"rtd_websocket_bytes_out_total", dto.MetricType_COUNTER},
	{"rtd_websocket_backpressure_total", dto.MetricType_COUNTER},
	{"rtd_sse_streams_total", dto.MetricType_COUNTER},
	{"rtd_sse_connections", dto.MetricType_GAUGE},
	{"rtd_sse_events_out_total", dto.MetricType_COUNTER},
	{"rtd_sse_bytes_out_total", dto.MetricType_COUNTER},
	{"rtd_sse_rejected_total", dto.MetricType_COUNTER},
	{"rtd_sse_backpressure_total", dto.MetricType_COUNTER},
	{"rtd_slow_client_closes_total", dto.MetricType_COUNTER},
	{"rtd_drops_total", dto.MetricType_COUNTER},
	{"rtd_send_queue_bytes", dto.MetricType_GAUGE},
	{"rtd_publications_total", dto.MetricType_COUNTER},
	{"rtd_deliveries_total", dto.MetricType_COUNTER},
	{"rtd_channels", dto.MetricType_GAUGE},
	{"rtd_subscriptions", dto.MetricType_GAUGE},
	{"rtd_users", dto.MetricType_GAUGE},
	{"rtd_history_publications", dto.MetricType_GAUGE},
	{"rtd_history_channels", dto.MetricType_GAUGE},
	{"rtd_history_channels_refused_total", dto.MetricType_COUNTER},
	{"rtd_auth_failures_total", dto.MetricType_COUNTER},
}

func TestStandardScrape(t *testing.T) {
	var c counters
	r, _ := c.readers()
	reg, err := NewRegistry(Standard(r), Options{OmitRuntime: true})
	if err != nil {
		t.Fatal(err)
	}
	families := scrape(t, reg)
	for i, w := range want {
		got, typ := value(t, families, w.name)
		if got != float64(100+i) || typ != w.typ {
			t.Errorf("%s = %v (%v), want %d (%v)", w.name, got, typ, 100+i, w.typ)
		}
	}
	for code := 1000; code <= 1015; code++ {
		if got, typ := value(t, families, "rtd_websocket_close_total", "code", strconv.Itoa(code)); got != float64(code-990) || typ != dto.MetricType_COUNTER {
			t.Errorf("close %d = %v (%v)", code, got, typ)
		}
	}
	if got, _ := value(t, families, "rtd_websocket_close_total", "code", "other"); got != 7 {
		t.Errorf("close other = %v", got)
	}
	if got, typ := value(t, families, "rtd_connections", "transport", "ws"); got != 106 || typ != dto.MetricType_GAUGE {
		t.Errorf("connections ws = %v (%v), want rtd_websocket_connections' 106", got, typ)
	}
	if got, _ := value(t, families, "rtd_connections", "transport", "sse"); got != 113 {
		t.Errorf("connections sse = %v, want rtd_sse_connections' 113", got)
	}
	// want, plus close codes and rtd_connections; nothing else.
	if len(families) != len(want)+2 || len(families["rtd_websocket_close_total"].Metric) != 17 || len(families["rtd_connections"].Metric) != 2 {
		t.Errorf("%d families, %d close series, %d connection series", len(families),
			len(families["rtd_websocket_close_total"].Metric), len(families["rtd_connections"].Metric))
	}
	for name, f := range families {
		if f.GetHelp() == "" {
			t.Errorf("%s has no help", name)
		}
	}

	// Values are read at scrape time, not captured at registration.
	c.v[4].Add(5)  // rtd_websocket_upgrades_total
	c.v[6].Add(-6) // rtd_websocket_connections
	families = scrape(t, reg)
	if got, _ := value(t, families, "rtd_websocket_upgrades_total"); got != 109 {
		t.Errorf("upgrades after +5 = %v", got)
	}
	if got, _ := value(t, families, "rtd_connections", "transport", "ws"); got != 100 {
		t.Errorf("ws connections after -6 = %v", got)
	}
}

func TestStandardLeavesOutNilReaders(t *testing.T) {
	var upgrades atomic.Int64
	upgrades.Store(3)
	reg, err := NewRegistry(Standard(Readers{WSUpgrades: Int64(&upgrades)}), Options{OmitRuntime: true})
	if err != nil {
		t.Fatal(err)
	}
	families := scrape(t, reg)
	if len(families) != 1 {
		t.Fatalf("families %v", families)
	}
	if got, _ := value(t, families, "rtd_websocket_upgrades_total"); got != 3 {
		t.Fatal(got)
	}
	if len(Standard(Readers{})) != 0 {
		t.Fatal("empty Readers built metrics")
	}
}

func TestRuntimeCollectors(t *testing.T) {
	reg, err := NewRegistry(nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	families := scrape(t, reg)
	for _, name := range []string{"go_goroutines", "go_memstats_heap_alloc_bytes", "process_resident_memory_bytes", "process_open_fds"} {
		if _, ok := families[name]; !ok {
			t.Errorf("no %s", name)
		}
	}
	if g, _ := value(t, families, "go_goroutines"); g < 1 {
		t.Errorf("go_goroutines = %v", g)
	}
	reg, err = NewRegistry(nil, Options{OmitRuntime: true})
	if err != nil {
		t.Fatal(err)
	}
	if families := scrape(t, reg); len(families) != 0 {
		t.Errorf("OmitRuntime still exposes %d families", len(families))
	}
}

func TestNewRegistryRefuses(t *testing.T) {
	one := func() float64 { return 1 }
	m := func(name string, kind Kind, labels map[string]string) Metric {
		return Metric{Name: name, Help: "h", Kind: kind, Labels: labels, Value: one}
	}
	cases := []struct {
		name string
		ms   []Metric
	}{
		{"no value", []Metric{{Name: "rtd_x_total", Help: "h"}}},
		{"bad name", []Metric{m("rtd-x-total", Counter, nil)}},
		{"empty name", []Metric{m("", Counter, nil)}},
		{"bad label name", []Metric{m("rtd_x_total", Counter, map[string]string{"bad-label": "1"})}},
		{"unknown kind", []Metric{m("rtd_x_total", Kind(9), nil)}},
		{"same series twice", []Metric{m("rtd_x_total", Counter, nil), m("rtd_x_total", Counter, nil)}},
		{"same labels twice", []Metric{m("rtd_x_total", Counter, map[string]string{"code": "1"}), m("rtd_x_total", Counter, map[string]string{"code": "1"})}},
		{"different help", []Metric{m("rtd_x_total", Counter, map[string]string{"code": "1"}), {Name: "rtd_x_total", Help: "other", Labels: map[string]string{"code": "2"}, Value: one}}},
		{"different label names", []Metric{m("rtd_x_total", Counter, map[string]string{"code": "1"}), m("rtd_x_total", Counter, map[string]string{"kind": "2"})}},
		{"counter and gauge", []Metric{m("rtd_x", Counter, map[string]string{"t": "a"}), m("rtd_x", Gauge, map[string]string{"t": "b"})}},
		{"clash with runtime", []Metric{m("go_goroutines", Gauge, nil)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			reg, err := NewRegistry(tc.ms, Options{})
			if reg != nil || !errors.Is(err, ErrBadMetric) {
				t.Fatalf("registry %v err %v", reg, err)
			}
		})
	}
}

func TestContentType(t *testing.T) {
	reg, err := NewRegistry(nil, Options{OmitRuntime: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := reg.ContentType(); got != "text/plain; version=0.0.4; charset=utf-8" {
		t.Fatal(got)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }

func TestWriteTextReportsWriteErrors(t *testing.T) {
	reg, err := NewRegistry(nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := reg.WriteText(failingWriter{}); !errors.Is(err, io.ErrClosedPipe) {
		t.Fatal(err)
	}
}

// Scrapes run while the counters move, as they do in the daemon.
func TestConcurrentScrapes(t *testing.T) {
	var c counters
	r, _ := c.readers()
	reg, err := NewRegistry(Standard(r), Options{OmitRuntime: true})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for range 2000 {
			c.v[7].Add(1)
		}
	})
	for range 3 {
		wg.Go(func() {
			for range 20 {
				if err := reg.WriteText(io.Discard); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if got, _ := value(t, scrape(t, reg), "rtd_websocket_messages_in_total"); got != 107+2000 {
		t.Fatalf("messages in = %v", got)
	}
}

func BenchmarkWriteTextStandard(b *testing.B) {
	var c counters
	r, _ := c.readers()
	reg, err := NewRegistry(Standard(r), Options{OmitRuntime: true})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := reg.WriteText(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
