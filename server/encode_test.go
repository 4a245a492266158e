package server_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/rtd-project/rtd/hub"
	"github.com/rtd-project/rtd/server"
	"github.com/rtd-project/rtd/server/servertest"
)

// subscribeRoutes subscribes WebSocket /ws and SSE /sse connections to the
// channels of ?ch=a,b (in that order).
func subscribeRoutes(s *server.Server) error {
	subscribe := func(r *server.Request, sub func(string, *hub.Position) (hub.SubscribeResult, error)) {
		for ch := range strings.SplitSeq(r.Query("ch"), ",") {
			if _, err := sub(ch, nil); err != nil {
				panic(err)
			}
		}
	}
	err := s.WebSocket("/ws", server.WSHandler{OnOpen: func(sock *server.Socket) { subscribe(sock.Request(), sock.Subscribe) }}, server.WSOptions{})
	if err != nil {
		return err
	}
	return s.SSE("/sse", server.SSEHandler{OnOpen: func(st *server.Stream) { subscribe(st.Request(), st.Subscribe) }}, server.SSEOptions{})
}

// joinLeave turns presence events on for every channel.
func joinLeave(_ string, o hub.ChannelOptions) hub.ChannelOptions {
	o.JoinLeave = true
	return o
}

// With the default Options an embedder's subscribers receive exactly the
// bytes published: the WebSocket text message and the SSE event data are the
// data, the server adding only the frame and the SSE id and event lines. A
// stream of several channels gets the channel's name and a newline before
// the data. Presence events are not sent; a broadcast is the data, without
// an id.
func TestDefaultEncoderSendsDataAsIs(t *testing.T) {
	h := servertest.Start(t, server.Options{Hub: hub.Options{ChannelOptions: joinLeave}}, subscribeRoutes)
	ws := h.WebSocket("/ws").Query("ch", "news").Connect()
	st := h.SSE("/sse").Query("ch", "news").Connect()
	multi := h.SSE("/sse").Query("ch", "other,news").Connect()

	// Not JSON, with what JSON would escape: nothing is added or escaped.
	const data = `{"n":1} <b>&</b> "quoted" é` + "\u2028"
	pos, err := h.Server.Hub().Publish("news", hub.Publication{Event: "update", Data: []byte(data)})
	if err != nil {
		t.Fatal(err)
	}
	// The join events of the three subscriptions came first: none is sent.
	ws.ExpectText(data)
	st.ExpectID("update", data, pos.String())
	e := multi.ExpectEvent("update", "news\n"+data)
	ps, err := server.ParseEventID(e.ID)
	if err != nil || len(ps) != 2 || ps[1] != pos || ps[0].Offset != 0 {
		t.Fatalf("multi-channel id %q (%v): want other's position then news at %v", e.ID, err, pos)
	}

	if err := h.Server.Hub().Broadcast(hub.Publication{Event: "notice", Data: []byte("maintenance at 5")}); err != nil {
		t.Fatal(err)
	}
	// No id line: the stream's last event id stands.
	ws.ExpectText("maintenance at 5")
	st.ExpectID("notice", "maintenance at 5", pos.String())
	multi.ExpectID("notice", "maintenance at 5", e.ID)
}

// tagEncoder shows which method made what a subscriber got.
type tagEncoder struct{}

func (tagEncoder) AppendMessage(dst []byte, p *hub.Publication) []byte {
	return fmt.Appendf(dst, "ws %s %s@%d %s", p.Kind, p.Channel, p.Offset, p.Data)
}

func (tagEncoder) AppendEventData(dst []byte, p *hub.Publication, tagged bool) []byte {
	if tagged {
		return fmt.Appendf(dst, "tagged %s %s\n%s", p.Kind, p.Channel, p.Data)
	}
	return fmt.Appendf(dst, "sse %s %s", p.Kind, p.Data)
}

// A custom Encoder makes the WebSocket message and the SSE data (for
// streams of one channel and of several), presence events included; the
// server keeps writing the ids, naming every channel of a multi-channel
// stream.
func TestCustomEncoder(t *testing.T) {
	h := servertest.Start(t, server.Options{Encoder: tagEncoder{}}, subscribeRoutes)
	ws := h.WebSocket("/ws").Query("ch", "news").Connect()
	st := h.SSE("/sse").Query("ch", "news").Connect()
	multi := h.SSE("/sse").Query("ch", "news,other").Connect()

	pos, err := h.Server.Hub().Publish("news", hub.Publication{Event: "update", Data: []byte("one")})
	if err != nil {
		t.Fatal(err)
	}
	ws.ExpectText(fmt.Sprintf("ws message news@%d one", pos.Offset))
	st.ExpectID("update", "sse message one", pos.String())
	e := multi.ExpectEvent("update", "tagged message news\none")
	ps, err := server.ParseEventID(e.ID)
	if err != nil || len(ps) != 2 || ps[0] != pos {
		t.Fatalf("multi-channel id %q (%v): want news at %v, then other", e.ID, err, pos)
	}
	other, err := h.Server.Hub().Publish("other", hub.Publication{Data: []byte("two")})
	if err != nil {
		t.Fatal(err)
	}
	multi.ExpectID("", "tagged message other\ntwo", pos.String()+","+other.String())
}

// Presence events reach subscribers when the Encoder gives them a form, under
// the event name "join" or "leave" on SSE.
func TestCustomEncoderPresence(t *testing.T) {
	h := servertest.Start(t, server.Options{Encoder: tagEncoder{}, Hub: hub.Options{ChannelOptions: joinLeave}}, subscribeRoutes)
	st := h.SSE("/sse").Query("ch", "room").Connect()
	st.ExpectEvent("join", "sse join ") // its own
	ws := h.WebSocket("/ws").Query("ch", "room").Connect()
	st.ExpectEvent("join", "sse join ")
	ws.ExpectText("ws join room@0 ")
	ws.Close()
	st.ExpectEvent("leave", "sse leave ")
}

// EncodedMessage gives a retained publication's message as its subscribers
// got it (what history replies embed without encoding again), and nil for
// a publication the default encoder leaves unsent (presence).
func TestEncodedMessage(t *testing.T) {
	withHistory := func(_ string, o hub.ChannelOptions) hub.ChannelOptions {
		o.HistorySize = 10
		return o
	}
	h := servertest.Start(t, server.Options{Encoder: tagEncoder{}, Hub: hub.Options{ChannelOptions: withHistory}}, subscribeRoutes)
	ws := h.WebSocket("/ws").Query("ch", "news").Connect()
	pos, err := h.Server.Hub().Publish("news", hub.Publication{Data: []byte("one")})
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("ws message news@%d one", pos.Offset)
	ws.ExpectText(want)
	res, err := h.Server.Hub().History("news", nil, 10)
	if err != nil || len(res.Publications) != 1 {
		t.Fatalf("history: %v, %d publications", err, len(res.Publications))
	}
	if got := string(server.EncodedMessage(res.Publications[0])); got != want {
		t.Fatalf("EncodedMessage %q, want what the subscriber got, %q", got, want)
	}
	if got := server.EncodedMessage(&hub.Prepared{Publication: hub.Publication{Kind: hub.KindJoin}}); got != nil {
		t.Fatalf("EncodedMessage of an unencoded publication: %q", got)
	}
}
