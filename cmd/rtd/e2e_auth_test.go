package main

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/gorilla/websocket"
)

const testSecret = "an-hs256-secret-of-at-least-32-bytes!"

func token(t *testing.T, secret, sub string, ttl time.Duration, channels, publish []string) string {
	t.Helper()
	claims := jwt.MapClaims{"sub": sub, "channels": channels, "publish": publish}
	if ttl != 0 {
		claims["exp"] = time.Now().Add(ttl).Unix()
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// dialStatus dials /ws with header and answers the handshake status (0 when
// there was no HTTP answer).
func dialStatus(d *daemon, query string, header http.Header) int {
	c, resp, err := websocket.DefaultDialer.Dial("ws://"+d.addr+"/ws"+query, header)
	if err == nil {
		c.Close()
		return 101
	}
	if resp == nil {
		return 0
	}
	return resp.StatusCode
}

func TestE2EAuth(t *testing.T) {
	d := startDaemon(t, "--jwt-secret", testSecret)
	good := token(t, testSecret, "alice", time.Hour, []string{"news", "chat:*"}, []string{"chat:*"})

	t.Run("refused before the upgrade", func(t *testing.T) {
		none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." +
			base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"alice","channels":["*"]}`)) + "."
		for name, q := range map[string]string{
			"no token":     "",
			"forged":       "?token=" + token(t, "another-secret-another-secret-123", "alice", time.Hour, []string{"*"}, nil),
			"alg none":     "?token=" + none,
			"expired":      "?token=" + token(t, testSecret, "alice", -time.Minute, []string{"*"}, nil),
			"garbage":      "?token=abc.def.ghi",
			"wrong scheme": "?token=" + strings.Replace(good, ".", "!", 1),
		} {
			if got := dialStatus(d, q, nil); got != 401 {
				t.Errorf("%s: status %d, want 401", name, got)
			}
		}
		if got := dialStatus(d, "?token="+good, nil); got != 101 {
			t.Fatalf("good token: %d", got)
		}
	})

	t.Run("claims decide subscribe and publish", func(t *testing.T) {
		ws := dialWS(t, d, "?token="+good)
		for cmd, want := range map[string]string{
			`{"id":1,"op":"subscribe","channel":"news"}`:             "ok",
			`{"id":2,"op":"subscribe","channel":"chat:7"}`:           "ok",
			`{"id":3,"op":"subscribe","channel":"user:alice"}`:       "ok",
			`{"id":4,"op":"subscribe","channel":"user:bob"}`:         "103",
			`{"id":5,"op":"subscribe","channel":"secret"}`:           "103",
			`{"id":6,"op":"publish","channel":"news","data":1}`:      "103",
			`{"id":7,"op":"publish","channel":"chat:7","data":"hi"}`: "ok",
			`{"id":8,"op":"refresh","token":"not-a-token"}`:          "109",
		} {
			r := ws.call(cmd)
			// The publish on chat:7 is also pushed to this subscriber:
			// skip pushes until the reply.
			for r["id"] == nil {
				r = ws.read()
			}
			got := "ok"
			if e, ok := r["error"].(map[string]any); ok {
				got = fmt.Sprint(e["code"])
			}
			if got != want {
				t.Errorf("%s: %v, want %s", cmd, r, want)
			}
		}
	})

	t.Run("sse refused without the claim", func(t *testing.T) {
		for q, want := range map[string]int{
			"/sse?channel=secret&token=" + good: 403,
			"/sse?channel=news":                 401,
			"/sse?channel=news&token=" + good:   200,
		} {
			resp, err := http.Get(d.url(q))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != want {
				t.Errorf("%s: %d, want %d", q, resp.StatusCode, want)
			}
		}
	})

	t.Run("expired token disconnects", func(t *testing.T) {
		ws := dialWS(t, d, "?token="+token(t, testSecret, "carol", 2*time.Second, []string{"news"}, nil))
		ws.call(`{"id":1,"op":"subscribe","channel":"news"}`)
		start := time.Now()
		for {
			_, _, err := ws.c.ReadMessage()
			if err == nil {
				continue // a publication from another subtest
			}
			if !websocket.IsCloseError(err, 3000) {
				t.Fatalf("after expiry: %v, want close 3000", err)
			}
			break
		}
		if time.Since(start) > 6*time.Second {
			t.Fatalf("closed %v after subscribing, the token lived 2s", time.Since(start))
		}
	})

	t.Run("refresh keeps the connection", func(t *testing.T) {
		ws := dialWS(t, d, "?token="+token(t, testSecret, "dave", 2*time.Second, []string{"news"}, nil))
		r := ws.call(`{"id":1,"op":"refresh","token":"` + token(t, testSecret, "dave", time.Hour, []string{"news"}, nil) + `"}`)
		if r["ok"] != true {
			t.Fatalf("refresh: %v", r)
		}
		other := ws.call(`{"id":2,"op":"refresh","token":"` + token(t, testSecret, "eve", time.Hour, nil, nil) + `"}`)
		if e, _ := other["error"].(map[string]any); e == nil || e["code"] != 109.0 {
			t.Fatalf("refresh with another user's token: %v", other)
		}
		// Past the first token's expiry (and the 1 s check period) the
		// connection must still answer.
		time.Sleep(time.Until(time.Now().Add(3500 * time.Millisecond)))
		if r := ws.call(`{"op":"ping"}`); r["op"] != "pong" {
			t.Fatalf("after the old token's expiry: %v", r)
		}
	})
}

// TestE2EUserLimitEvictOldest: with user-limit-policy evict-oldest a user at
// max-conns-per-user who connects again is let in, and the oldest of their
// connections is closed with 1008.
func TestE2EUserLimitEvictOldest(t *testing.T) {
	file := filepath.Join(t.TempDir(), "rtd.yaml")
	os.WriteFile(file, []byte("max-conns-per-user: 1\n"), 0o600)
	d := startDaemon(t, "--config", file, "--jwt-secret", testSecret, "--user-limit-policy", "evict-oldest")
	q := "?token=" + token(t, testSecret, "alice", time.Hour, []string{"news"}, nil)
	first := dialWS(t, d, q)
	if r := first.call(`{"op":"ping"}`); r["op"] != "pong" {
		t.Fatalf("first connection: %v", r)
	}
	second := dialWS(t, d, q)
	_, _, err := first.c.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != 1008 || ce.Text != "too many connections for user" {
		t.Fatalf("the oldest connection: %v, want close 1008", err)
	}
	if r := second.call(`{"op":"ping"}`); r["op"] != "pong" {
		t.Fatalf("the newest connection: %v", r)
	}
}
