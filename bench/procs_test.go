//go:build linux

package bench

import (
	"context"
	"os"
	"testing"
	"time"
)

// childEnv makes the test binary act as a --procs child (see TestMain).
const childEnv = "RTD_BENCH_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

func TestProcsMergeChildren(t *testing.T) {
	t.Setenv(childEnv, "1")
	srv := newFakeServer(t)
	r, err := Run(context.Background(), Config{
		Scenario: ScenarioFanout, URLs: []string{srv.URL}, Conns: 21, Channels: 4, Rate: 200, Procs: 3,
		Transport: "both", Duration: 300 * time.Millisecond, Interval: 100 * time.Millisecond,
		ChildCommand: []string{os.Args[0]},
	})
	if err != nil {
		t.Fatal(err)
	}
	if r.Ready != 21 || r.Published == 0 || r.Delivered != r.Expected || r.Lost != 0 || r.Duplicated != 0 {
		t.Fatalf("ready %d, published %d, delivered %d of %d, lost %d, dup %d", r.Ready, r.Published, r.Delivered, r.Expected, r.Lost, r.Duplicated)
	}
	if r.Latency.Count != uint64(r.Delivered) || r.Handshake.Count != 21 {
		t.Fatalf("merged latency count %d (delivered %d), handshakes %d", r.Latency.Count, r.Delivered, r.Handshake.Count)
	}
	if r.Client.RSS == 0 || r.Client.CPUSeconds == 0 {
		t.Fatalf("client usage not merged: %+v", r.Client)
	}
}

func TestPartResultMerge(t *testing.T) {
	a := partResult{Progress: progress{Ready: 3, Delivered: 10, Duplicated: 1}, Lost: 2, CPU: 5, RSS: 100, Errors: []string{"x"}}
	b := partResult{Progress: progress{Ready: 4, Delivered: 20, Failed: 1}, Lost: 1, CPU: 7, RSS: 50, Errors: []string{"y"}}
	a.Latency.Record(time.Millisecond)
	b.Latency.Record(3 * time.Millisecond)
	b.Handshake.Record(time.Microsecond)
	var m partResult
	m.merge(&a)
	m.merge(&b)
	if m.Progress.Ready != 7 || m.Progress.Delivered != 30 || m.Progress.Duplicated != 1 || m.Progress.Failed != 1 ||
		m.Lost != 3 || m.CPU != 12 || m.RSS != 150 || len(m.Errors) != 2 {
		t.Fatalf("merged %+v", m)
	}
	if m.Latency.Count() != 2 || m.Latency.Max() != 3*time.Millisecond || m.Latency.Min() != time.Millisecond || m.Handshake.Count() != 1 {
		t.Fatal("histograms not merged")
	}
}
