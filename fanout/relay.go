package fanout

import (
	"encoding/json"

	"github.com/rtd-project/rtd/server"
)

// With a cluster, the server API's operations on connections (disconnect,
// send, broadcast) are relayed: the node that got the request acts on its
// own connections and hands the operation (JSON, a relayOp) to every other
// node through Cluster.Relay; each of them checks it and runs the same local
// code. Nothing waits for the other nodes' counts, and nothing is stored: a
// node cut off from the bus while an operation travels misses it.

// Relayed operations.
const (
	opDisconnect = "disconnect"
	opSend       = "send"
	opBroadcast  = "broadcast"
)

// relayOp is an operation relayed to the other nodes.
type relayOp struct {
	Op     string          `json:"op"`
	User   string          `json:"user,omitempty"`
	Client string          `json:"client,omitempty"`
	Event  string          `json:"event,omitempty"`
	Data   json.RawMessage `json:"data,omitempty"`
}

// relay hands op to the other nodes.
func (t *Tier) relay(op *relayOp) error {
	b, err := json.Marshal(op)
	if err != nil {
		return err
	}
	return t.o.Cluster.Relay(b)
}

// relayDirect relays a send or broadcast when there is a cluster, and
// reports whether it did.
func (t *Tier) relayDirect(kind string, m *directMessage) (bool, error) {
	if t.o.Cluster == nil {
		return false, nil
	}
	return true, t.relay(&relayOp{Op: kind, User: m.User, Client: m.Client, Event: m.Event, Data: m.Data})
}

// applyRelayed runs an operation another node relayed, after the checks
// its API request passed there; anything else is dropped. It runs on the
// Cluster's goroutine: the server's Disconnect and the hub's sends only post
// to the event loops, and are safe from any goroutine.
func (t *Tier) applyRelayed(b []byte) {
	var op relayOp
	if json.Unmarshal(b, &op) != nil {
		return
	}
	one := (op.User == "") != (op.Client == "")
	m := directMessage{User: op.User, Client: op.Client, Event: op.Event, Data: op.Data}
	switch op.Op {
	case opDisconnect:
		if one {
			t.disconnect(op.User, op.Client)
		}
	case opSend:
		if one && m.check() == "" {
			t.send(&m)
		}
	case opBroadcast:
		if op.User == "" && op.Client == "" && m.check() == "" {
			_ = t.broadcast(&m)
		}
	}
}

// writeRelayFailed answers 503 when an operation could not be relayed: msg
// says what was done, and fields add to the answer.
func writeRelayFailed(w *server.ResponseWriter, msg string, fields map[string]any) {
	w.WriteHeader(503)
	w.SetHeader("Content-Type", "application/json")
	w.SetHeader("Retry-After", "1")
	v := map[string]any{"error": msg}
	for k, f := range fields {
		v[k] = f
	}
	b, _ := json.Marshal(v)
	_, _ = w.Write(append(b, '\n'))
}
