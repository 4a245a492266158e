package fanout_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/rtd-project/rtd/fanout"
	"github.com/rtd-project/rtd/server"
)

// TestAPIKeyCheckedBeforeBody: a publish sent with "Expect: 100-continue" and a wrong API key
// is answered 401 at once, without "100 Continue" asking for the body first.
func TestAPIKeyCheckedBeforeBody(t *testing.T) {
	srv, err := server.New(server.Options{Addr: "127.0.0.1:0", Encoder: fanout.Encoder{}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fanout.Mount(srv, fanout.Options{APIKey: "secret"}); err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go func() { _ = srv.Run(ctx) }()
	<-srv.Ready()

	c, err := net.DialTimeout("tcp", srv.Addr(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	_, _ = fmt.Fprintf(c, "POST /api/publish HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer wrong\r\nExpect: 100-continue\r\nContent-Length: 1048576\r\n\r\n")
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "HTTP/1.1 401 ") {
		t.Fatalf("first line %q, %v; want a 401 before any body", line, err)
	}
}
