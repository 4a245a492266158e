package hub

import (
	"fmt"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the CPU time the process has used (all threads, GC included).
// The benchmarks report it next to wall time because the machine is shared:
// wall time per op swings with other load, CPU time per op much less.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkFanout publishes to one channel whose subscribers are spread over
// two simulated event loops that walk each batch with a no-op visitor. The
// timer stops only after the loops have drained, so their work (and any
// allocation) counts against the run. One op is one publication.
func BenchmarkFanout(b *testing.B) {
	for _, subs := range []int{1_000, 10_000, 100_000} {
		b.Run(fmt.Sprintf("subs=%dk", subs/1000), func(b *testing.B) {
			const loops = 2
			h, n := newTestHub(b, loops, Options{HistorySize: -1})
			for _, l := range n.loops {
				l.discard = true
			}
			for _, tc := range connectMany(b, h, "c", subs, loops) {
				subscribe(b, h, tc, "ch", nil)
			}
			p := Publication{Data: []byte(`{"price":101.25}`)}
			var ms0, ms1 runtime.MemStats
			runtime.ReadMemStats(&ms0)
			b.ReportAllocs()
			b.ResetTimer()
			start, cpu0 := time.Now(), cpuTime()
			// Not b.Loop: it stops the timer when the loop ends, before the
			// drain, and would size b.N by the publish cost alone.
			for range b.N {
				if _, err := h.Publish("ch", p); err != nil {
					b.Fatal(err)
				}
			}
			n.flush()
			elapsed, cpu := time.Since(start), cpuTime()-cpu0
			b.StopTimer()
			runtime.ReadMemStats(&ms1)
			deliveries := float64(b.N) * float64(subs)
			b.ReportMetric(float64(elapsed.Nanoseconds())/deliveries, "ns/delivery")
			b.ReportMetric(float64(cpu.Nanoseconds())/deliveries, "cpu-ns/delivery")
			b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/deliveries, "allocs/delivery")
		})
	}
}

// BenchmarkSubscribeUnsubscribe measures membership changes on a channel
// with 100k subscribers over two loops; one op is an unsubscribe plus a
// subscribe. "middle" takes out existing members and puts them back (the
// swap-remove path); "tail" adds and removes one extra member. "idle" has no
// batch in flight, so the set changes in place; "busy" takes a new snapshot on
// every loop before each op, as if a publication were in flight between any
// two changes, so every change is copy-on-write: the worst case.
func BenchmarkSubscribeUnsubscribe(b *testing.B) {
	const loops, subs = 2, 100_000
	for _, busy := range []bool{false, true} {
		for _, middle := range []bool{true, false} {
			name := map[bool]string{false: "idle", true: "busy"}[busy] + map[bool]string{false: "/tail", true: "/middle"}[middle]
			b.Run("subs=100k/"+name, func(b *testing.B) {
				h, _ := newTestHub(b, loops, Options{HistorySize: -1})
				conns := connectMany(b, h, "c", subs, loops)
				for _, tc := range conns {
					subscribe(b, h, tc, "ch", nil)
				}
				sh := h.shardFor("ch")
				held := make([]view, loops)
				hold := func() { // release the previous snapshots, take new ones
					sh.mu.Lock()
					for i := range held {
						held[i].release()
						held[i] = sh.channels["ch"].sets[i].snapshot()
					}
					sh.mu.Unlock()
				}
				extra := connect(b, h, "extra", "", 0)
				b.ReportAllocs()
				i := 0
				cpu0 := cpuTime()
				for b.Loop() {
					tc := extra
					if middle {
						tc = conns[(i*7919)%subs]
						i++
					}
					if busy {
						hold()
					}
					if middle {
						if err := h.Unsubscribe(tc, "ch"); err != nil {
							b.Fatal(err)
						}
					}
					if _, err := h.Subscribe(tc, "ch", nil); err != nil {
						b.Fatal(err)
					}
					if !middle {
						if err := h.Unsubscribe(tc, "ch"); err != nil {
							b.Fatal(err)
						}
					}
				}
				b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
				for _, v := range held {
					v.release()
				}
			})
		}
	}
}
