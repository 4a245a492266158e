//go:build linux || darwin || freebsd

package gnet

import (
	"runtime"
	"testing"
	"time"
	"unsafe"
	"weak"
)

// TestConnSize keeps a stream connection's struct within its size class
// (PATCHES.md): 160 bytes or less on 64-bit systems, plus the poll_opt
// build's PollAttachment (pollState, empty by default).
func TestConnSize(t *testing.T) {
	max := 160 + unsafe.Sizeof(pollState{})
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
	if _, ok := safeContexts.Load(weak.Make(c)); ok {
		t.Fatal("a released conn is still in safeContexts")
	}
}

// TestSafeContextSetAfterRelease: a SetSafeContext from another goroutine
// may come after the loop released the conn (that goroutine cannot know);
// its entry goes when the conn is collected, as the context went with the
// conn upstream.
func TestSafeContextSetAfterRelease(t *testing.T) {
	entries := func() (n int) {
		safeContexts.Range(func(any, any) bool { n++; return true })
		return n
	}
	base := entries()
	func() {
		for i := 0; i < 50; i++ {
			c := &conn{loop: new(eventloop)}
			c.release()
			done := make(chan struct{})
			go func() {
				defer close(done)
				c.SetSafeContext("late")
			}()
			<-done
		}
	}()
	for deadline := time.Now().Add(10 * time.Second); entries() > base; {
		if time.Now().After(deadline) {
			t.Fatalf("%d entries of collected conns left in safeContexts", entries()-base)
		}
		runtime.GC()
		runtime.Gosched()
	}
}
