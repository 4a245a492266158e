//go:build linux && gc_opt

package gnet

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"
)

type fdReadServer struct {
	BuiltinEventEngine
	eng    Engine
	booted chan struct{}
	opened chan Conn
	closed chan struct{}
}

func (s *fdReadServer) OnBoot(e Engine) Action { s.eng = e; close(s.booted); return None }
func (s *fdReadServer) OnOpen(c Conn) ([]byte, Action) {
	s.opened <- c
	return nil, None
}
func (s *fdReadServer) OnClose(Conn, error) Action { s.closed <- struct{}{}; return None }

// TestGCOptFdWhileCompacting: Fd is in Socket, whose methods gnet
// documents as concurrency-safe. Patch 9 reads it from the GFD, whose
// indexes the gc_opt matrix updates on the loop when it compacts after
// another connection's close: Fd must read only the fd's bytes and the
// matrix write only the indexes' (-race catches either copying the whole
// GFD). Run with -tags gc_opt (make test does).
func TestGCOptFdWhileCompacting(t *testing.T) {
	s := &fdReadServer{booted: make(chan struct{}), opened: make(chan Conn, 64), closed: make(chan struct{}, 64)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	errc := make(chan error, 1)
	go func() { errc <- Run(s, "tcp://"+addr, WithNumEventLoop(1)) }()
	select {
	case <-s.booted:
	case err := <-errc:
		t.Fatal(err)
	}
	defer func() { _ = s.eng.Stop(context.Background()); <-errc }()

	// Several connections, then the one a worker watches: it is last in
	// the matrix, so closing an earlier one moves it (and rewrites its gfd).
	var clients []net.Conn
	for i := 0; i < 9; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		clients = append(clients, c)
		<-s.opened
	}
	hot, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer hot.Close()
	hc := <-s.opened
	want := hc.Fd()

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // a worker reading the fd of a conn it holds
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if got := hc.Fd(); got != want {
				t.Errorf("Fd %d, want %d", got, want)
				return
			}
		}
	}()
	for _, c := range clients {
		c.Close()
		select {
		case <-s.closed:
		case <-time.After(5 * time.Second):
			t.Fatal("a close was not seen")
		}
	}
	close(stop)
	wg.Wait()
}
