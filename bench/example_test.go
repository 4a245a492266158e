package bench_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/rtd-project/rtd/bench"
)

// Run a fan-out benchmark from Go and print the table.
func ExampleRun() {
	r, err := bench.Run(context.Background(), bench.Config{
		Scenario: bench.ScenarioFanout,
		URLs:     []string{"http://127.0.0.1:8080"},
		Conns:    10000,
		Channels: 1,
		Size:     64,
		Duration: 10 * time.Second,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = r.WriteTable(os.Stdout)
}

// Main is what `rtd bench` runs: the scenario first, then flags.
func ExampleMain() {
	code := bench.Main([]string{"fanout", "--url", "http://127.0.0.1:8080", "--conns", "10000", "--json", "fanout.json"}, os.Stdout, os.Stderr)
	os.Exit(code)
}

// Percentiles from a Histogram; two histograms merge exactly.
func ExampleHistogram() {
	var a, b bench.Histogram
	for i := 1; i <= 100; i++ {
		a.Record(time.Duration(i) * time.Millisecond)
	}
	b.Record(2 * time.Second)
	a.Merge(&b)
	fmt.Println(a.Count(), a.Quantile(0.5).Round(time.Millisecond), a.Max())
	// Output: 101 51ms 2s
}

// The result as JSON, for scripts that compare runs.
func ExampleResult_WriteJSON() {
	r := &bench.Result{Scenario: bench.ScenarioEcho}
	_ = r.WriteJSON(io.Discard)
}
