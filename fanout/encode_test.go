package fanout

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/rtd-project/rtd/hub"
	"github.com/rtd-project/rtd/server"
)

// The push is what encoding/json makes of the same fields, strings escaped
// alike (HTML-safe, U+2028, invalid UTF-8), data kept when it is JSON.
func TestPushMatchesEncodingJSON(t *testing.T) {
	for _, p := range []hub.Publication{
		{Channel: "news", Offset: 18, Epoch: "e1", Event: "up<date>", ID: "a&b", Data: []byte(`{"n": [1, 2]}`)},
		{Channel: "news\u2028", Offset: 1, Epoch: "e1", Data: []byte("not json \xff <b>")},
		{Event: "direct", Data: []byte(`"s"`)},
		{Channel: "room", Kind: hub.KindJoin, Info: &hub.ClientInfo{Client: "c1", User: "u\"1"}},
		{Channel: "room", Kind: hub.KindLeave, Info: &hub.ClientInfo{Client: "c1"}},
	} {
		got := appendPush(nil, &p)
		var v map[string]any
		if err := json.Unmarshal(got, &v); err != nil {
			t.Fatalf("%s: %v", got, err)
		}
		want := map[string]any{}
		if p.Channel != "" {
			want["channel"] = p.Channel
		}
		switch p.Kind {
		case hub.KindJoin, hub.KindLeave:
			who := map[string]any{"client": p.Info.Client}
			if p.Info.User != "" {
				who["user"] = p.Info.User
			}
			want[p.Kind.String()] = who
		default:
			if p.Offset > 0 {
				want["offset"], want["epoch"] = float64(p.Offset), p.Epoch
			}
			if p.Event != "" {
				want["event"] = p.Event
			}
			if p.ID != "" {
				want["id"] = p.ID
			}
			if json.Valid(p.Data) {
				var d any
				_ = json.Unmarshal(p.Data, &d)
				want["data"] = d
			} else {
				want["data"] = string([]rune(string(p.Data))) // invalid UTF-8 as U+FFFD
			}
		}
		wantJSON, _ := json.Marshal(want)
		gotJSON, _ := json.Marshal(v)
		if string(gotJSON) != string(wantJSON) {
			t.Errorf("push %s\ndecodes to %s\nwant       %s", got, gotJSON, wantJSON)
		}
	}
}

// Mount needs the tier's Encoder on the server: without it /ws and /sse
// would not speak the tier's protocol.
func TestMountRequiresEncoder(t *testing.T) {
	srv, err := server.New(server.Options{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Mount(srv, Options{}); !errors.Is(err, ErrEncoder) {
		t.Fatalf("Mount on a server with the default Encoder: %v, want ErrEncoder", err)
	}
}

// Publishing on a channel without subscribers: the hub's work and the
// tier's encoding (WebSocket frame, SSE event), once per publication.
func BenchmarkPublishEncode(b *testing.B) {
	srv, err := server.New(server.Options{Addr: "127.0.0.1:0", Loops: 1, Encoder: Encoder{}})
	if err != nil {
		b.Fatal(err)
	}
	p := hub.Publication{Event: "update", Data: []byte(`{"text":"hello, world","n":42,"tags":["a","b"]}`)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := srv.Hub().Publish("room:news", p); err != nil {
			b.Fatal(err)
		}
	}
}
