//go:build linux

package gnet

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// churnServer echoes each line back prefixed with the id the connection
// announced in its first line, reading with Peek/Discard so that the
// per-loop Peek cache is used (lines arrive in two writes).
type churnServer struct {
	BuiltinEventEngine
	eng     Engine
	booted  chan struct{}
	wrongEL atomic.Int64
	opened  atomic.Int64
	closed  atomic.Int64
	mu      sync.Mutex
	ids     map[*conn]string
}

func (s *churnServer) OnBoot(e Engine) Action { s.eng = e; close(s.booted); return None }

func (s *churnServer) OnOpen(c Conn) ([]byte, Action) {
	s.opened.Add(1)
	return nil, None
}

func (s *churnServer) OnClose(c Conn, _ error) Action {
	s.closed.Add(1)
	s.mu.Lock()
	delete(s.ids, c.(*conn))
	s.mu.Unlock()
	return None
}

func (s *churnServer) OnTraffic(c Conn) Action {
	cc := c.(*conn)
	if got := cc.loop.connections.getConn(cc.Fd()); got != cc {
		s.wrongEL.Add(1)
	}
	for {
		buf, _ := c.Peek(-1)
		i := bytes.IndexByte(buf, '\n')
		if i < 0 {
			return None
		}
		line := string(buf[:i])
		_, _ = c.Discard(i + 1)
		s.mu.Lock()
		id, ok := s.ids[cc]
		if !ok {
			s.ids[cc] = line
			id = line
		}
		s.mu.Unlock()
		_, _ = c.Write([]byte(id + ":" + line + "\n"))
	}
}

// TestFDChurnAcrossLoops: many short connections on a 4-loop
// engine, so that fds are reused across loops all the time; every reply
// must come from the connection's own state, and the count must end at 0.
func TestFDChurnAcrossLoops(t *testing.T) {
	for _, reusePort := range []bool{false, true} {
		reusePort := reusePort
		t.Run(fmt.Sprint("reuseport=", reusePort), func(t *testing.T) {
			s := &churnServer{booted: make(chan struct{}), ids: map[*conn]string{}}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			addr := ln.Addr().String()
			ln.Close()
			errc := make(chan error, 1)
			go func() {
				errc <- Run(s, "tcp://"+addr, WithMulticore(true), WithNumEventLoop(4), WithReusePort(reusePort), WithReadBufferCap(64))
			}()
			select {
			case <-s.booted:
			case err := <-errc:
				t.Fatal(err)
			case <-time.After(10 * time.Second):
				t.Fatal("no boot")
			}
			var wg sync.WaitGroup
			var bad atomic.Int64
			var firstErr atomic.Value
			for w := 0; w < 16; w++ {
				wg.Add(1)
				go func(w int) {
					defer wg.Done()
					for i := 0; i < 60; i++ {
						id := fmt.Sprintf("w%d-%d", w, i)
						c, err := net.Dial("tcp", addr)
						if err != nil {
							firstErr.CompareAndSwap(nil, err)
							bad.Add(1)
							return
						}
						_ = c.SetDeadline(time.Now().Add(10 * time.Second))
						br := bufio.NewReader(c)
						for j := 0; j < 3; j++ {
							msg := id
							if j > 0 {
								msg = fmt.Sprintf("%s-msg%d-%s", id, j, string(bytes.Repeat([]byte("x"), 100)))
							}
							half := len(msg) / 2
							_, _ = c.Write([]byte(msg[:half]))
							_, _ = c.Write([]byte(msg[half:] + "\n"))
							line, err := br.ReadString('\n')
							want := id + ":" + msg + "\n"
							if err != nil || line != want {
								firstErr.CompareAndSwap(nil, fmt.Errorf("%s: got %q (%v), want %q", id, line, err, want))
								bad.Add(1)
								break
							}
						}
						c.Close()
					}
				}(w)
			}
			wg.Wait()
			if n := bad.Load(); n > 0 {
				t.Errorf("%d bad exchanges, first: %v", n, firstErr.Load())
			}
			if n := s.wrongEL.Load(); n > 0 {
				t.Errorf("%d traffic events for a conn its loop's table did not hold", n)
			}
			deadline := time.Now().Add(10 * time.Second)
			for s.eng.CountConnections() != 0 && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			if n := s.eng.CountConnections(); n != 0 {
				t.Errorf("CountConnections %d after every client closed (opened %d, closed %d)", n, s.opened.Load(), s.closed.Load())
			}
			_ = s.eng.Stop(context.Background())
			<-errc
		})
	}
}
