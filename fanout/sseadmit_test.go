package fanout

import (
	"strings"
	"testing"

	"github.com/rtd-project/rtd/hub"
)

// TestSSEChannelAdmission: a stream names 1 to MaxSSEChannels channels, each
// one it may subscribe to; otherwise the refusal is a status before any
// stream (over the limit is refused as such, whatever channels it names), and a 403 names the channel refused, decoded, as the client sent
// it (the channels are read from the request's input, not copied, so the
// refusal must copy the one it names).
func TestSSEChannelAdmission(t *testing.T) {
	addr := tierServer(t, Options{MaxSSEChannels: 3, Verifier: verifier(t)}, hub.Options{})
	tok := "token=" + signToken(t, "alice", "a", "b", "c", "x y")
	for _, c := range []struct {
		query string
		want  int
		body  string
	}{
		{"?" + tok, 400, `{"error":"channel required"}`},
		{"?" + tok + "&channel=a&channel=b&channel=c&channel=a", 400, `{"error":"too many channels"}`},
		{"?" + tok + "&channel=secret&channel=b&channel=c&channel=a", 400, `{"error":"too many channels"}`},
		{"?" + tok + "&channel=a&channel=b&channel=c", 200, ""},
		{"?" + tok + "&channel=x+y", 200, ""},
		{"?" + tok + "&channel=a&channel=n%C3%A9ws", 403, `"channel":"néws"`},
	} {
		if got := sseStatus(t, addr, c.query); got != c.want {
			t.Errorf("/sse%s: %d, want %d", c.query[len(tok)+1:], got, c.want)
		}
		if c.body == "" {
			continue
		}
		if _, body := httpDo(t, "GET", "http://"+addr+"/sse"+c.query, ""); !strings.Contains(body, c.body) {
			t.Errorf("/sse%s: %q, want it to hold %q", c.query[len(tok)+1:], body, c.body)
		}
	}
}
