package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/rtd-project/rtd/internal/natstest"
)

// TestE2EClusterAPI: on three nodes of one NATS server, /api/send,
// /api/broadcast and /api/disconnect called on node A act on the connections
// of every node (A's answer counts its own and says "relayed"), and A acts
// once, not again when its relay comes back; with NATS down they answer 503:
// send and broadcast having sent nothing, disconnect having closed this
// node's connections.
func TestE2EClusterAPI(t *testing.T) {
	ns, nodes, _ := startCluster(t, t.TempDir(), 3, "--jwt-secret", testSecret)
	a, b, c := nodes[0], nodes[1], nodes[2]
	dial := func(d *daemon, user string) *wsClient {
		t.Helper()
		w := dialWS(t, d, "?token="+token(t, testSecret, user, time.Hour, nil, nil))
		w.c.SetReadDeadline(time.Now().Add(10 * time.Second))
		// Answered: the connection is in the node's hub.
		if r := w.call(`{"id":1,"op":"ping"}`); r["op"] != "pong" {
			t.Fatalf("ping: %v", r)
		}
		return w
	}
	alices := []*wsClient{dial(a, "alice"), dial(b, "alice"), dial(c, "alice")}
	bob, carol := dial(c, "bob"), dial(a, "carol")

	if code, out := a.api(t, "POST", "/api/send", "", `{"user":"alice","event":"dm","data":{"n":1}}`); code != 200 || out["sent"] != 1.0 || out["relayed"] != true {
		t.Fatalf("send to alice: %d %v", code, out)
	}
	if code, out := a.api(t, "POST", "/api/broadcast", "", `{"event":"notice","data":{"all":true}}`); code != 200 || out["ok"] != true || out["relayed"] != true {
		t.Fatalf("broadcast: %d %v", code, out)
	}
	// Each of alice's connections gets the message once, then the
	// broadcast; bob and carol only the broadcast.
	for i, w := range alices {
		if m := w.read(); m["event"] != "dm" || fmt.Sprint(m["data"]) != "map[n:1]" {
			t.Fatalf("alice on node %d: %v, want the direct message", i, m)
		}
		if m := w.read(); m["event"] != "notice" {
			t.Fatalf("alice on node %d: %v, want the broadcast", i, m)
		}
	}
	for name, w := range map[string]*wsClient{"bob": bob, "carol": carol} {
		if m := w.read(); m["event"] != "notice" {
			t.Fatalf("%s: %v, want the broadcast", name, m)
		}
	}

	if code, out := a.api(t, "POST", "/api/disconnect", "", `{"user":"alice"}`); code != 200 || out["disconnected"] != 1.0 || out["relayed"] != true {
		t.Fatalf("disconnect alice: %d %v", code, out)
	}
	for i, w := range alices {
		if _, m, err := w.c.ReadMessage(); !websocket.IsCloseError(err, websocket.ClosePolicyViolation) {
			t.Fatalf("alice on node %d: %q %v, want closed with 1008", i, m, err)
		}
	}
	if r := bob.call(`{"id":2,"op":"ping"}`); r["op"] != "pong" {
		t.Fatalf("bob after alice's disconnect: %v", r)
	}

	// NATS away: nothing is sent (carol's next frame is her close), and
	// disconnect closes this node's connections and says it went no further.
	natstest.Stop(ns)
	waitReady(t, a, 503)
	for path, body := range map[string]string{"/api/send": `{"user":"carol","data":1}`, "/api/broadcast": `{"data":2}`} {
		if code, out := a.api(t, "POST", path, "", body); code != 503 || out["error"] != "broker unavailable: nothing was sent, retry later" {
			t.Fatalf("%s with NATS down: %d %v", path, code, out)
		}
	}
	if code, out := a.api(t, "POST", "/api/disconnect", "", `{"user":"carol"}`); code != 503 || out["disconnected"] != 1.0 || out["relayed"] != false {
		t.Fatalf("disconnect with NATS down: %d %v", code, out)
	}
	if _, m, err := carol.c.ReadMessage(); !websocket.IsCloseError(err, websocket.ClosePolicyViolation) {
		t.Fatalf("carol: %q %v, want closed with 1008 and nothing before", m, err)
	}
}
