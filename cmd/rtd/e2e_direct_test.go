package main

import (
	"testing"
	"time"
)

// TestE2EDirectMessagesAndPresence: /api/send to a user and to one client,
// /api/broadcast to everyone, the presence reply's shape, and replies to
// commands without an id.
func TestE2EDirectMessagesAndPresence(t *testing.T) {
	d := startDaemon(t, "--jwt-secret", testSecret)
	chans := []string{"room"}
	alice1 := dialWS(t, d, "?token="+token(t, testSecret, "alice", time.Hour, chans, nil))
	alice2 := dialWS(t, d, "?token="+token(t, testSecret, "alice", time.Hour, chans, nil))
	bob := dialWS(t, d, "?token="+token(t, testSecret, "bob", time.Hour, chans, nil))
	for _, c := range []*wsClient{alice1, alice2, bob} {
		if r := c.call(`{"id":1,"op":"subscribe","channel":"room"}`); r["ok"] != true {
			t.Fatalf("subscribe: %v", r)
		}
	}

	// Presence: the count of connections, the users as a list, and the
	// connections with their client IDs.
	r := bob.call(`{"id":2,"op":"presence","channel":"room"}`)
	users, _ := r["users"].([]any)
	list, _ := r["list"].([]any)
	if r["clients"] != 3.0 || len(users) != 2 || users[0] != "alice" || users[1] != "bob" || r["user_count"] != 2.0 || len(list) != 3 {
		t.Fatalf("presence reply %v", r)
	}
	_, p := d.api(t, "GET", "/api/presence/room", "", "")
	if p["clients"] != 3.0 || p["user_count"] != 2.0 {
		t.Fatalf("/api/presence %v", p)
	}
	bobID := ""
	for _, e := range p["list"].([]any) {
		if m := e.(map[string]any); m["user"] == "bob" {
			bobID, _ = m["client"].(string)
		}
	}

	// To a user: both of alice's connections, not bob's.
	if code, out := d.api(t, "POST", "/api/send", "", `{"user":"alice","event":"dm","data":{"to":"alice"}}`); code != 200 || out["sent"] != 2.0 {
		t.Fatalf("send to alice: %d %v", code, out)
	}
	// To one client: bob's connection only.
	if code, out := d.api(t, "POST", "/api/send", "", `{"client":"`+bobID+`","data":"just you"}`); code != 200 || out["sent"] != 1.0 {
		t.Fatalf("send to bob's client %q: %d %v", bobID, code, out)
	}
	// To everyone.
	if code, out := d.api(t, "POST", "/api/broadcast", "", `{"event":"notice","data":{"all":true}}`); code != 200 || out["ok"] != true {
		t.Fatalf("broadcast: %d %v", code, out)
	}
	for _, a := range []*wsClient{alice1, alice2} {
		if m := a.read(); m["event"] != "dm" || m["channel"] != nil {
			t.Fatalf("alice's direct message: %v", m)
		}
		if m := a.read(); m["event"] != "notice" {
			t.Fatalf("alice's broadcast: %v", m)
		}
	}
	if m := bob.read(); m["data"] != "just you" {
		t.Fatalf("bob's direct message: %v", m)
	}
	if m := bob.read(); m["event"] != "notice" {
		t.Fatalf("bob's broadcast: %v", m)
	}
	for body, want := range map[string]int{
		`{"data":1}`:                             400, // neither user nor client
		`{"user":"alice","client":"x","data":1}`: 400,
		`{"user":"alice"}`:                       400, // no data
		`not json`:                               400,
	} {
		if code, _ := d.api(t, "POST", "/api/send", "", body); code != want {
			t.Errorf("send %s: %d, want %d", body, code, want)
		}
	}

	// A command without an id gets a reply without an id member; a ping
	// with an id gets its id back.
	if r := bob.call(`{"op":"unsubscribe","channel":"room"}`); r["ok"] != true {
		t.Fatalf("id-less reply %v", r)
	} else if _, has := r["id"]; has {
		t.Fatalf("id-less command answered with an id member: %v", r)
	}
	if r := bob.call(`{"id":"p1","op":"ping"}`); r["op"] != "pong" || r["id"] != "p1" {
		t.Fatalf("ping with an id: %v", r)
	}
}
