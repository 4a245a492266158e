package hubtest_test

import (
	"fmt"
	"testing"

	"github.com/rtd-project/rtd/hub"
	"github.com/rtd-project/rtd/hub/hubtest"
)

// Two clients on a channel, one of them leaving; a third resuming from a
// position recovers what it missed.
func TestTeamChannel(t *testing.T) {
	h := hubtest.New(t, hub.Options{})
	alice := h.Register("alice").Join("team")
	bob := h.Register("bob").Join("team")
	first := h.Publish("team", "refresh")
	bob.Leave("team")
	h.PublishEvent("team", "note", "hello")
	alice.Expect("team@1 refresh", "team@2:note hello")
	bob.Expect("team@1 refresh")
	carol := h.Register("carol")
	res := carol.Resume("team", first)
	if !res.Recovered || len(res.Missed) != 1 || string(res.Missed[0].Data) != "hello" {
		t.Fatalf("carol recovered %v %d", res.Recovered, len(res.Missed))
	}
}

func ExampleDescribe() {
	p := hub.Publication{Channel: "news", Offset: 3, Event: "update", Data: []byte(`{"id":7}`)}
	fmt.Println(hubtest.Describe(&p))
	// Output: news@3:update {"id":7}
}
