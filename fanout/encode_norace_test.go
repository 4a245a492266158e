//go:build !race

package fanout

import (
	"testing"

	"github.com/rtd-project/rtd/hub"
)

// Encoding a publication allocates nothing but what dst must grow by.
func TestEncoderAllocs(t *testing.T) {
	msg := hub.Publication{Channel: "news", Offset: 18, Epoch: "e1", Event: "update", ID: "x<1>", Data: []byte(`{"text":"hello \u00e9"}`)}
	raw := hub.Publication{Channel: "news", Offset: 19, Epoch: "e1", Data: []byte("plain <text> \xff")}
	join := hub.Publication{Channel: "news", Kind: hub.KindJoin, Info: &hub.ClientInfo{Client: "c1", User: "u1"}}
	buf := make([]byte, 0, 1024)
	var e Encoder
	for _, p := range []*hub.Publication{&msg, &raw, &join} {
		if n := testing.AllocsPerRun(100, func() {
			buf = e.AppendMessage(buf[:0], p)
			buf = e.AppendEventData(buf, p, false)
			buf = e.AppendEventData(buf, p, true)
		}); n != 0 {
			t.Errorf("encoding %+v allocates %v times, want 0", p, n)
		}
	}
}
