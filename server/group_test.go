package server

import (
	"bufio"
	"fmt"
	"net/http"
	"testing"

	"github.com/gorilla/websocket"
)

// TestGroup: routes of a group carry its prefix and run behind its guards
// (and a nested group's after them), plain, WebSocket and SSE alike.
func TestGroup(t *testing.T) {
	role := func(want string) Guard {
		return func(r *Request) error {
			switch r.Header("X-Role") {
			case "":
				return &HTTPError{Status: 401, Message: `{"error":"who are you"}`}
			case want, "root":
				return nil
			}
			return &HTTPError{Status: 403, Message: "not " + want}
		}
	}
	s := startServer(t, Options{}, func(s *Server) {
		admin := s.Group("/admin", role("admin"))
		must := func(err error) {
			if err != nil {
				t.Fatal(err)
			}
		}
		must(admin.HandleFunc("GET", "/stats", func(w *ResponseWriter, _ *Request) { w.WriteString("stats") }))
		must(admin.WebSocket("/ws", WSHandler{}, WSOptions{}))
		must(admin.SSE("/events", SSEHandler{}, SSEOptions{}))
		must(admin.Group("/root/", role("root")).HandleFunc("GET", "/x", func(w *ResponseWriter, _ *Request) { w.WriteString("root") }))
	})
	if got := fmt.Sprint(s.Routes()); got != "[{GET /admin/events sse} {GET /admin/root/x http} {GET /admin/stats http} {GET /admin/ws websocket}]" {
		t.Fatalf("routes %s", got)
	}
	get := func(path, role string) (int, string, string) {
		c := dial(t, s)
		fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\nX-Role: %s\r\n\r\n", path, role)
		resp, body := readResponse(t, bufio.NewReader(c), "GET")
		return resp.StatusCode, body, resp.Header.Get("Content-Type")
	}
	for _, c := range []struct {
		path, role string
		status     int
		body       string
	}{
		{"/admin/stats", "", 401, `{"error":"who are you"}` + "\n"},
		{"/admin/stats", "guest", 403, "not admin\n"},
		{"/admin/stats", "admin", 200, "stats"},
		{"/admin/root/x", "admin", 403, "not root\n"}, // the outer guard passes, the nested one refuses
		{"/admin/root/x", "root", 200, "root"},
	} {
		if status, body, _ := get(c.path, c.role); status != c.status || body != c.body {
			t.Errorf("%s as %q: %d %q, want %d %q", c.path, c.role, status, body, c.status, c.body)
		}
	}
	if _, _, ctype := get("/admin/stats", ""); ctype != "application/json" {
		t.Errorf("JSON refusal sent as %q", ctype)
	}
	if _, resp, err := websocket.DefaultDialer.Dial(wsURL(s, "/admin/ws"), http.Header{"X-Role": {"guest"}}); err == nil || resp == nil || resp.StatusCode != 403 {
		t.Errorf("WebSocket upgrade as guest: %v %v, want 403", err, resp)
	}
	c, _, err := websocket.DefaultDialer.Dial(wsURL(s, "/admin/ws"), http.Header{"X-Role": {"admin"}})
	if err != nil {
		t.Fatalf("WebSocket upgrade as admin: %v", err)
	}
	c.Close()
	if status, _, _ := get("/admin/events", "guest"); status != 403 {
		t.Errorf("SSE as guest: %d, want 403", status)
	}
}
