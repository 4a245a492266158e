//go:build (linux || darwin || freebsd) && !gc_opt

package gnet

import (
	"testing"

	"github.com/panjf2000/gnet/v2/internal/gfd"
)

// TestFDTableAcrossLoops: the loops of an engine share one fd table (patch
// 8). A loop finds only its own connections; an fd closed by one loop and
// accepted by another is the other's, and the first loop's delConn (which
// runs before close(2)) or a late lookup cannot disturb it. Fds beyond the
// table are kept apart, per loop.
func TestFDTableAcrossLoops(t *testing.T) {
	var table fdTable
	a, b := new(eventloop), new(eventloop)
	a.connections.init(&table, a)
	b.connections.init(&table, b)

	ca := &conn{gfd: gfd.FromFd(7), loop: a}
	a.connections.addConn(ca, 0)
	if got := a.connections.getConn(7); got != ca {
		t.Fatalf("a's fd 7: %p, want %p", got, ca)
	}
	if got := b.connections.getConn(7); got != nil {
		t.Fatalf("b finds a's connection: %p", got)
	}

	// a closes fd 7 and b is given it: b's connection is in the slot, a's
	// stale lookups see nothing and a's late delConn leaves b's in place.
	a.connections.delConn(ca)
	cb := &conn{gfd: gfd.FromFd(7), loop: b}
	b.connections.addConn(cb, 1)
	if got := a.connections.getConn(7); got != nil {
		t.Fatalf("a finds b's connection on a reused fd: %p", got)
	}
	a.connections.delConn(ca)
	if got := b.connections.getConn(7); got != cb {
		t.Fatalf("b's fd 7 after a's stale delConn: %p, want %p", got, cb)
	}

	far := &conn{gfd: gfd.FromFd(maxTableFDs + 5), loop: a}
	a.connections.addConn(far, 0)
	if got := a.connections.getConn(far.Fd()); got != far {
		t.Fatalf("a far fd: %p, want %p", got, far)
	}
	if got := b.connections.getConn(far.Fd()); got != nil {
		t.Fatalf("b finds a's far fd: %p", got)
	}

	var seen []*conn
	a.connections.iterate(func(c *conn) bool { seen = append(seen, c); return true })
	if len(seen) != 1 || seen[0] != far {
		t.Fatalf("a iterates %v, want only its far connection", seen)
	}
	if n := a.connections.loadCount(); n != 1 {
		t.Fatalf("a counts %d connections, want 1", n)
	}
	a.connections.delConn(far)
	if got := a.connections.getConn(far.Fd()); got != nil {
		t.Fatalf("a's far fd after delConn: %p", got)
	}
	if got := a.connections.getConn(-1); got != nil {
		t.Fatalf("fd -1: %p", got)
	}
}
