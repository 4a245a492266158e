package fanout_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rtd-project/rtd/auth"
	"github.com/rtd-project/rtd/fanout"
	"github.com/rtd-project/rtd/hub"
	"github.com/rtd-project/rtd/server"
	"github.com/rtd-project/rtd/server/servertest"
)

// Focused tests of the tier on the test host: one command, error code or
// API route each.

const secret = "fanout-test-secret-of-32-bytes!!"

// tier starts a host with the tier mounted with o (namespaces reaching the
// hub) and hub options ho.
func tier(t *testing.T, o fanout.Options, ho hub.Options) *servertest.Host {
	t.Helper()
	ho.ChannelOptions = o.ChannelOptions
	return servertest.Start(t, server.Options{Encoder: fanout.Encoder{}, Hub: ho}, func(s *server.Server) error {
		_, err := fanout.Mount(s, o)
		return err
	})
}

// withTokens returns o with an HS256 verifier of secret.
func withTokens(t *testing.T, o fanout.Options) fanout.Options {
	t.Helper()
	v, err := auth.NewVerifier(auth.Options{Secret: []byte(secret)})
	if err != nil {
		t.Fatal(err)
	}
	o.Verifier = v
	return o
}

func TestWSPing(t *testing.T) {
	ws := tier(t, fanout.Options{}, hub.Options{}).WebSocket("/ws").Connect()
	ws.SendText(`{"id":1,"op":"ping"}`).ExpectJSON(`{"id":1,"op":"pong"}`)
	ws.SendText(`{"op":"ping"}`).ExpectJSON(`{"op":"pong"}`)
}

func TestWSMalformedCommands(t *testing.T) {
	ws := tier(t, fanout.Options{}, hub.Options{}).WebSocket("/ws").Connect()
	ws.SendBinary([]byte(`{"op":"ping"}`)).ExpectJSON(`{"error":{"code":100,"message":"malformed command"}}`)
	ws.SendText(`{"op":`).ExpectJSON(`{"error":{"code":100,"message":"malformed command"}}`)
	ws.SendText(`{"id":2,"op":"publish","channel":"a","event":"bad\nname","data":1}`).ExpectJSONMatch(`{"id":2,"error":{"code":100}}`)
	ws.SendText(`{"id":3,"op":"dance"}`).ExpectJSON(`{"id":3,"error":{"code":101,"message":"unknown op"}}`)
}

func TestWSSubscribeAndPush(t *testing.T) {
	h := tier(t, fanout.Options{}, hub.Options{})
	ws := h.WebSocket("/ws").Connect()
	ws.SendText(`{"id":1,"op":"subscribe","channel":"news"}`).ExpectJSONMatch(`{"id":1,"ok":true}`)
	h.POST("/api/publish").Body(`{"channel":"news","data":{"n":1}}`).Do().ExpectStatus(200).ExpectJSONMatch(`{"channel":"news","offset":1}`)
	ws.ExpectJSONMatch(`{"channel":"news","offset":1,"data":{"n":1}}`)
	ws.SendText(`{"id":2,"op":"subscribe","channel":"news"}`).ExpectJSON(`{"id":2,"error":{"code":105,"message":"already subscribed"}}`)
	ws.SendText(`{"id":3,"op":"subscribe","channel":""}`).ExpectJSON(`{"id":3,"error":{"code":104,"message":"invalid channel"}}`)
	ws.SendText(`{"id":4,"op":"subscribe","channel":"x","since":"nonsense"}`).ExpectJSON(`{"id":4,"error":{"code":111,"message":"invalid position"}}`)
}

func TestWSSubscribeRecovers(t *testing.T) {
	h := tier(t, fanout.Options{}, hub.Options{})
	ws := h.WebSocket("/ws").Connect()
	var sub struct{ Position string }
	ws.SendText(`{"id":1,"op":"subscribe","channel":"news"}`).ReadJSON(&sub)
	ws.SendText(`{"id":2,"op":"unsubscribe","channel":"news"}`).ExpectJSON(`{"id":2,"ok":true}`)
	ws.SendText(`{"id":3,"op":"unsubscribe","channel":"news"}`).ExpectJSON(`{"id":3,"error":{"code":106,"message":"not subscribed"}}`)
	h.POST("/api/publish").Body(`{"channel":"news","data":"missed"}`).Do().ExpectStatus(200)
	ws.SendJSON(map[string]any{"id": 4, "op": "subscribe", "channel": "news", "since": sub.Position})
	ws.ExpectJSONMatch(`{"id":4,"ok":true,"recovered":true}`)
	ws.ExpectJSONMatch(`{"channel":"news","offset":1,"data":"missed"}`)
}

func TestWSTooManyChannels(t *testing.T) {
	ws := tier(t, fanout.Options{}, hub.Options{MaxChannelsPerClient: 1}).WebSocket("/ws").Connect()
	ws.SendText(`{"id":1,"op":"subscribe","channel":"a"}`).ExpectJSONMatch(`{"id":1,"ok":true}`)
	ws.SendText(`{"id":2,"op":"subscribe","channel":"b"}`).ExpectJSON(`{"id":2,"error":{"code":107,"message":"too many channels"}}`)
}

func TestWSPublish(t *testing.T) {
	o := fanout.Options{Namespaces: []fanout.Namespace{{Pattern: "chat:*", ClientPublish: true}}}
	ws := tier(t, o, hub.Options{}).WebSocket("/ws").Connect()
	ws.SendText(`{"id":1,"op":"publish","channel":"news","data":1}`).ExpectJSON(`{"id":1,"error":{"code":103,"message":"publish not permitted: anonymous clients publish only in client-publish namespaces"}}`)
	ws.SendText(`{"id":2,"op":"publish","channel":"chat:1"}`).ExpectJSON(`{"id":2,"error":{"code":100,"message":"data required"}}`)
	ws.SendText(`{"id":3,"op":"subscribe","channel":"chat:1"}`).ExpectJSONMatch(`{"id":3,"ok":true}`)
	ws.SendText(`{"id":4,"op":"publish","channel":"chat:1","event":"say","data":"hi"}`)
	ws.ExpectJSONMatch(`{"channel":"chat:1","offset":1,"event":"say","data":"hi"}`)
	ws.ExpectJSONMatch(`{"id":4,"ok":true,"offset":1}`)
}

func TestWSPresence(t *testing.T) {
	o := fanout.Options{Namespaces: []fanout.Namespace{{Pattern: "quiet", Presence: new(bool)}}}
	ws := tier(t, o, hub.Options{}).WebSocket("/ws").Connect()
	ws.SendText(`{"id":1,"op":"subscribe","channel":"room"}`).ExpectJSONMatch(`{"id":1,"ok":true}`)
	ws.SendText(`{"id":2,"op":"presence","channel":"room"}`).ExpectJSONMatch(`{"id":2,"ok":true,"clients":1}`)
	ws.SendText(`{"id":3,"op":"subscribe","channel":"quiet"}`).ExpectJSONMatch(`{"id":3,"ok":true}`)
	ws.SendText(`{"id":4,"op":"presence","channel":"quiet"}`).ExpectJSON(`{"id":4,"error":{"code":108,"message":"presence disabled for channel"}}`)
}

func TestWSHistory(t *testing.T) {
	o := fanout.Options{Namespaces: []fanout.Namespace{{Pattern: "nohist", HistorySize: -1}}}
	h := tier(t, o, hub.Options{})
	h.POST("/api/publish").Body(`{"channel":"news","data":"a"}`).Do().ExpectStatus(200)
	h.POST("/api/publish").Body(`{"channel":"news","data":"b"}`).Do().ExpectStatus(200)
	ws := h.WebSocket("/ws").Connect()
	ws.SendText(`{"id":1,"op":"history","channel":"news"}`).ExpectJSONMatch(`{"id":1,"ok":true,"publications":[{"data":"a"},{"data":"b"}]}`)
	ws.SendText(`{"id":2,"op":"history","channel":"news","since":"bad"}`).ExpectJSON(`{"id":2,"error":{"code":111,"message":"invalid position"}}`)
	ws.SendText(`{"id":3,"op":"subscribe","channel":"nohist"}`).ExpectJSONMatch(`{"id":3,"ok":true}`)
	ws.SendText(`{"id":4,"op":"history","channel":"nohist"}`).ExpectJSON(`{"id":4,"error":{"code":108,"message":"history disabled for channel"}}`)
}

func TestWSTokens(t *testing.T) {
	h := tier(t, withTokens(t, fanout.Options{}), hub.Options{})
	h.WebSocket("/ws").ExpectRejected(401)
	h.WebSocket("/ws").Header("Authorization", "Bearer nonsense").ExpectRejected(401)
	ws := h.WebSocket("/ws").JWT(map[string]any{"sub": "u1", "channels": []string{"news"}, "publish": []string{"news"}}, secret).Connect()
	ws.SendText(`{"id":1,"op":"subscribe","channel":"secret"}`).ExpectJSON(`{"id":1,"error":{"code":103,"message":"subscribe not permitted: channel not in token"}}`)
	ws.SendText(`{"id":2,"op":"history","channel":"secret"}`).ExpectJSON(`{"id":2,"error":{"code":103,"message":"history not permitted: channel not in token"}}`)
	ws.SendText(`{"id":3,"op":"presence","channel":"secret"}`).ExpectJSON(`{"id":3,"error":{"code":103,"message":"presence not permitted: channel not in token"}}`)
	ws.SendText(`{"id":4,"op":"publish","channel":"news","data":1}`).ExpectJSONMatch(`{"id":4,"ok":true}`)
}

func TestWSRefresh(t *testing.T) {
	h := tier(t, withTokens(t, fanout.Options{}), hub.Options{})
	ws := h.WebSocket("/ws").JWT(map[string]any{"sub": "u1", "channels": []string{"a", "b"}}, secret).Connect()
	ws.SendText(`{"id":1,"op":"subscribe","channel":"a"}`).ExpectJSONMatch(`{"id":1,"ok":true}`)
	ws.SendText(`{"id":2,"op":"subscribe","channel":"b"}`).ExpectJSONMatch(`{"id":2,"ok":true}`)
	ws.SendText(`{"id":3,"op":"refresh","token":"nonsense"}`).ExpectJSON(`{"id":3,"error":{"code":109,"message":"invalid token"}}`)
	other := h.Token(map[string]any{"sub": "u2"}, secret)
	ws.SendJSON(map[string]any{"id": 4, "op": "refresh", "token": other}).ExpectJSON(`{"id":4,"error":{"code":109,"message":"token is for another user"}}`)
	narrower := h.Token(map[string]any{"sub": "u1", "channels": []string{"a"}}, secret)
	ws.SendJSON(map[string]any{"id": 5, "op": "refresh", "token": narrower})
	ws.ExpectJSONMatch(`{"op":"unsubscribed","channel":"b","code":103}`)
	ws.ExpectJSON(`{"id":5,"ok":true}`)
}

func TestWSRefreshWithoutTokens(t *testing.T) {
	ws := tier(t, fanout.Options{}, hub.Options{}).WebSocket("/ws").Connect()
	ws.SendText(`{"id":1,"op":"refresh","token":"x"}`).ExpectJSON(`{"id":1,"ok":true}`)
}

func TestWSOrigins(t *testing.T) {
	h := tier(t, fanout.Options{}, hub.Options{})
	h.WebSocket("/ws").Origin("https://evil.example").ExpectRejected(403)
	h.WebSocket("/ws").Origin(h.URL).Connect().SendText(`{"op":"ping"}`).ExpectJSON(`{"op":"pong"}`)
}

func TestSSEStream(t *testing.T) {
	h := tier(t, fanout.Options{}, hub.Options{})
	h.SSE("/sse").ExpectRejected(400)
	q := h.SSE("/sse")
	for i := range 17 {
		q.Query("channel", "c"+strings.Repeat("x", i))
	}
	q.ExpectRejected(400)
	st := h.SSE("/sse").Query("channel", "news").Connect()
	h.POST("/api/publish").Body(`{"channel":"news","event":"up","data":{"n":1}}`).Do().ExpectStatus(200)
	e := st.ExpectEvent("up", `{"n":1}`)
	st.Close()
	h.POST("/api/publish").Body(`{"channel":"news","data":"two"}`).Do().ExpectStatus(200)
	h.SSE("/sse").Query("channel", "news").LastEventID(e.ID).Connect().ExpectData(`"two"`)
}

func TestSSETokens(t *testing.T) {
	h := tier(t, withTokens(t, fanout.Options{}), hub.Options{})
	h.SSE("/sse").Query("channel", "news").ExpectRejected(401)
	claims := map[string]any{"sub": "u1", "channels": []string{"news"}}
	h.SSE("/sse").Query("channel", "secret").JWT(claims, secret).ExpectRejected(403)
	st := h.SSE("/sse").Query("channel", "news").JWT(claims, secret).Connect()
	h.POST("/api/publish").Body(`{"channel":"news","data":"ok"}`).Do().ExpectStatus(200)
	st.ExpectData(`"ok"`)
}

func TestSSENotRecovered(t *testing.T) {
	h := tier(t, fanout.Options{}, hub.Options{})
	st := h.SSE("/sse").Query("channel", "news").LastEventID("other-epoch:5").Connect()
	e := st.Next()
	if e.Event != "recovered" || !strings.Contains(e.Data, `"recovered":false`) {
		t.Fatalf("got %v, want a recovered:false notice", e)
	}
}

// A token that expires closes its socket (3000) and ends its stream with an
// "error" event, once Tier.Run sees it.
func TestTokenExpiry(t *testing.T) {
	o := withTokens(t, fanout.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	h := servertest.Start(t, server.Options{Encoder: fanout.Encoder{}}, func(s *server.Server) error {
		tr, err := fanout.Mount(s, o)
		if err == nil {
			go tr.Run(ctx)
		}
		return err
	})
	t.Cleanup(cancel)
	claims := map[string]any{"sub": "u1", "channels": []string{"a"}, "exp": time.Now().Add(2 * time.Second).Unix()} // at least 1s from now: exp is in whole seconds
	ws := h.WebSocket("/ws").JWT(claims, secret).Connect()
	st := h.SSE("/sse").Query("channel", "a").JWT(claims, secret).Connect()
	ws.ExpectClose(3000)
	st.ExpectEvent("error", `{"error":"token expired"}`)
	st.ExpectEnd()
}

func TestDirectToClient(t *testing.T) {
	h := tier(t, fanout.Options{}, hub.Options{})
	ws := h.WebSocket("/ws").Connect()
	var st struct {
		List []struct{ Client string }
	}
	ws.SendText(`{"id":1,"op":"subscribe","channel":"a"}`).ExpectJSONMatch(`{"id":1,"ok":true}`)
	ws.SendText(`{"id":2,"op":"presence","channel":"a"}`).ReadJSON(&st)
	if len(st.List) != 1 {
		t.Fatalf("presence list %v", st.List)
	}
	client := st.List[0].Client
	h.POST("/api/send").JSON(map[string]any{"client": client, "data": "hi"}).Do().ExpectJSON(`{"sent":1}`)
	ws.ExpectJSONMatch(`{"data":"hi"}`)
	h.POST("/api/disconnect").JSON(map[string]any{"client": client}).Do().ExpectJSON(`{"disconnected":1}`)
	ws.ExpectClose(1008)
}

// A reply larger than the socket's send queue is answered with error 107
// instead: every command gets an answer.
func TestWSReplyTooLarge(t *testing.T) {
	h := tier(t, fanout.Options{WS: fanout.WSRouteOptions{MaxSendQueueBytes: 4096}}, hub.Options{})
	h.POST("/api/publish").JSON(map[string]any{"channel": "big", "data": strings.Repeat("x", 8000)}).Do().ExpectStatus(200)
	ws := h.WebSocket("/ws").Connect()
	ws.SendText(`{"id":1,"op":"history","channel":"big"}`).ExpectJSON(`{"id":1,"error":{"code":107,"message":"reply too large"}}`)
	ws.SendText(`{"id":2,"op":"ping"}`).ExpectJSON(`{"id":2,"op":"pong"}`)
}
