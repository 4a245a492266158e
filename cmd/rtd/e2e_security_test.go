package main

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// securedToken signs a token for sub with the given extra claims.
func securedToken(t *testing.T, sub string, extra jwt.MapClaims) string {
	t.Helper()
	c := jwt.MapClaims{"sub": sub, "channels": []string{"news"}, "exp": time.Now().Add(time.Hour).Unix()}
	for k, v := range extra {
		c[k] = v
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString([]byte(testSecret))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestE2EHostileInput runs `rtd serve` as a new user would secure it (a JWT
// key with audience and issuer, an API key, anonymous clients allowed, a cap
// on channels with history) and tries each of issue 13's hostile inputs.
func TestE2EHostileInput(t *testing.T) {
	file := filepath.Join(t.TempDir(), "rtd.yaml")
	// "news" in a namespace closed to anonymous clients (--allow-anonymous
	// admits them to channels in no namespace).
	os.WriteFile(file, []byte("max-history-channels: 2\njwt-issuer: https://id.example\nnamespaces:\n  - pattern: news\n"), 0o600)
	cmd := exec.Command(rtdBinary, "serve", "--addr", "127.0.0.1:0", "--config", file,
		"--jwt-secret", testSecret, "--allow-anonymous", "--api-key", "k3y")
	cmd.Env = append(os.Environ(), "RTD_JWT_AUDIENCE=rtd")
	d := runDaemon(t, cmd)
	good := securedToken(t, "alice", jwt.MapClaims{"aud": "rtd", "iss": "https://id.example"})

	t.Run("jwt audience and issuer", func(t *testing.T) {
		for name, tok := range map[string]string{
			"other audience": securedToken(t, "alice", jwt.MapClaims{"aud": "billing", "iss": "https://id.example"}),
			"no audience":    securedToken(t, "alice", jwt.MapClaims{"iss": "https://id.example"}),
			"other issuer":   securedToken(t, "alice", jwt.MapClaims{"aud": "rtd", "iss": "https://evil.example"}),
		} {
			if got := dialStatus(d, "?token="+tok, nil); got != 401 {
				t.Errorf("%s: %d, want 401", name, got)
			}
		}
		if got := dialStatus(d, "?token="+good, nil); got != 101 {
			t.Errorf("good token: %d, want 101", got)
		}
	})

	t.Run("cross-site cookie", func(t *testing.T) {
		h := http.Header{"Cookie": {"rtd_token=" + good}, "Origin": {"https://evil.example"}}
		if got := dialStatus(d, "", h); got != 403 {
			t.Errorf("/ws from another site with the cookie: %d, want 403", got)
		}
		h.Set("Origin", "http://"+d.addr)
		if got := dialStatus(d, "", h); got != 101 {
			t.Errorf("/ws from the own site with the cookie: %d, want 101", got)
		}
		req, _ := http.NewRequest("GET", d.url("/sse?channel=news"), nil)
		req.Header.Set("Origin", "https://evil.example")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 403 || resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("/sse from another site: %d %v, want 403 without CORS", resp.StatusCode, resp.Header)
		}
	})

	t.Run("anonymous refresh", func(t *testing.T) {
		ws := dialWS(t, d, "")
		r := ws.call(`{"id":1,"op":"refresh","token":"` + good + `"}`)
		if e, _ := r["error"].(map[string]any); e == nil || e["code"] != 109.0 {
			t.Fatalf("anonymous refresh to alice: %v, want error 109", r)
		}
		if r := ws.call(`{"id":2,"op":"subscribe","channel":"news"}`); r["ok"] == true {
			t.Fatalf("subscribed to alice's channel after a refused refresh: %v", r)
		}
	})

	t.Run("metrics need the key", func(t *testing.T) {
		resp, err := http.Get(d.url("/metrics"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Errorf("/metrics without the key: %d, want 401", resp.StatusCode)
		}
		if m := scrape(t, d, "k3y"); m["rtd_history_channels"] != 0 {
			t.Errorf("/metrics with the key: %v", m)
		}
	})

	t.Run("event names and channel paths", func(t *testing.T) {
		if code, out := d.api(t, "POST", "/api/publish", "k3y", `{"channel":"news","event":"x\r\ndata: injected","data":1}`); code != 400 {
			t.Errorf("publish with CR/LF in the event: %d %v, want 400", code, out)
		}
		if code, out := d.api(t, "POST", "/api/publish", "k3y", `{"channel":"room 1","data":"hi"}`); code != 200 {
			t.Fatalf("publish to room 1: %d %v", code, out)
		}
		_, hist := d.api(t, "GET", "/api/history/room%201", "k3y", "")
		if pubs, _ := hist["publications"].([]any); hist["channel"] != "room 1" || len(pubs) != 1 {
			t.Errorf("/api/history/room%%201: %v", hist)
		}
	})

	t.Run("channels with history are capped", func(t *testing.T) {
		// "room 1" holds one place; one more channel fills the cap.
		if code, out := d.api(t, "POST", "/api/publish", "k3y", `{"channel":"c1","data":1}`); code != 200 {
			t.Fatalf("second channel: %d %v", code, out)
		}
		code, out := d.api(t, "POST", "/api/publish", "k3y", `{"channel":"c2","data":1}`)
		if code != 429 || !strings.Contains(out["error"].(string), "too many channels with history") {
			t.Fatalf("third channel: %d %v, want 429", code, out)
		}
		if got := scrape(t, d, "k3y")["rtd_history_channels_refused_total"]; got != 1 {
			t.Errorf("rtd_history_channels_refused_total = %v, want 1", got)
		}
	})
}
