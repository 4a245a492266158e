package main

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/rtd-project/rtd/internal/nodeclient"
)

// nextLine reads the next JSON line a node client printed.
func nextLine(t *testing.T, ctx context.Context, p *nodeclient.Process) nodeclient.Line {
	t.Helper()
	s, err := p.Next(ctx)
	if err != nil {
		t.Fatalf("%v", err)
	}
	ls, err := nodeclient.ParseLines([]string{s})
	if err != nil {
		t.Fatal(err)
	}
	return ls[0]
}

// TestE2ENodeClients: npm ws (channel protocol) and npm eventsource receive
// what a backend publishes over /api/publish.
func TestE2ENodeClients(t *testing.T) {
	d := startDaemon(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ws, err := nodeclient.Start(ctx, "ws-client.mjs", "ws://"+d.addr+"/ws", "--send", `{"id":1,"op":"subscribe","channel":"live"}`, "--count", "4", "--timeout", "20000")
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Stop()
	es, err := nodeclient.Start(ctx, "sse-client.mjs", d.url("/sse?channel=live"), "--count", "3", "--events", "upd", "--timeout", "20000")
	if err != nil {
		t.Fatal(err)
	}
	defer es.Stop()
	if l := nextLine(t, ctx, ws); l.Type != "open" {
		t.Fatalf("ws: %+v", l)
	}
	var reply struct {
		ID int
		OK bool
	}
	if l := nextLine(t, ctx, ws); l.Type != "message" || json.Unmarshal([]byte(l.Data), &reply) != nil || reply.ID != 1 || !reply.OK {
		t.Fatalf("ws subscribe reply: %+v", l)
	}
	if l := nextLine(t, ctx, es); l.Type != "open" {
		t.Fatalf("eventsource: %+v", l)
	}
	for i := 1; i <= 3; i++ {
		if code, out := d.api(t, "POST", "/api/publish", "", fmt.Sprintf(`{"channel":"live","event":"upd","data":{"n":%d}}`, i)); code != 200 {
			t.Fatalf("publish: %d %v", code, out)
		}
	}
	for i := 1; i <= 3; i++ {
		l := nextLine(t, ctx, ws)
		var p struct {
			Channel string
			Offset  int
			Event   string
			Data    struct{ N int }
		}
		if l.Type != "message" || json.Unmarshal([]byte(l.Data), &p) != nil || p.Channel != "live" || p.Offset != i || p.Event != "upd" || p.Data.N != i {
			t.Fatalf("ws push %d: %+v", i, l)
		}
	}
	for i := 1; i <= 3; i++ {
		l := nextLine(t, ctx, es)
		if l.Type != "event" || l.Event != "upd" || l.Data != fmt.Sprintf(`{"n":%d}`, i) || l.ID == "" {
			t.Fatalf("eventsource event %d: %+v", i, l)
		}
	}
}
