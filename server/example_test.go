package server_test

import (
	"context"
	"fmt"

	"github.com/gorilla/websocket"

	"github.com/rtd-project/rtd/hub"
	"github.com/rtd-project/rtd/server"
)

// An embedded fan-out: every WebSocket client of /rooms/:room is subscribed
// to the room's channel in OnOpen, and a publication reaches it as published
// (the default Encoder), framed once for all subscribers. Callbacks run on the event loop; the hub may be
// published to from any goroutine.
func Example() {
	srv, err := server.New(server.Options{Addr: "127.0.0.1:0"})
	if err != nil {
		fmt.Println(err)
		return
	}
	err = srv.WebSocket("/rooms/:room", server.WSHandler{
		OnOpen: func(s *server.Socket) {
			if _, err := s.Subscribe("room:"+s.Request().Param("room"), nil); err != nil {
				s.Close(1011, "subscribe failed")
			}
		},
		OnMessage: func(s *server.Socket, m server.Message) { _ = s.Send(m) }, // echo
	}, server.WSOptions{SlowClientPolicy: server.SlowClientClose})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	ran := make(chan error, 1)
	go func() { ran <- srv.Run(ctx) }()
	<-srv.Ready()

	// The subscription made in OnOpen is in place once the client has the
	// 101 response.
	c, _, err := websocket.DefaultDialer.Dial("ws://"+srv.Addr()+"/rooms/42", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	if _, err := srv.Hub().Publish("room:42", hub.Publication{Data: []byte(`{"text":"hello"}`)}); err != nil {
		fmt.Println(err)
		return
	}
	_, frame, err := c.ReadMessage()
	if err != nil {
		fmt.Println(err)
		return
	}
	// With the default Options.Encoder, the text message is the data as
	// published.
	fmt.Println(string(frame))

	c.Close()
	stop() // graceful shutdown: open sockets get 1001, then Run returns
	fmt.Println(<-ran)
	// Output:
	// {"text":"hello"}
	// <nil>
}
