package sse

import (
	"bytes"
	"strconv"
	"testing"
)

func appendEventBench(b *testing.B, data []byte) {
	e := Event{ID: "1234567", Event: "notification", Data: data}
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = AppendEvent(buf[:0], e)
	}
	b.SetBytes(int64(len(buf)))
}

// A 64-byte JSON-sized payload, on one line and split into 32 lines.
func BenchmarkAppendEvent64(b *testing.B) { appendEventBench(b, bytes.Repeat([]byte("x"), 64)) }
func BenchmarkAppendEvent64MultiLine(b *testing.B) {
	appendEventBench(b, bytes.Repeat([]byte("x\n"), 32))
}

// decodeBench decodes a stream of 100 64-byte events in 4 KiB reads.
func decodeBench(b *testing.B, withIDs bool) {
	var stream []byte
	for i := range 100 {
		e := Event{Event: "notification", Data: bytes.Repeat([]byte("x"), 64)}
		if withIDs {
			e.ID = strconv.Itoa(i)
		}
		stream, _ = AppendEvent(stream, e)
	}
	d := NewDecoder(Options{})
	n := 0
	emit := func(Event) { n++ }
	b.ReportAllocs()
	b.SetBytes(int64(len(stream)))
	for b.Loop() {
		for p := stream; len(p) > 0; {
			chunk := p[:min(4096, len(p))]
			if err := d.Feed(chunk, emit); err != nil {
				b.Fatal(err)
			}
			p = p[len(chunk):]
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/event")
}

func BenchmarkDecode(b *testing.B)        { decodeBench(b, false) }
func BenchmarkDecodeWithIDs(b *testing.B) { decodeBench(b, true) }
