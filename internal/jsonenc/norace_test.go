//go:build !race

package jsonenc

import "testing"

func TestAppendStringAllocs(t *testing.T) {
	buf := make([]byte, 0, 256)
	s := "héllo <world> \u2028 \xff \"quoted\"\n"
	if n := testing.AllocsPerRun(100, func() { buf = AppendString(buf[:0], s) }); n != 0 {
		t.Fatalf("AppendString allocates %v times, want 0", n)
	}
}
