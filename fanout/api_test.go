package fanout_test

import (
	"strings"
	"testing"

	"github.com/rtd-project/rtd/fanout"
	"github.com/rtd-project/rtd/hub"
	"github.com/rtd-project/rtd/server"
	"github.com/rtd-project/rtd/server/servertest"
)

func TestAPIPublish(t *testing.T) {
	h := tier(t, fanout.Options{}, hub.Options{})
	h.POST("/api/publish").Body(`{"channel":"a","data":1}`).Do().ExpectStatus(200).ExpectJSONMatch(`{"channel":"a","offset":1}`)
	h.POST("/api/publish").Body(`{"publications":[{"channel":"a","data":2},{"channel":"b","data":3}]}`).Do().
		ExpectStatus(200).ExpectJSONMatch(`{"publications":[{"channel":"a","offset":2},{"channel":"b","offset":1}]}`)
	h.POST("/api/publish").Body(`{`).Do().ExpectStatus(400).ExpectJSON(`{"error":"malformed JSON"}`)
	h.POST("/api/publish").Body(`{"channel":"a"}`).Do().ExpectStatus(400).ExpectJSON(`{"error":"publication 0: channel and data required"}`)
	h.POST("/api/publish").Body(`{"publications":[]}`).Do().ExpectStatus(400).ExpectJSON(`{"error":"between 1 and 1000 publications"}`)
	h.POST("/api/publish").Body(`{"channel":"a","event":"a\nb","data":1}`).Do().ExpectStatus(400)
	h.POST("/api/publish").Body(`{"channel":"` + strings.Repeat("x", 300) + `","data":1}`).Do().ExpectStatus(400)
}

func TestAPIPublishTooManyHistoryChannels(t *testing.T) {
	h := tier(t, fanout.Options{}, hub.Options{MaxHistoryChannels: 1})
	h.POST("/api/publish").Body(`{"channel":"a","data":1}`).Do().ExpectStatus(200)
	h.POST("/api/publish").Body(`{"channel":"b","data":1}`).Do().ExpectStatus(429)
}

func TestAPIPresence(t *testing.T) {
	h := tier(t, fanout.Options{}, hub.Options{})
	h.WebSocket("/ws").Connect().SendText(`{"id":1,"op":"subscribe","channel":"room 1"}`).ExpectJSONMatch(`{"id":1,"ok":true}`)
	h.GET("/api/presence/room%201").Do().ExpectStatus(200).ExpectJSONMatch(`{"channel":"room 1","clients":1}`)
}

func TestAPIHistory(t *testing.T) {
	h := tier(t, fanout.Options{}, hub.Options{})
	var pub struct {
		Offset uint64
		Epoch  string
	}
	h.POST("/api/publish").Body(`{"channel":"a","data":"one"}`).Do().ReadJSON(&pub)
	h.POST("/api/publish").Body(`{"channel":"a","data":"two"}`).Do().ExpectStatus(200)
	h.GET("/api/history/a").Do().ExpectStatus(200).ExpectJSONMatch(`{"channel":"a","publications":[{"data":"one"},{"data":"two"}]}`)
	h.GET("/api/history/a").Query("since", pub.Epoch+":1").Do().ExpectJSONMatch(`{"recovered":true,"publications":[{"data":"two"}]}`)
	h.GET("/api/history/a").Query("since", pub.Epoch+":0").Query("limit", "1").Do().ExpectJSONMatch(`{"more":true,"publications":[{"data":"one"}]}`)
	h.GET("/api/history/a").Query("since", "bad").Do().ExpectStatus(400).ExpectJSON(`{"error":"invalid since"}`)
}

func TestAPIStats(t *testing.T) {
	h := tier(t, fanout.Options{}, hub.Options{})
	h.WebSocket("/ws").Connect().SendText(`{"id":1,"op":"subscribe","channel":"a"}`).ExpectJSONMatch(`{"id":1,"ok":true}`)
	h.GET("/api/stats").Do().ExpectStatus(200).ExpectJSONMatch(`{"channels":1}`)
}

func TestAPIDisconnect(t *testing.T) {
	h := tier(t, withTokens(t, fanout.Options{}), hub.Options{})
	ws := h.WebSocket("/ws").JWT(map[string]any{"sub": "u1"}, secret).Connect()
	h.POST("/api/disconnect").Body(`{"user":"u1"}`).Do().ExpectStatus(200).ExpectJSON(`{"disconnected":1}`)
	ws.ExpectClose(1008)
	h.POST("/api/disconnect").Body(`{"user":"u1","client":"x"}`).Do().ExpectStatus(400)
}

func TestAPISend(t *testing.T) {
	h := tier(t, withTokens(t, fanout.Options{}), hub.Options{})
	ws := h.WebSocket("/ws").JWT(map[string]any{"sub": "u1"}, secret).Connect()
	h.POST("/api/send").Body(`{"user":"u1","event":"note","data":{"x":1}}`).Do().ExpectStatus(200).ExpectJSON(`{"sent":1}`)
	ws.ExpectJSONMatch(`{"event":"note","data":{"x":1}}`)
	h.POST("/api/send").Body(`{"data":1}`).Do().ExpectStatus(400)
	h.POST("/api/send").Body(`{"user":"u1"}`).Do().ExpectStatus(400).ExpectJSON(`{"error":"data required"}`)
	h.POST("/api/send").Body(`{`).Do().ExpectStatus(400).ExpectJSON(`{"error":"malformed JSON"}`)
}

func TestAPIBroadcast(t *testing.T) {
	h := tier(t, fanout.Options{}, hub.Options{})
	ws := h.WebSocket("/ws").Connect()
	h.POST("/api/broadcast").Body(`{"data":"all"}`).Do().ExpectStatus(200).ExpectJSON(`{"ok":true}`)
	ws.ExpectJSONMatch(`{"data":"all"}`)
	h.POST("/api/broadcast").Body(`{"user":"u1","data":1}`).Do().ExpectStatus(400)
}

func TestAPIKey(t *testing.T) {
	h := tier(t, fanout.Options{APIKey: "k"}, hub.Options{})
	for _, path := range []string{"/api/stats", "/api/presence/a", "/api/history/a", "/metrics"} {
		h.GET(path).Do().ExpectStatus(401)
		h.GET(path).Header("X-API-Key", "k").Do().ExpectStatus(200)
		h.GET(path).Header("Authorization", "Bearer k").Do().ExpectStatus(200)
	}
	for _, path := range []string{"/api/publish", "/api/send", "/api/broadcast", "/api/disconnect"} {
		h.POST(path).Body(`{}`).Header("X-API-Key", "wrong").Do().ExpectStatus(401).ExpectJSON(`{"error":"invalid API key"}`)
	}
}

// /metrics has the per-route series of the tier's routes and of an
// embedder's own, registered after Mount.
func TestMetricsRoute(t *testing.T) {
	h := servertest.Start(t, server.Options{Encoder: fanout.Encoder{}}, func(s *server.Server) error {
		if _, err := fanout.Mount(s, fanout.Options{}); err != nil {
			return err
		}
		return s.WebSocket("/mine/:room", server.WSHandler{}, server.WSOptions{})
	})
	h.WebSocket("/ws").Connect().SendText(`{"op":"ping"}`).ExpectJSON(`{"op":"pong"}`)
	h.WebSocket("/mine/1").Origin("https://elsewhere.example").ExpectRejected(403)
	body := string(h.GET("/metrics").Do().ExpectStatus(200).Body)
	for _, want := range []string{
		`rtd_route_messages_total{direction="in",kind="text",route="/ws",transport="ws"} 1`,
		`rtd_route_connections_total{outcome="opened",route="/ws",transport="ws"} 1`,
		`rtd_route_connections_total{outcome="rejected",route="/mine/:room",transport="ws"} 1`,
		`rtd_route_connections_total{outcome="opened",route="/sse",transport="sse"} 0`,
		`rtd_route_close_total{code="1013",route="/ws",transport="ws"} 0`,
		`rtd_websocket_upgrades_total 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics has no %s", want)
		}
	}
}
