//go:build linux || darwin || freebsd

package gnet

import (
	"testing"
	"unsafe"
)

// TestConnSize keeps a stream connection's struct within its size class
// (PATCHES.md): 160 bytes or less on 64-bit systems.
func TestConnSize(t *testing.T) {
	const max = 160
	if n := unsafe.Sizeof(conn{}); unsafe.Sizeof(uintptr(0)) == 8 && n > max {
		t.Errorf("conn is %d bytes, want at most %d", n, max)
	} else {
		t.Logf("conn is %d bytes", n)
	}
}

// TestSafeContextApart: SetSafeContext and SafeContext work from any
// goroutine with the context kept outside the conn (patch 9), and a
// released conn leaves nothing behind in that table.
func TestSafeContextApart(t *testing.T) {
	el := new(eventloop)
	c := &conn{loop: el}
	if got := c.SafeContext(); got != nil {
		t.Fatalf("fresh conn: %v", got)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.SetSafeContext("a")
	}()
	<-done
	if got := c.SafeContext(); got != "a" {
		t.Fatalf("SafeContext: %v, want a", got)
	}
	c.release()
	if got := c.SafeContext(); got != nil {
		t.Fatalf("after release: %v", got)
	}
	if _, ok := safeContexts.Load(c); ok {
		t.Fatal("a released conn is still in safeContexts")
	}
}
