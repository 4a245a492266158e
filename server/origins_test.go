package server

import (
	"errors"
	"testing"
)

// TestUnsafeOriginsRefusedAtRegistration: credentials offered to no site or
// to every site, and origins no browser could send, fail the route's
// registration instead of serving something other than what was meant.
func TestUnsafeOriginsRefusedAtRegistration(t *testing.T) {
	s, err := New(Options{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	for i, o := range []SSEOptions{
		{AllowCredentials: true},
		{Origins: []string{"*"}, AllowCredentials: true},
		{Origins: []string{"https://a.example", "*"}, AllowCredentials: true},
		{Origins: []string{"a.example"}},
		{Origins: []string{"https://a.example/"}},
	} {
		if err := s.SSE("/sse", SSEHandler{}, o); !errors.Is(err, ErrBadOrigins) {
			t.Errorf("SSE options %d %+v: %v, want ErrBadOrigins", i, o, err)
		}
	}
	if err := s.WebSocket("/ws", WSHandler{}, WSOptions{Origins: []string{"app.example"}}); !errors.Is(err, ErrBadOrigins) {
		t.Errorf("WebSocket with origin without scheme: %v, want ErrBadOrigins", err)
	}
	if err := s.SSE("/sse", SSEHandler{}, SSEOptions{Origins: []string{"https://*.example.com"}, AllowCredentials: true}); err != nil {
		t.Errorf("named origins with credentials: %v", err)
	}
}
