package server

import (
	"syscall"
	"testing"
)

func TestDefaultMaxConnsFollowsOpenFilesLimit(t *testing.T) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	o := Options{}.withDefaults()
	if want := int(lim.Cur) - reservedFDs; o.MaxConns != want {
		t.Fatalf("default MaxConns = %d, want %d (open-files limit %d less %d)", o.MaxConns, want, lim.Cur, reservedFDs)
	}
	if o.fdHeadroomShort() {
		t.Fatal("the defaults leave too few descriptors")
	}
	if got := (Options{MaxConns: 7}).withDefaults().MaxConns; got != 7 {
		t.Fatalf("MaxConns 7 became %d", got)
	}
	if !(&Options{MaxConns: int(lim.Cur)}).fdHeadroomShort() {
		t.Fatal("MaxConns at the open-files limit not reported short of headroom")
	}
}

// TestPortInUse: a port another socket listens on is refused, as a plain
// listener would refuse it, unless SharePort asks to share it.
func TestPortInUse(t *testing.T) {
	first := startServer(t, Options{Addr: "127.0.0.1:0", SharePort: true}, echoRoutes)
	s, err := New(Options{Addr: first.Addr()})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Run(t.Context()); err == nil {
		t.Fatalf("a second server on %s started", first.Addr())
	}
	shared := startServer(t, Options{Addr: first.Addr(), SharePort: true}, echoRoutes)
	if shared.Addr() != first.Addr() {
		t.Fatalf("sharing server on %s, want %s", shared.Addr(), first.Addr())
	}
}
