package main

import (
	"bytes"
	"context"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/rtd-project/rtd/fanout"
	"github.com/rtd-project/rtd/hub"
	"github.com/rtd-project/rtd/server"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, ":8080"); err != nil {
		log.Fatal(err)
	}
}

// run serves on addr until ctx ends, then shuts down gracefully.
func run(ctx context.Context, addr string) error {
	tier := fanout.Options{Namespaces: []fanout.Namespace{{Pattern: "room:*", HistorySize: 100}}}
	srv, err := server.New(server.Options{Addr: addr, Encoder: fanout.Encoder{}, Hub: hub.Options{ChannelOptions: tier.ChannelOptions}})
	if err != nil {
		return err
	}
	if err := routes(ctx, srv, tier); err != nil {
		return err
	}
	return srv.Run(ctx)
}

// routes mounts the tier, then the service's own route.
func routes(ctx context.Context, srv *server.Server, tier fanout.Options) error {
	t, err := fanout.Mount(srv, tier)
	if err != nil {
		return err
	}
	go t.Run(ctx) // closes connections whose token expired
	return srv.WebSocket("/rooms/:room", server.WSHandler{
		OnOpen: func(s *server.Socket) {
			if _, err := s.Subscribe("room:"+s.Request().Param("room"), nil); err != nil {
				_ = s.Close(1011, "cannot join the room")
			}
		},
		OnMessage: func(s *server.Socket, m server.Message) {
			p := hub.Publication{Event: "msg", Data: bytes.Clone(m.Data)} // m.Data dies with the callback
			if _, err := srv.Hub().Publish("room:"+s.Request().Param("room"), p); err != nil {
				_ = s.SendText(`{"error":"not delivered"}`)
			}
		},
	}, server.WSOptions{}) // pings every 25s, dead peers closed after 60s, slow clients closed (1013)
}
