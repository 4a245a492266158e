package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Result is the outcome of a run: what --json writes and the table and the
// HTML report show. Durations are in milliseconds unless a name says otherwise.
type Result struct {
	Scenario string    `json:"scenario"`
	Config   Config    `json:"config"`
	Start    time.Time `json:"start"`
	Seconds  float64   `json:"seconds"` // the whole run, connecting included

	Conns          int     `json:"conns"`
	Opened         int64   `json:"opened"`
	Ready          int64   `json:"ready"`
	Failed         int64   `json:"failed"`
	Dropped        int64   `json:"dropped"` // closed by the server while the run went on
	ConnectSeconds float64 `json:"connect_seconds"`
	ConnectRate    float64 `json:"connect_rate"` // connections ready per second
	Handshake      Summary `json:"handshake"`

	Published       int64   `json:"published,omitempty"`
	Delivered       int64   `json:"delivered"` // publications (or echoes) received by steady connections
	Expected        int64   `json:"expected,omitempty"`
	DeliveredPerSec float64 `json:"delivered_per_sec"`
	Latency         Summary `json:"latency"` // publish→receive, or the echo round trip
	Lost            uint64  `json:"lost"`
	Duplicated      int64   `json:"duplicated"`
	Stray           int64   `json:"stray"` // messages that were neither a publication nor a reply
	Sent            int64   `json:"sent,omitempty"`

	// CatchUpMS (recover) is the time from the first redial until every
	// subscriber had every publication it missed; Recovered counts the
	// subscribers that caught up. Latency is then each one's own catch-up
	// time, from its redial.
	CatchUpMS float64 `json:"catch_up_ms,omitempty"`
	Recovered int64   `json:"recovered,omitempty"`

	ChurnOpened int64 `json:"churn_opened,omitempty"`
	ChurnFailed int64 `json:"churn_failed,omitempty"`

	Server ServerUsage `json:"server"`
	Client ClientUsage `json:"client"`

	Samples []Sample `json:"samples"`
	Errors  []string `json:"errors,omitempty"`

	latency, handshake Histogram
}

// Summary is a latency distribution in milliseconds.
type Summary struct {
	Count uint64  `json:"count"`
	Mean  float64 `json:"mean_ms"`
	P50   float64 `json:"p50_ms"`
	P90   float64 `json:"p90_ms"`
	P99   float64 `json:"p99_ms"`
	P999  float64 `json:"p999_ms"`
	Max   float64 `json:"max_ms"`
}

func summarize(h *Histogram) Summary {
	return Summary{Count: h.Count(), Mean: ms(h.Mean()), P50: ms(h.Quantile(0.5)), P90: ms(h.Quantile(0.9)),
		P99: ms(h.Quantile(0.99)), P999: ms(h.Quantile(0.999)), Max: ms(h.Max())}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// ServerUsage is the server's memory, from /proc/PID/status (Config.PID), and
// its /api/stats before and after the run.
type ServerUsage struct {
	PID         int            `json:"pid,omitempty"`
	BaseRSS     int64          `json:"base_rss_bytes,omitempty"`  // before connecting
	ReadyRSS    int64          `json:"ready_rss_bytes,omitempty"` // with every connection open
	PeakRSS     int64          `json:"peak_rss_bytes,omitempty"`  // highest sample
	PerConn     float64        `json:"per_conn_bytes,omitempty"`  // (ReadyRSS-BaseRSS)/Ready
	StatsBefore map[string]any `json:"stats_before,omitempty"`
	StatsAfter  map[string]any `json:"stats_after,omitempty"`
}

// ClientUsage is what the load generator itself used.
type ClientUsage struct {
	Procs      int     `json:"procs"`
	CPUSeconds float64 `json:"cpu_seconds"`
	Cores      float64 `json:"cores"`     // CPUSeconds / wall seconds
	CPUShare   float64 `json:"cpu_share"` // Cores / CPUs of the machine
	RSS        int64   `json:"rss_bytes"` // peak, summed over the processes
}

// Sample is one point of the time series.
type Sample struct {
	T               float64 `json:"t"` // seconds since the start
	Ready           int64   `json:"ready"`
	DeliveredPerSec float64 `json:"delivered_per_sec"`
	P50             float64 `json:"p50_ms"`
	P99             float64 `json:"p99_ms"`
	P999            float64 `json:"p999_ms"`
	Max             float64 `json:"max_ms"`
	ServerRSS       int64   `json:"server_rss_bytes,omitempty"`
	ClientRSS       int64   `json:"client_rss_bytes,omitempty"`
}

// WriteJSON writes r as indented JSON.
func (r *Result) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteTable writes the human summary of r.
func (r *Result) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, row := range r.rows() {
		fmt.Fprintf(tw, "%s\t%s\n", row[0], row[1])
	}
	return tw.Flush()
}

// rows are the summary's lines, figure name and figures: WriteTable's
// table, and the HTML report's.
func (r *Result) rows() [][2]string {
	var out [][2]string
	row := func(k, format string, a ...any) { out = append(out, [2]string{k, fmt.Sprintf(format, a...)}) }
	row("scenario", "%s  (%s, %s protocol, %d conns, %d channels, size %d, %s, %d procs)", r.Scenario, r.Config.Transport,
		r.Config.Protocol, r.Conns, r.Config.Channels, r.Config.Size, time.Duration(r.Config.Duration), r.Client.Procs)
	row("server", "%s", strings.Join(r.Config.URLs, " "))
	row("connections", "%d ready, %d failed, %d dropped; %.0f/s; handshake p50 %.2f p99 %.2f max %.2f ms",
		r.Ready, r.Failed, r.Dropped, r.ConnectRate, r.Handshake.P50, r.Handshake.P99, r.Handshake.Max)
	switch {
	case r.Config.fanout():
		row("published", "%d", r.Published)
		row("delivered", "%d of %d  (%.0f/s)", r.Delivered, r.Expected, r.DeliveredPerSec)
		row("lost / duplicated", "%d / %d  (stray %d)", r.Lost, r.Duplicated, r.Stray)
	case r.Scenario == ScenarioRecover:
		row("recovery", "%d of %d subscribers caught up with %d publications each in %.1f ms", r.Recovered,
			r.Ready, r.Config.RecoverPubs, r.CatchUpMS)
		row("delivered", "%d of %d  (%.0f/s while recovering)", r.Delivered, r.Expected, r.DeliveredPerSec)
		row("lost / duplicated", "%d / %d  (stray %d)", r.Lost, r.Duplicated, r.Stray)
	case r.Scenario == ScenarioEcho:
		row("round trips", "%d of %d sent  (%.0f/s)", r.Delivered, r.Sent, r.DeliveredPerSec)
		row("lost", "%d", r.Lost)
	}
	if r.Latency.Count > 0 {
		name := "latency ms"
		if r.Scenario == ScenarioRecover {
			name = "catch-up ms"
		}
		row(name, "p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f  (mean %.3f)",
			r.Latency.P50, r.Latency.P90, r.Latency.P99, r.Latency.P999, r.Latency.Max, r.Latency.Mean)
	}
	if r.Scenario == ScenarioChurn {
		row("churn", "%d opened and closed, %d failed", r.ChurnOpened, r.ChurnFailed)
	}
	if r.Server.PID > 0 {
		row("server memory", "base %s, with conns %s, peak %s; %s per connection",
			mib(r.Server.BaseRSS), mib(r.Server.ReadyRSS), mib(r.Server.PeakRSS), perConn(r.Server.PerConn))
	}
	row("client", "%.2f cores (%.0f%% of the machine), %.1f CPU s, peak RSS %s", r.Client.Cores,
		100*r.Client.CPUShare, r.Client.CPUSeconds, mib(r.Client.RSS))
	for _, e := range r.Errors {
		row("error", "%s", e)
	}
	return out
}

// perConn is the server's memory per connection, or why there is no
// figure: the RSS can shrink while connections open (the garbage collector
// returned more than they took), and a negative size means nothing.
func perConn(b float64) string {
	if b < 0 {
		return "n/a (RSS shrank)"
	}
	return fmt.Sprintf("%.0f B", b)
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
