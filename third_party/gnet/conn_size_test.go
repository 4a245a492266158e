//go:build linux || darwin || freebsd

package gnet

import (
	"testing"
	"unsafe"
)

// TestConnSize keeps a stream connection's struct within its size class
// (PATCHES.md): 176 bytes or less on 64-bit systems.
func TestConnSize(t *testing.T) {
	const max = 176
	if n := unsafe.Sizeof(conn{}); unsafe.Sizeof(uintptr(0)) == 8 && n > max {
		t.Errorf("conn is %d bytes, want at most %d", n, max)
	} else {
		t.Logf("conn is %d bytes", n)
	}
}
