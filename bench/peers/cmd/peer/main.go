// Command peer runs one of the peer servers that rtd bench compares rtd with:
//
//	go run ./bench/peers/cmd/peer --kind gorilla|gws|nbio --addr :9001
//
// Every kind serves the endpoints the bench scenarios use: GET /ws (JSON
// subscribe command, publications pushed as {"channel","offset","epoch","data"}),
// GET /sse?channel=, POST /api/publish (one publication or a batch), GET
// /api/stats and GET /echo (WebSocket echo). They keep no history and check no
// credentials: they are the fan-out core only.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/rtd-project/rtd/bench/peers/gorillapeer"
	"github.com/rtd-project/rtd/bench/peers/gwspeer"
	"github.com/rtd-project/rtd/bench/peers/internal/hub"
	"github.com/rtd-project/rtd/bench/peers/nbiopeer"
)

func main() {
	kind := flag.String("kind", "gorilla", "gorilla (goroutines per connection), gws (gws broadcaster) or nbio (epoll engine)")
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
	case "nbio":
		fmt.Fprintf(os.Stderr, "peer nbio listening on %s\n", addr)
		return nbiopeer.Run(ctx, addr, h)
	default:
		return fmt.Errorf("unknown --kind %q (want gorilla, gws or nbio)", kind)
	}
	srv := &http.Server{Addr: addr, Handler: handler}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	fmt.Fprintf(os.Stderr, "peer %s listening on %s\n", kind, addr)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
