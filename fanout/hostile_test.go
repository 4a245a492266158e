package fanout

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/gorilla/websocket"

	"github.com/rtd-project/rtd/auth"
	"github.com/rtd-project/rtd/hub"
	"github.com/rtd-project/rtd/server"
	"github.com/rtd-project/rtd/server/servertest"
)

const testSecret = "an-hs256-secret-of-at-least-32-bytes!"

// tierServer runs a server with the tier mounted on o (hub options ho) on
// the test host until the test ends, and returns its address.
func tierServer(t *testing.T, o Options, ho hub.Options) string {
	t.Helper()
	ho.ChannelOptions = o.ChannelOptions
	h := servertest.Start(t, server.Options{Encoder: Encoder{}, Hub: ho}, func(s *server.Server) error {
		_, err := Mount(s, o)
		return err
	})
	return h.Server.Addr()
}

func verifier(t *testing.T) TokenVerifier {
	t.Helper()
	v, err := auth.NewVerifier(auth.Options{Secret: []byte(testSecret)})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func signToken(t *testing.T, sub string, channels ...string) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": sub, "channels": channels}).SignedString([]byte(testSecret))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// wsConn is a /ws client on gorilla/websocket.
type wsConn struct {
	t *testing.T
	c *websocket.Conn
}

// dialWS opens /ws with header; it answers the handshake's status (101 when
// connected, with the client).
func dialWS(t *testing.T, addr, query string, header http.Header) (*wsConn, int) {
	t.Helper()
	c, resp, err := websocket.DefaultDialer.Dial("ws://"+addr+"/ws"+query, header)
	if err != nil {
		if resp == nil {
			t.Fatalf("dial: %v", err)
		}
		return nil, resp.StatusCode
	}
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	t.Cleanup(func() { c.Close() })
	return &wsConn{t, c}, 101
}

func (w *wsConn) read() map[string]any {
	w.t.Helper()
	_, m, err := w.c.ReadMessage()
	if err != nil {
		w.t.Fatalf("read: %v", err)
	}
	var v map[string]any
	if err := json.Unmarshal(m, &v); err != nil {
		w.t.Fatalf("not JSON: %q", m)
	}
	return v
}

func (w *wsConn) call(cmd string) map[string]any {
	w.t.Helper()
	if err := w.c.WriteMessage(websocket.TextMessage, []byte(cmd)); err != nil {
		w.t.Fatal(err)
	}
	return w.read()
}

// errCode is the error code of a reply, 0 when it is ok.
func errCode(reply map[string]any) int {
	e, _ := reply["error"].(map[string]any)
	code, _ := e["code"].(float64)
	return int(code)
}

func httpDo(t *testing.T, method, url, body string, header ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// sseStatus opens /sse and answers the status (the stream is closed at once).
func sseStatus(t *testing.T, addr, query string, header ...string) int {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+addr+"/sse"+query, nil)
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] != "" {
			req.Header.Set(header[i], header[i+1])
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestCrossSiteRefusedByDefault: with no allowed origins another site's page
// can open neither /ws nor /sse, even with its visitor's rtd_token cookie;
// the server's own pages and non-browser clients can. With "*" any site is
// admitted but the cookie is not read, so no page acts as its visitor.
func TestCrossSiteRefusedByDefault(t *testing.T) {
	cookie := "rtd_token=" + signToken(t, "alice", "news")
	addr := tierServer(t, Options{Verifier: verifier(t)}, hub.Options{})
	for _, c := range []struct {
		name   string
		origin string
		want   int
	}{
		{"other site", "https://evil.example", 403},
		{"own site", "http://" + addr, 101},
		{"no Origin", "", 101},
	} {
		h := http.Header{"Cookie": {cookie}}
		if c.origin != "" {
			h.Set("Origin", c.origin)
		}
		if _, got := dialWS(t, addr, "", h); got != c.want {
			t.Errorf("/ws, %s: %d, want %d", c.name, got, c.want)
		}
		want := c.want
		if want == 101 {
			want = 200
		}
		if got := sseStatus(t, addr, "?channel=news", "Cookie", cookie, "Origin", c.origin); got != want {
			t.Errorf("/sse, %s: %d, want %d", c.name, got, want)
		}
	}

	open := tierServer(t, Options{Verifier: verifier(t), WS: WSRouteOptions{Origins: []string{"*"}}, SSE: SSERouteOptions{Origins: []string{"*"}}}, hub.Options{})
	evil := "https://evil.example"
	if _, got := dialWS(t, open, "", http.Header{"Cookie": {cookie}, "Origin": {evil}}); got != 401 {
		t.Errorf(`/ws with "*" and a cookie token: %d, want 401`, got)
	}
	if got := sseStatus(t, open, "?channel=news", "Cookie", cookie, "Origin", evil); got != 401 {
		t.Errorf(`/sse with "*" and a cookie token: %d, want 401`, got)
	}
	if _, got := dialWS(t, open, "?token="+signToken(t, "alice", "news"), http.Header{"Origin": {evil}}); got != 101 {
		t.Errorf(`/ws with "*" and a query token: %d, want 101`, got)
	}
}

// TestRefreshKeepsIdentity: a refresh cannot change who a connection is: an
// anonymous one cannot take alice's token (it would get her channels while
// the hub, her connection limit and /api/disconnect still see an anonymous
// client), nor can bob's.
func TestRefreshKeepsIdentity(t *testing.T) {
	addr := tierServer(t, Options{Verifier: verifier(t), AllowAnonymous: true,
		Namespaces: []Namespace{{Pattern: "public:*", Anonymous: true}, {Pattern: "private"}}}, hub.Options{})
	alice := signToken(t, "alice", "private")

	anon, _ := dialWS(t, addr, "", nil)
	if r := anon.call(`{"id":1,"op":"refresh","token":"` + alice + `"}`); errCode(r) != CodeTokenInvalid {
		t.Fatalf("anonymous refresh to alice: %v, want error %d", r, CodeTokenInvalid)
	}
	if r := anon.call(`{"id":2,"op":"subscribe","channel":"private"}`); errCode(r) != CodePermissionDenied {
		t.Fatalf("anonymous subscribe after a refused refresh: %v, want error %d", r, CodePermissionDenied)
	}
	// A token without a subject is refused at connect ("token has no
	// subject"); as a refresh it must not hand an anonymous connection its
	// channels either (its user, "", is the anonymous one's).
	if r := anon.call(`{"id":3,"op":"refresh","token":"` + signToken(t, "", "private") + `"}`); errCode(r) != CodeTokenInvalid {
		t.Fatalf("anonymous refresh to a token without a subject: %v, want error %d", r, CodeTokenInvalid)
	}
	if r := anon.call(`{"id":4,"op":"subscribe","channel":"private"}`); errCode(r) != CodePermissionDenied {
		t.Fatalf("anonymous subscribe after a refresh without a subject: %v, want error %d", r, CodePermissionDenied)
	}
	bob, _ := dialWS(t, addr, "?token="+signToken(t, "bob", "public:*"), nil)
	if r := bob.call(`{"id":1,"op":"refresh","token":"` + alice + `"}`); errCode(r) != CodeTokenInvalid {
		t.Fatalf("bob refreshing to alice: %v, want error %d", r, CodeTokenInvalid)
	}
	if r := bob.call(`{"id":2,"op":"refresh","token":"` + signToken(t, "bob", "public:*") + `"}`); r["ok"] != true {
		t.Fatalf("bob refreshing to bob: %v", r)
	}
}

// TestRefreshDropsRevokedChannels: a refreshed token with narrower channels
// unsubscribes the connection from the others, with a push naming each,
// before the refresh's reply; nothing more is delivered from them.
func TestRefreshDropsRevokedChannels(t *testing.T) {
	addr := tierServer(t, Options{Verifier: verifier(t)}, hub.Options{})
	ws, _ := dialWS(t, addr, "?token="+signToken(t, "alice", "a", "b"), nil)
	for _, ch := range []string{"a", "b"} {
		if r := ws.call(`{"id":1,"op":"subscribe","channel":"` + ch + `"}`); r["ok"] != true {
			t.Fatalf("subscribe %s: %v", ch, r)
		}
	}
	push := ws.call(`{"id":2,"op":"refresh","token":"` + signToken(t, "alice", "a") + `"}`)
	if push["op"] != "unsubscribed" || push["channel"] != "b" || push["code"] != float64(CodePermissionDenied) || push["reason"] == "" {
		t.Fatalf("first message after the refresh: %v, want an unsubscribed push for b", push)
	}
	if r := ws.read(); r["id"] != float64(2) || r["ok"] != true {
		t.Fatalf("refresh reply: %v", r)
	}
	api := "http://" + addr + "/api/publish"
	for _, ch := range []string{"b", "a"} {
		if st, body := httpDo(t, "POST", api, `{"channel":"`+ch+`","data":"`+ch+`"}`); st != 200 {
			t.Fatalf("publish %s: %d %s", ch, st, body)
		}
	}
	// b's publication would arrive first: the channels' publications are
	// queued in publish order on the socket's loop.
	if m := ws.read(); m["channel"] != "a" {
		t.Fatalf("after the refresh received %v, want only a's publication", m)
	}
}

// TestEventNamesOneRule: an event name with CR/LF (which would end the SSE
// "event:" line and turn the rest into another field), NUL or past the bound
// is refused alike by /api/publish, /api/send, /api/broadcast and /ws.
func TestEventNamesOneRule(t *testing.T) {
	addr := tierServer(t, Options{Namespaces: []Namespace{{Pattern: "chat", ClientPublish: true}}}, hub.Options{})
	ws, _ := dialWS(t, addr, "", nil)
	base := "http://" + addr
	for _, ev := range []string{`a\r\ndata: injected`, `a\n`, `a\u0000`, strings.Repeat("e", hub.MaxEventBytes+1)} {
		for path, body := range map[string]string{
			"/api/publish":   `{"channel":"chat","event":"` + ev + `","data":1}`,
			"/api/send":      `{"user":"alice","event":"` + ev + `","data":1}`,
			"/api/broadcast": `{"event":"` + ev + `","data":1}`,
		} {
			if st, resp := httpDo(t, "POST", base+path, body); st != 400 || !strings.Contains(resp, "invalid event name") {
				t.Errorf("%s with event %q: %d %s, want 400 invalid event name", path, ev, st, resp)
			}
		}
		r := ws.call(`{"id":7,"op":"publish","channel":"chat","event":"` + ev + `","data":1}`)
		if errCode(r) != CodeBadRequest || r["id"] != float64(7) {
			t.Errorf("/ws publish with event %q: %v, want error %d", ev, r, CodeBadRequest)
		}
	}
	if st, body := httpDo(t, "POST", base+"/api/publish", `{"channel":"chat","event":"ok.name","data":1}`); st != 200 {
		t.Errorf("a good event name: %d %s", st, body)
	}
}

// TestAPIChannelPathDecoded: a channel name in an API path is read
// percent-decoded, as a client encodes it.
func TestAPIChannelPathDecoded(t *testing.T) {
	addr := tierServer(t, Options{}, hub.Options{})
	base := "http://" + addr
	if st, body := httpDo(t, "POST", base+"/api/publish", `{"channel":"room 1/a","data":"x"}`); st != 200 {
		t.Fatalf("publish: %d %s", st, body)
	}
	st, body := httpDo(t, "GET", base+"/api/history/room%201%2Fa", "")
	if st != 200 || !strings.Contains(body, `"channel":"room 1/a"`) || !strings.Contains(body, `"data":"x"`) {
		t.Fatalf("history of room%%201%%2Fa: %d %s", st, body)
	}
	if st, _ := httpDo(t, "GET", base+"/api/presence/room%201%2Fa", ""); st != 200 {
		t.Fatalf("presence of room%%201%%2Fa: %d", st)
	}
	// net/http will not send a malformed escape: a raw request does.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	fmt.Fprintf(c, "GET /api/history/room%%zz HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil || resp.StatusCode != 400 {
		t.Fatalf("malformed escape: %v %v, want 400", resp, err)
	}
	resp.Body.Close()
}

// TestHistoryChannelCap: publications cannot create channels with history
// past hub.Options.MaxHistoryChannels: the API answers 429, /ws error 107,
// and the refusals are in /metrics.
func TestHistoryChannelCap(t *testing.T) {
	addr := tierServer(t, Options{Namespaces: []Namespace{{Pattern: "*", ClientPublish: true}}}, hub.Options{MaxHistoryChannels: 1})
	api := "http://" + addr + "/api/publish"
	if st, body := httpDo(t, "POST", api, `{"channel":"a","data":1}`); st != 200 {
		t.Fatalf("first channel: %d %s", st, body)
	}
	if st, body := httpDo(t, "POST", api, `{"channel":"b","data":1}`); st != 429 || !strings.Contains(body, "too many channels with history") {
		t.Fatalf("second channel: %d %s, want 429", st, body)
	}
	if st, body := httpDo(t, "POST", api, `{"channel":"a","data":2}`); st != 200 {
		t.Fatalf("the existing channel: %d %s", st, body)
	}
	ws, _ := dialWS(t, addr, "", nil)
	if r := ws.call(`{"id":1,"op":"publish","channel":"c","data":1}`); errCode(r) != CodeLimitExceeded {
		t.Fatalf("/ws publish on a new channel: %v, want error %d", r, CodeLimitExceeded)
	}
	_, metrics := httpDo(t, "GET", "http://"+addr+"/metrics", "")
	for _, line := range []string{"rtd_history_channels 1\n", "rtd_history_channels_refused_total 2\n"} {
		if !strings.Contains(metrics, line) {
			t.Errorf("/metrics lacks %q", line)
		}
	}
}

// TestMetricsNeedTheAPIKey: with an API key, /metrics answers only callers
// that present it, as /api/* does.
func TestMetricsNeedTheAPIKey(t *testing.T) {
	addr := tierServer(t, Options{APIKey: "k3y"}, hub.Options{})
	url := "http://" + addr + "/metrics"
	if st, _ := httpDo(t, "GET", url, ""); st != 401 {
		t.Errorf("/metrics without the key: %d, want 401", st)
	}
	if st, _ := httpDo(t, "GET", url, "", "X-API-Key", "wrong"); st != 401 {
		t.Errorf("/metrics with a wrong key: %d, want 401", st)
	}
	if st, body := httpDo(t, "GET", url, "", "Authorization", "Bearer k3y"); st != 200 || !strings.Contains(body, "rtd_channels") {
		t.Errorf("/metrics with the key: %d", st)
	}
}
