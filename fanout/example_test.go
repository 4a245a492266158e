package fanout_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/rtd-project/rtd/fanout"
	"github.com/rtd-project/rtd/hub"
	"github.com/rtd-project/rtd/server"
)

// The fan-out tier mounted on an embedded server: a backend publishes over
// /api/publish and reads the channel's history back. With no API key the API
// answers loopback clients only.
func ExampleMount() {
	tierOpts := fanout.Options{Namespaces: []fanout.Namespace{{Pattern: "news", HistorySize: 10}}}
	// The namespaces reach the hub through the tier's ChannelOptions.
	srv, err := server.New(server.Options{Addr: "127.0.0.1:0", Encoder: fanout.Encoder{}, Hub: hub.Options{ChannelOptions: tierOpts.ChannelOptions}})
	if err != nil {
		fmt.Println(err)
		return
	}
	if _, err := fanout.Mount(srv, tierOpts); err != nil {
		fmt.Println(err)
		return
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go func() { _ = srv.Run(ctx) }()
	<-srv.Ready()
	base := "http://" + srv.Addr()

	resp, err := http.Post(base+"/api/publish", "application/json", strings.NewReader(`{"channel":"news","data":{"title":"hello"}}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	var pub struct {
		Offset uint64 `json:"offset"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&pub)
	resp.Body.Close()
	fmt.Println("published at offset", pub.Offset)

	resp, err = http.Get(base + "/api/history/news")
	if err != nil {
		fmt.Println(err)
		return
	}
	var hist struct {
		Publications []struct {
			Data json.RawMessage `json:"data"`
		} `json:"publications"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&hist)
	resp.Body.Close()
	for _, p := range hist.Publications {
		fmt.Println("history:", string(p.Data))
	}
	// Output:
	// published at offset 1
	// history: {"title":"hello"}
}
