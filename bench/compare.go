package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"
)

// Compare reads --json results of the same scenario against different servers
// and writes them side by side, each as a ratio to the first: what `make
// bench-compare` prints. Higher is better for deliveries and connect rate,
// lower for latency and memory; the ratios say "first ÷ other" for those, so
// a ratio above 1 always favours the first server.
func Compare(w io.Writer, files []string) error {
	var rs []*Result
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			return err
		}
		r := &Result{}
		if err := json.Unmarshal(b, r); err != nil {
			return fmt.Errorf("bench: %s: %w", name, err)
		}
		rs = append(rs, r)
	}
	if len(rs) == 0 {
		return fmt.Errorf("bench: compare: no result files")
	}
	for _, warn := range comparable(files, rs) {
		fmt.Fprintln(w, "warning:", warn)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	base := rs[0]
	// recover: the catch-up time leads, and the percentiles are each
	// subscriber's catch-up.
	catchUp := base.Scenario == ScenarioRecover
	if catchUp {
		fmt.Fprint(tw, "result\tcatch-up ms\tdelivered/s\tp50 ms\tp99 ms\tp99.9 ms\tB/conn\tconnects/s\tlost\tdup\t\n")
	} else {
		fmt.Fprint(tw, "result\tdelivered/s\tp50 ms\tp99 ms\tp99.9 ms\tB/conn\tconnects/s\tlost\tdup\t\n")
	}
	// A ratio needs two positive figures: a zero is "not measured", and a
	// negative bytes-per-connection (the RSS shrank) is no size at all.
	ratio := func(a, b float64) string {
		if a <= 0 || b <= 0 {
			return "-"
		}
		return fmt.Sprintf("%.2fx", a/b)
	}
	bytesPerConn := func(b float64) string {
		if b < 0 {
			return "n/a"
		}
		return fmt.Sprintf("%.0f", b)
	}
	for i, r := range rs {
		name := strings.TrimSuffix(filepath.Base(files[i]), ".json")
		if catchUp {
			fmt.Fprintf(tw, "%s\t%.1f", name, r.CatchUpMS)
			name = ""
		}
		fmt.Fprintf(tw, "%s\t%.0f\t%.2f\t%.2f\t%.2f\t%s\t%.0f\t%d\t%d\t\n", name, r.DeliveredPerSec, r.Latency.P50,
			r.Latency.P99, r.Latency.P999, bytesPerConn(r.Server.PerConn), r.ConnectRate, r.Lost, r.Duplicated)
		if i > 0 {
			fmt.Fprintf(tw, "  %s ÷ this\t", strings.TrimSuffix(filepath.Base(files[0]), ".json"))
			if catchUp {
				fmt.Fprintf(tw, "%s\t", ratio(r.CatchUpMS, base.CatchUpMS))
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t\t\t\n",
				ratio(base.DeliveredPerSec, r.DeliveredPerSec), ratio(r.Latency.P50, base.Latency.P50),
				ratio(r.Latency.P99, base.Latency.P99), ratio(r.Latency.P999, base.Latency.P999),
				ratio(r.Server.PerConn, base.Server.PerConn), ratio(base.ConnectRate, r.ConnectRate))
		}
	}
	return tw.Flush()
}

// comparable says how the runs differ in what they measured: ratios between
// different scenarios, durations, loads or transports compare the runs'
// settings as much as the servers.
func comparable(files []string, rs []*Result) []string {
	var out []string
	base := rs[0]
	name := func(i int) string { return filepath.Base(files[i]) }
	for i, r := range rs[1:] {
		i++
		for _, d := range []struct {
			what string
			a, b any
		}{
			{"scenario", base.Scenario, r.Scenario},
			{"duration", time.Duration(base.Config.Duration), time.Duration(r.Config.Duration)},
			{"connections", base.Conns, r.Conns},
			{"channels", base.Config.Channels, r.Config.Channels},
			{"transport", base.Config.Transport, r.Config.Transport},
			{"size", base.Config.Size, r.Config.Size},
			{"rate", base.Config.Rate, r.Config.Rate},
		} {
			if d.a != d.b {
				out = append(out, fmt.Sprintf("%s and %s differ in %s (%v, %v): the ratios compare the runs, not only the servers", name(0), name(i), d.what, d.a, d.b))
			}
		}
	}
	return out
}
