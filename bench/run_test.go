//go:build linux

package bench

import (
	"context"
	"testing"
	"time"
)

func TestFanoutAgainstFake(t *testing.T) {
	for _, c := range []struct{ protocol, transport string }{
		{ProtocolRTD, "ws"}, {ProtocolRTD, "sse"}, {ProtocolRTD, "both"},
		{ProtocolCentrifuge, "ws"}, {ProtocolCentrifuge, "sse"}, {ProtocolCentrifuge, "both"},
	} {
		t.Run(c.protocol+"/"+c.transport, func(t *testing.T) {
			srv := newFakeServerFor(t, c.protocol)
			r, err := Run(context.Background(), Config{
				Scenario: ScenarioFanout, Protocol: c.protocol, URLs: []string{srv.URL}, Conns: 20, Channels: 3, Rate: 300,
				Transport: c.transport, Duration: 300 * time.Millisecond, Publishers: 2, Batch: 7, Interval: 100 * time.Millisecond,
			})
			if err != nil {
				t.Fatal(err)
			}
			if r.Published == 0 || r.Ready != 20 || r.Failed != 0 {
				t.Fatalf("published %d, ready %d, failed %d", r.Published, r.Ready, r.Failed)
			}
			if r.Delivered != r.Expected || r.Lost != 0 || r.Duplicated != 0 || r.Stray != 0 {
				t.Fatalf("delivered %d of %d, lost %d, dup %d, stray %d", r.Delivered, r.Expected, r.Lost, r.Duplicated, r.Stray)
			}
			if r.Latency.Count != uint64(r.Delivered) {
				t.Fatalf("latency count %d, delivered %d", r.Latency.Count, r.Delivered)
			}
			srv.mu.Lock()
			defer srv.mu.Unlock()
			if c.protocol == ProtocolCentrifuge && c.transport != "sse" && srv.pongs == 0 {
				t.Fatal("no pong to the ping after the connect reply")
			}
		})
	}
}

func TestEchoAgainstFake(t *testing.T) {
	srv := newFakeServer(t)
	r, err := Run(context.Background(), Config{
		Scenario: ScenarioEcho, URLs: []string{srv.URL}, Conns: 10, Size: 200, Duration: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if r.Sent == 0 || r.Delivered != r.Sent || r.Lost != 0 || r.Latency.Count != uint64(r.Sent) {
		t.Fatalf("sent %d, delivered %d, lost %d, latency count %d", r.Sent, r.Delivered, r.Lost, r.Latency.Count)
	}
}

func TestFanoutCountsLossAndDuplicates(t *testing.T) {
	srv := newFakeServer(t)
	srv.dropAt, srv.dupAt = 3, 5 // with one channel: each subscriber misses one and sees one twice
	const conns = 8
	r, err := Run(context.Background(), Config{
		Scenario: ScenarioFanout, URLs: []string{srv.URL}, Conns: conns, Rate: 200, Transport: "both",
		Duration: 200 * time.Millisecond, Batch: 1, Drain: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	if r.Published < 6 {
		t.Fatalf("only %d published", r.Published)
	}
	if r.Lost != conns || r.Duplicated != conns || r.Delivered != r.Expected-conns {
		t.Fatalf("lost %d, duplicated %d, delivered %d of %d; want %d, %d, %d", r.Lost, r.Duplicated, r.Delivered, r.Expected, conns, conns, r.Expected-conns)
	}
}
