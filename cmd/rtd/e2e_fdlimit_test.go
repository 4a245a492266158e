package main

import (
	"bufio"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestE2EConnectionBurstAtTheFileLimit: rtd under an open-files limit of
// 600 takes a burst of 1,000 simultaneous connections. gnet stops the whole
// engine when accept runs out of descriptors, so rtd keeps the accept queue
// and MaxConns below the limit: the burst is refused in part (503, reset or
// SYN dropped) and rtd keeps serving, before and after the burst ends.
func TestE2EConnectionBurstAtTheFileLimit(t *testing.T) {
	d := runDaemon(t, exec.Command("sh", "-c", "ulimit -n 600 && exec \"$0\" serve --addr 127.0.0.1:0 --log-level info", rtdBinary))
	const burst = 1000
	conns := make(chan net.Conn, burst)
	var wg sync.WaitGroup
	for range burst {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.DialTimeout("tcp", d.addr, 3*time.Second)
			if err != nil {
				return // refused, or its SYN dropped while the queue was full
			}
			_ = c.SetDeadline(time.Now().Add(10 * time.Second))
			fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
			conns <- c
		}()
	}
	wg.Wait()
	close(conns)
	served, refused := 0, 0
	var held []net.Conn
	for c := range conns {
		line, err := bufio.NewReader(c).ReadString('\n')
		switch {
		case strings.HasPrefix(line, "HTTP/1.1 200"):
			served++
			held = append(held, c) // kept open: keep-alive
		case strings.HasPrefix(line, "HTTP/1.1 503") || err != nil:
			refused++
			c.Close()
		default:
			t.Fatalf("unexpected answer %q", line)
		}
	}
	t.Logf("burst of %d: %d served and held, %d refused or reset", burst, served, refused)
	if served == 0 || served >= burst {
		t.Fatalf("%d of %d served: the limit did not apply", served, burst)
	}
	for _, c := range held {
		c.Close()
	}
	// Serving again once the held connections are gone.
	deadline := time.Now().Add(15 * time.Second)
	for {
		code, _ := d.api(t, "GET", "/api/stats", "", "")
		if code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("rtd does not serve after the burst (last status %d)", code)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
