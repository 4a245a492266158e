package fanout

import (
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/rtd-project/rtd/hub"
)

// gatedBroker is a bus whose Publish waits until gate is closed.
type gatedBroker struct {
	gate chan struct{}
	n    atomic.Uint64
}

func (b *gatedBroker) Publish(string, *hub.Publication) (hub.Position, error) {
	<-b.gate
	return hub.Position{Offset: b.n.Add(1), Epoch: "e"}, nil
}

func (b *gatedBroker) Subscribe(string, func(hub.BrokerMessage)) (hub.BrokerSubscription, error) {
	return noSubscription{}, nil
}

func (b *gatedBroker) Read(string, uint64) (hub.BrokerRead, error) {
	return hub.BrokerRead{Epoch: "e"}, nil
}

func (b *gatedBroker) OnReconnect(func()) {}
func (b *gatedBroker) Healthy() bool      { return true }

type noSubscription struct{}

func (noSubscription) Unsubscribe() {}

// TestAnonymousSocketsQueueApart: anonymous /ws connections share one
// session until one needs state of its own; the queue of publications
// waiting for the bus is a connection's own, so one anonymous client that
// fills its queue does not get another's publications refused.
func TestAnonymousSocketsQueueApart(t *testing.T) {
	b := &gatedBroker{gate: make(chan struct{})}
	addr := tierServer(t, Options{Namespaces: []Namespace{{Pattern: "chat:*", ClientPublish: true, Anonymous: true}}},
		hub.Options{Broker: b})
	a, _ := dialWS(t, addr, "", nil)
	c, _ := dialWS(t, addr, "", nil)

	// a fills its queue: the bus holds the first publication, the queue
	// the next maxBusJobs, the rest are refused at once.
	const sent = maxBusJobs + 3
	for i := range sent {
		a.write(`{"id":` + strconv.Itoa(i+1) + `,"op":"publish","channel":"chat:a","data":1}`)
	}
	refused := 0
	for refused == 0 {
		if r := a.read(); errCode(r) == CodeLimitExceeded {
			refused++
		} else {
			t.Fatalf("a publication answered before the bus took any: %v", r)
		}
	}

	// c's publication is queued, not refused: its pong (answered at once,
	// after the publish command was handled) comes first.
	c.write(`{"id":1,"op":"publish","channel":"chat:c","data":1}`)
	c.write(`{"id":2,"op":"ping"}`)
	if r := c.read(); r["id"] != 2.0 {
		t.Fatalf("c's first reply: %v, want the pong (its publication waiting for the bus)", r)
	}
	close(b.gate)
	if r := c.read(); r["id"] != 1.0 || r["ok"] != true {
		t.Fatalf("c's publication: %v", r)
	}
	for ok := 0; ok+refused < sent; {
		switch r := a.read(); {
		case r["ok"] == true:
			ok++
		case errCode(r) == CodeLimitExceeded:
			refused++
		default:
			t.Fatalf("a's reply: %v", r)
		}
	}
}

func (w *wsConn) write(cmd string) {
	w.t.Helper()
	if err := w.c.WriteMessage(websocket.TextMessage, []byte(cmd)); err != nil {
		w.t.Fatal(err)
	}
}
