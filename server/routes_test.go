package server

import (
	"fmt"
	"testing"
)

func TestRoutes(t *testing.T) {
	s, err := New(Options{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	echoRoutes(s)
	if err := s.WebSocket("/rooms/:room", WSHandler{}, WSOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := s.SSE("/rooms/:room/events", SSEHandler{}, SSEOptions{}); err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(s.Routes())
	want := "[{GET /files/*path http} {GET /healthz http} {GET /items/:id http} {POST /items/:id http} {GET /rooms/:room websocket} {GET /rooms/:room/events sse}]"
	if got != want {
		t.Fatalf("Routes() = %s\nwant       %s", got, want)
	}
}
