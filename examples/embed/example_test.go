package main

import (
	"testing"

	"github.com/rtd-project/rtd/fanout"
	"github.com/rtd-project/rtd/server"
	"github.com/rtd-project/rtd/server/servertest"
)

func TestRoom(t *testing.T) {
	h := servertest.Start(t, server.Options{Encoder: fanout.Encoder{}}, func(s *server.Server) error {
		return routes(t.Context(), s, fanout.Options{})
	})
	alice := h.WebSocket("/rooms/42").Connect()
	bob := h.WebSocket("/rooms/42").Connect()
	alice.SendText(`"hi"`)
	bob.ExpectJSONMatch(`{"channel":"room:42","event":"msg","data":"hi"}`)
	h.POST("/api/publish").JSON(map[string]any{"channel": "room:42", "data": "from the backend"}).Do().ExpectStatus(200)
	bob.ExpectJSONMatch(`{"channel":"room:42","data":"from the backend"}`)
}
