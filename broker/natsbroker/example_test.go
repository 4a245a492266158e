package natsbroker_test

import (
	"fmt"
	"os"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/rtd-project/rtd/broker/natsbroker"
	"github.com/rtd-project/rtd/hub"
)

// A hub joins the other nodes through NATS by taking the broker in its
// Options; everything else about the hub stays as on a single node.
func ExampleNew() {
	dir, _ := os.MkdirTemp("", "nats")
	defer os.RemoveAll(dir)
	// A NATS server with JetStream, here in-process; in production its own.
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: dir, NoLog: true, NoSigs: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	go ns.Start()
	defer ns.Shutdown()
	if !ns.ReadyForConnections(10 * time.Second) {
		fmt.Println("NATS not ready")
		return
	}

	b, err := natsbroker.New(natsbroker.Options{URL: ns.ClientURL(), HistorySize: 100})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer b.Close()
	h, _ := hub.New(hub.Options{Loops: 1, Deliverer: recorder{}, Encoder: recorder{}, Broker: b})
	defer h.Shutdown()

	s := &sub{c: hub.Client{ID: "c1"}}
	_ = h.Connect(s)
	_, _ = h.Subscribe(s, "news", nil)
	pos, err := h.Publish("news", hub.Publication{Data: []byte(`{"headline":"…"}`)})
	fmt.Println(pos.Offset, err, b.Subject("news"))
	// Output: 1 <nil> rtd.ch.bmV3cw
}
