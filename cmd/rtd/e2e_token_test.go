package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// mintToken runs the rtd binary's `rtd token` as a user would.
func mintToken(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(rtdBinary, append([]string{"token", "--jwt-secret", testSecret}, args...)...).Output()
	if err != nil {
		t.Fatalf("rtd token %v: %v", args, err)
	}
	return strings.TrimSpace(string(out))
}

// sseRefusal opens /sse with path and header and answers the status and the
// JSON body of a refusal (nil for a stream).
func sseRefusal(t *testing.T, d *daemon, path string, header http.Header) (int, map[string]string) {
	t.Helper()
	req, _ := http.NewRequest("GET", d.url(path), nil)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == 200 {
		return 200, nil
	}
	b, _ := io.ReadAll(resp.Body)
	var body map[string]string
	if err := json.Unmarshal(b, &body); err != nil {
		t.Fatalf("%s: %d body %q not JSON", path, resp.StatusCode, b)
	}
	return resp.StatusCode, body
}

// TestE2ETokenTravelsAndRefusalsSayWhy: a token from `rtd token` opens /sse
// in each of the three places the README names (?token=, Authorization:
// Bearer, the rtd_token cookie); refusals are 401/403 whose body names the
// channel and the reason; --allow-anonymous admits anonymous clients to the
// default namespace (it used to answer 403 on every channel), not to a
// namespace without anonymous: true, nor to personal channels.
func TestE2ETokenTravelsAndRefusalsSayWhy(t *testing.T) {
	file := filepath.Join(t.TempDir(), "rtd.yaml")
	os.WriteFile(file, []byte("namespaces:\n  - pattern: \"chat:*\"\n  - pattern: \"user:*\"\n    personal: true\n"), 0o600)
	d := startDaemon(t, "--jwt-secret", testSecret, "--allow-anonymous", "--config", file)
	tok := mintToken(t, "--sub", "alice", "--channels", "news,chat:*", "--publish", "chat:*", "--ttl", "1h")

	for name, c := range map[string]struct {
		path   string
		header http.Header
	}{
		"query":  {"/sse?channel=chat:1&token=" + tok, nil},
		"bearer": {"/sse?channel=chat:1", http.Header{"Authorization": {"Bearer " + tok}}},
		"cookie": {"/sse?channel=chat:1", http.Header{"Cookie": {"rtd_token=" + tok}}},
	} {
		if code, body := sseRefusal(t, d, c.path, c.header); code != 200 {
			t.Errorf("token in %s: %d %v", name, code, body)
		}
	}

	expired := mintToken(t, "--sub", "alice", "--channels", "news", "--ttl", "-1m")
	for name, c := range map[string]struct {
		path    string
		status  int
		want    map[string]string
		wantWS  int
		wsQuery string
	}{
		"channel not in token": {"/sse?channel=secret&token=" + tok, 403,
			map[string]string{"error": "subscribe not permitted", "channel": "secret", "reason": "channel not in token"}, 0, ""},
		"expired": {"/sse?channel=news&token=" + expired, 401,
			map[string]string{"error": "token expired"}, 401, "?token=" + expired},
		"garbage": {"/sse?channel=news&token=abc.def.ghi", 401,
			map[string]string{"error": "invalid token", "reason": "malformed token"}, 401, "?token=abc.def.ghi"},
		"anonymous in a namespace": {"/sse?channel=chat:1", 403,
			map[string]string{"error": "subscribe not permitted", "channel": "chat:1", "reason": "anonymous not allowed in namespace chat:*"}, 0, ""},
		"anonymous personal": {"/sse?channel=user:alice", 403,
			map[string]string{"error": "subscribe not permitted", "channel": "user:alice", "reason": "personal channel: needs a token whose sub it names"}, 0, ""},
		"another user's personal": {"/sse?channel=user:bob&token=" + tok, 403,
			map[string]string{"error": "subscribe not permitted", "channel": "user:bob", "reason": "personal channel of another user"}, 0, ""},
		"anonymous, default namespace": {"/sse?channel=news", 200, nil, 0, ""},
	} {
		code, body := sseRefusal(t, d, c.path, nil)
		if code != c.status || len(body) != len(c.want) {
			t.Errorf("%s: %d %v, want %d %v", name, code, body, c.status, c.want)
			continue
		}
		for k, v := range c.want {
			if body[k] != v {
				t.Errorf("%s: %s = %q, want %q", name, k, body[k], v)
			}
		}
		if c.wantWS != 0 {
			if got := dialStatus(d, c.wsQuery, nil); got != c.wantWS {
				t.Errorf("%s on /ws: %d, want %d", name, got, c.wantWS)
			}
		}
	}

	ws := dialWS(t, d, "?token="+tok)
	r := ws.call(`{"id":1,"op":"subscribe","channel":"secret"}`)
	if e, _ := r["error"].(map[string]any); e == nil || e["code"] != 103.0 || e["message"] != "subscribe not permitted: channel not in token" {
		t.Errorf("/ws subscribe outside the token: %v", r)
	}
	anon := dialWS(t, d, "")
	if r := anon.call(`{"id":1,"op":"subscribe","channel":"news"}`); r["ok"] != true {
		t.Errorf("--allow-anonymous, default namespace on /ws: %v", r)
	}
	r = anon.call(`{"id":2,"op":"publish","channel":"news","data":1}`)
	if e, _ := r["error"].(map[string]any); e == nil || e["code"] != 103.0 || !strings.Contains(e["message"].(string), "anonymous clients publish only in client-publish namespaces") {
		t.Errorf("anonymous publish: %v", r)
	}
}
