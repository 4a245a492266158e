package fanout

import (
	"strconv"
	"sync"
	"testing"

	"github.com/rtd-project/rtd/hub"
)

// TestAnonymousSessionsConcurrent: many anonymous /ws sockets (on
// every loop) publish through a bus at once, each taking a session of its
// own on its first publication while the others still share Tier.anon; run
// with -race: nothing writes the shared session, and every publication is
// answered in order on its own socket.
func TestAnonymousSessionsConcurrent(t *testing.T) {
	b := &gatedBroker{gate: make(chan struct{})}
	close(b.gate)
	addr := tierServer(t, Options{Namespaces: []Namespace{{Pattern: "chat:*", ClientPublish: true, Anonymous: true}}},
		hub.Options{Broker: b})
	const sockets, pubs = 12, 20
	conns := make([]*wsConn, sockets)
	for i := range conns {
		conns[i], _ = dialWS(t, addr, "", nil)
	}
	var wg sync.WaitGroup
	errs := make(chan string, sockets)
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range pubs {
				if err := c.c.WriteMessage(1, []byte(`{"id":`+strconv.Itoa(j+1)+`,"op":"publish","channel":"chat:`+strconv.Itoa(i)+`","data":1}`)); err != nil {
					errs <- err.Error()
					return
				}
			}
			for j := range pubs {
				var r map[string]any
				if err := c.c.ReadJSON(&r); err != nil {
					errs <- err.Error()
					return
				}
				if r["id"] != float64(j+1) || r["ok"] != true {
					errs <- "socket " + strconv.Itoa(i) + ": reply " + strconv.Itoa(j+1) + ": " + strconv.Quote(func() string { s, _ := r["error"].(map[string]any); return stringOf(s) }())
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	// Anonymous sockets that never published still share a session that
	// no one changed: a fresh one may still subscribe and publish.
	c, _ := dialWS(t, addr, "", nil)
	if r := c.call(`{"id":1,"op":"subscribe","channel":"chat:x"}`); r["ok"] != true {
		t.Fatalf("fresh anonymous subscribe: %v", r)
	}
}

func stringOf(m map[string]any) string {
	if m == nil {
		return ""
	}
	s, _ := m["message"].(string)
	return s
}
