package centrifugepeer

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// roundTrip sends cmd and returns the next frame's lines that are not pings.
func roundTrip(t *testing.T, c *websocket.Conn, cmd string) []string {
	t.Helper()
	if cmd != "" {
		if err := c.WriteMessage(websocket.TextMessage, []byte(cmd)); err != nil {
			t.Fatal(err)
		}
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, p, err := c.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(string(p), "\n")
}

// TestProtocol: connect, subscribe, a publication through /api/publish, then
// a second connection that recovers it from the first one's position.
func TestProtocol(t *testing.T) {
	p, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = p.Shutdown(context.Background()) }()
	srv := httptest.NewServer(p.Handler())
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws"
	c, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	want(t, roundTrip(t, c, `{"id":1,"connect":{}}`), `{"id":1,"connect":{"client":`)
	sub := roundTrip(t, c, `{"id":2,"subscribe":{"channel":"bench0"}}`)
	want(t, sub, `{"id":2,"subscribe":{"recoverable":true,"epoch":"`)
	resp, err := srv.Client().Post(srv.URL+"/api/publish", "application/json", strings.NewReader(`{"publications":[{"channel":"bench0","data":{"a":1}},{"channel":"bench0","data":{"a":2}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	pushes := roundTrip(t, c, "")
	if len(pushes) == 1 { // the second may come in a frame of its own
		pushes = append(pushes, roundTrip(t, c, "")...)
	}
	want(t, pushes[:1], `{"push":{"channel":"bench0","pub":{"data":{"a":1},"offset":1`)
	want(t, pushes[1:], `{"push":{"channel":"bench0","pub":{"data":{"a":2},"offset":2`)
	c2, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	want(t, roundTrip(t, c2, `{"id":1,"connect":{}}`), `{"id":1,"connect":{"client":`)
	rec := roundTrip(t, c2, `{"id":2,"subscribe":{"channel":"bench0","recover":true,"offset":0,"epoch":"`+epochOf(sub[0])+`"}}`)
	want(t, rec, `"publications":[{"data":{"a":1},"offset":1},{"data":{"a":2},"offset":2}],"recovered":true`)
	want(t, roundTrip(t, c2, `{"id":3,"rpc":{"method":"echo","data":{"ts":5}}}`), `{"id":3,"rpc":{"data":{"ts":5}}}`)
}

// want fails unless lines is one line containing sub.
func want(t *testing.T, lines []string, sub string) {
	t.Helper()
	if len(lines) != 1 || !strings.Contains(lines[0], sub) {
		t.Fatalf("got %q, want one line with %s", lines, sub)
	}
}

func epochOf(s string) string {
	_, rest, _ := strings.Cut(s, `"epoch":"`)
	e, _, _ := strings.Cut(rest, `"`)
	return e
}
