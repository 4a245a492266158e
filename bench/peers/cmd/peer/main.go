// Command peer runs one of the peer servers that rtd bench compares rtd with:
//
//	go run ./bench/peers/cmd/peer --kind gorilla|gws|nbio|centrifuge --addr :9001
//
// gorilla, gws and nbio serve the endpoints the bench scenarios use with
// rtd's protocol: GET /ws (JSON subscribe command, publications pushed as
// {"channel","offset","epoch","data"}), GET /sse?channel=, POST /api/publish
// (one publication or a batch), GET /api/stats and GET /echo (WebSocket
// echo). They keep no history and check no credentials: they are the fan-out
// core only. centrifuge is github.com/centrifugal/centrifuge speaking its own
// protocol (rtd bench --protocol centrifuge), with history and recovery; see
// package centrifugepeer.
//
// The server logs "peer KIND listening on ADDR" with the address it bound
// (--addr 127.0.0.1:0 picks a free port).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/rtd-project/rtd/bench/peers/centrifugepeer"
	"github.com/rtd-project/rtd/bench/peers/gorillapeer"
	"github.com/rtd-project/rtd/bench/peers/gwspeer"
	"github.com/rtd-project/rtd/bench/peers/internal/hub"
	"github.com/rtd-project/rtd/bench/peers/nbiopeer"
)

func main() {
	kind := flag.String("kind", "gorilla", "gorilla (goroutines per connection), gws (gws broadcaster), nbio (epoll engine) or centrifuge (centrifugal/centrifuge, its own protocol)")
	addr := flag.String("addr", ":9001", "listen address")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *kind, *addr); err != nil {
		fmt.Fprintln(os.Stderr, "peer:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, kind, addr string) error {
	h := hub.New()
	var handler http.Handler
	switch kind {
	case "gorilla":
		handler = gorillapeer.Handler(h)
	case "gws":
		handler = gwspeer.Handler(h)
	case "centrifuge":
		p, err := centrifugepeer.New()
		if err != nil {
			return err
		}
		defer func() { _ = p.Shutdown(context.Background()) }()
		handler = p.Handler()
	case "nbio":
		fmt.Fprintf(os.Stderr, "peer nbio listening on %s\n", addr)
		return nbiopeer.Run(ctx, addr, h)
	default:
		return fmt.Errorf("unknown --kind %q (want gorilla, gws, nbio or centrifuge)", kind)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: handler}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	fmt.Fprintf(os.Stderr, "peer %s listening on %s\n", kind, ln.Addr())
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
