package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/nats-io/nats-server/v2/server"

	"github.com/rtd-project/rtd/internal/natstest"
)

// TestE2ECluster runs three rtd processes on one NATS server (embedded in the
// test binary, JetStream on disk): subscribers spread over the nodes over
// WebSocket and SSE; publications accepted on every node reach each of them
// exactly once, in per-channel order; a node killed with SIGKILL loses only its
// connections, whose clients recover on the other nodes with no gap and no
// duplicate; with NATS stopped /readyz and publishing answer 503 while
// subscribers stay connected (and a node started meanwhile waits, unready);
// with NATS back on the same store the cluster heals and nothing is lost.
func TestE2ECluster(t *testing.T) {
	store := t.TempDir()
	conf := filepath.Join(t.TempDir(), "rtd.yaml")
	if err := os.WriteFile(conf, []byte("namespaces:\n  - pattern: \"room:*\"\n    client_publish: true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ns, nodes, args := startCluster(t, store, 3, "--config", conf)
	port := natstest.Port(ns)
	c := newCluster(t)
	channels := []string{"c0", "c1"}

	// On every node: two WebSocket clients on both channels, and an SSE
	// stream per channel. subsOf[i] are node i's.
	subsOf := make([][]*clusterSub, len(nodes))
	for i, d := range nodes {
		for k := range 2 {
			subsOf[i] = append(subsOf[i], c.dialWS(d, fmt.Sprintf("ws%d.%d", i, k), channels, nil))
		}
		for _, ch := range channels {
			subsOf[i] = append(subsOf[i], c.openSSE(d, fmt.Sprintf("sse%d.%s", i, ch), ch, ""))
		}
	}
	eventually(t, "cluster-wide presence of 9 on c0", func() bool {
		_, p := nodes[0].api(t, "GET", "/api/presence/c0", "", "")
		node, _ := p["node"].(map[string]any)
		return p["clients"] == 9.0 && node["clients"] == 3.0
	})
	// The channel protocol's presence counts every node too.
	if r := dialWS(t, nodes[1], "").call(`{"id":1,"op":"presence","channel":"c0"}`); r["clients"] != 9.0 || r["node"].(map[string]any)["clients"] != 3.0 {
		t.Fatalf("/ws presence on a cluster: %v", r)
	}
	_, st := nodes[1].api(t, "GET", "/api/stats", "", "")
	if cl, _ := st["cluster"].(map[string]any); cl["nodes"] != 3.0 {
		t.Fatalf("stats: %v", st)
	}

	// Publications accepted on every node, concurrently.
	c.publish(nodes, channels, 10)
	c.waitAll()

	// A node dies: its clients lose their connections and nothing else.
	dead := nodes[2]
	if err := dead.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-dead.done
	for _, s := range subsOf[2] {
		s.waitEnded(t)
	}
	c.publish(nodes[:2], channels, 5)
	// They reconnect to the other nodes and resume from their positions
	// while publishing goes on.
	more := make(chan error, 1)
	go func() { more <- c.tryPublish(nodes[:2], channels, 5) }()
	for k, s := range subsOf[2] {
		s.reconnect(nodes[k%2])
	}
	if err := <-more; err != nil {
		t.Fatal(err)
	}
	c.waitAll()
	eventually(t, "the dead node's share of presence to expire", func() bool {
		_, p := nodes[1].api(t, "GET", "/api/presence/c1", "", "")
		return p["clients"] == 9.0
	})

	// NATS goes away: nodes turn unready, publishing answers 503 on the API
	// and an error on the channel protocol; subscribers stay.
	ctl := dialWS(t, nodes[0], "")
	if r := ctl.call(`{"id":1,"op":"publish","channel":"room:1","data":1}`); r["ok"] != true {
		t.Fatalf("client publish: %v", r)
	}
	natstest.Stop(ns)
	for _, d := range nodes[:2] {
		waitReady(t, d, 503)
		code, out := d.api(t, "POST", "/api/publish", "", `{"channel":"c0","data":{"n":-1}}`)
		if code != 503 || !strings.Contains(fmt.Sprint(out["error"]), "broker unavailable") {
			t.Fatalf("publish with NATS down: %d %v", code, out)
		}
	}
	ctl.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if r := ctl.call(`{"id":2,"op":"publish","channel":"room:1","data":2}`); fmt.Sprint(r["error"].(map[string]any)["code"]) != "112" {
		t.Fatalf("client publish with NATS down: %v", r)
	}
	// A node started now starts, unready.
	restarted := startDaemon(t, args...)
	if code, body := readyz(t, restarted); code != 503 || !strings.Contains(body, "broker unavailable") {
		t.Fatalf("/readyz of a node started with NATS down: %d %q", code, body)
	}
	nodes[2] = restarted

	// NATS is back on the same store and port: every node turns ready,
	// publishing works on each, the subscribers that stayed receive, and
	// nothing published before is lost.
	natstest.Start(t, store, port)
	for _, d := range nodes {
		waitReady(t, d, 200)
	}
	c.publish(nodes, channels, 5)
	c.waitAll()
	for _, subs := range subsOf {
		for _, s := range subs {
			if n := s.connections(); n != 1 && !slices.Contains(subsOf[2], s) {
				t.Errorf("%s connected %d times", s.name, n)
			}
		}
	}
	ctl.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if r := ctl.call(`{"id":3,"op":"publish","channel":"room:1","data":3}`); r["ok"] != true {
		t.Fatalf("client publish after NATS came back: %v", r)
	}
	for _, ch := range channels {
		_, h := restarted.api(t, "GET", "/api/history/"+ch+"?limit=1000", "", "")
		pubs, _ := h["publications"].([]any)
		var got []uint64
		for _, p := range pubs {
			got = append(got, uint64(p.(map[string]any)["offset"].(float64)))
		}
		if want := c.offsets(ch); !slices.Equal(got, want) {
			t.Fatalf("history of %s after the restart: %v, want %v", ch, got, want)
		}
	}
	eventually(t, "presence shared again after the NATS restart", func() bool {
		_, p := restarted.api(t, "GET", "/api/presence/c0", "", "")
		return p["clients"] == 9.0
	})
}

// startCluster starts a NATS server storing in store and n rtd nodes on it
// (each run with args after --broker), and waits until every node is ready.
// It returns the NATS server, the nodes and their arguments.
func startCluster(t *testing.T, store string, n int, args ...string) (*server.Server, []*daemon, []string) {
	t.Helper()
	ns := natstest.Start(t, store, 0)
	args = append([]string{"--broker", fmt.Sprintf("nats://127.0.0.1:%d", natstest.Port(ns))}, args...)
	var nodes []*daemon
	for range n {
		nodes = append(nodes, startDaemon(t, args...))
	}
	for _, d := range nodes {
		waitReady(t, d, 200)
	}
	return ns, nodes, args
}

// readyz returns /readyz's status and body.
func readyz(t *testing.T, d *daemon) (int, string) {
	t.Helper()
	resp, err := http.Get(d.url("/readyz"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// waitReady polls /readyz until it answers status.
func waitReady(t *testing.T, d *daemon, status int) {
	t.Helper()
	eventually(t, fmt.Sprintf("%s /readyz %d", d.addr, status), func() bool {
		code, _ := readyz(t, d)
		return code == status
	})
}

// eventually polls cond until it holds, failing the test after 15 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(15 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		case <-tick.C:
		}
	}
}

// e2eCluster tracks what was published and the subscribers that must get it.
type e2eCluster struct {
	t        *testing.T
	progress chan struct{} // a subscriber received something (capacity 1)

	mu   sync.Mutex
	want map[string]map[uint64]string // channel → offset → data
	subs []*clusterSub
	n    int
}

func newCluster(t *testing.T) *e2eCluster {
	return &e2eCluster{t: t, progress: make(chan struct{}, 1), want: map[string]map[uint64]string{}}
}

// publish publishes perNode publications on each channel through every one
// of nodes, concurrently (one publisher per node), and records the positions
// the nodes answered.
func (c *e2eCluster) publish(nodes []*daemon, channels []string, perNode int) {
	c.t.Helper()
	if err := c.tryPublish(nodes, channels, perNode); err != nil {
		c.t.Fatal(err)
	}
}

// tryPublish is publish for goroutines other than the test's.
func (c *e2eCluster) tryPublish(nodes []*daemon, channels []string, perNode int) error {
	var wg sync.WaitGroup
	errs := make(chan error, len(nodes))
	for _, d := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range perNode {
				for _, ch := range channels {
					if err := c.publishOne(d, ch); err != nil {
						errs <- err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

func (c *e2eCluster) publishOne(d *daemon, ch string) error {
	c.mu.Lock()
	c.n++
	data := fmt.Sprintf(`{"n":%d}`, c.n)
	c.mu.Unlock()
	resp, err := http.Post(d.url("/api/publish"), "application/json", strings.NewReader(`{"channel":"`+ch+`","data":`+data+`}`))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var pos struct{ Offset uint64 }
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || json.Unmarshal(b, &pos) != nil || pos.Offset == 0 {
		return fmt.Errorf("publish on %s: %d %s", d.addr, resp.StatusCode, b)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.want[ch] == nil {
		c.want[ch] = map[uint64]string{}
	}
	if _, dup := c.want[ch][pos.Offset]; dup {
		return fmt.Errorf("offset %d of %s handed out twice", pos.Offset, ch)
	}
	c.want[ch][pos.Offset] = data
	return nil
}

// offsets returns the channel's published offsets in order.
func (c *e2eCluster) offsets(ch string) []uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]uint64, 0, len(c.want[ch]))
	for off := range c.want[ch] {
		out = append(out, off)
	}
	slices.Sort(out)
	return out
}

// waitAll waits until every subscriber has as many publications of each of
// its channels as were published, then checks they are exactly those, in
// order.
func (c *e2eCluster) waitAll() {
	c.t.Helper()
	c.mu.Lock()
	subs := slices.Clone(c.subs)
	c.mu.Unlock()
	deadline := time.After(15 * time.Second)
	for _, s := range subs {
		for _, ch := range s.channels {
			want := c.offsets(ch)
			ended := s.endedChan()
			for len(s.received(ch)) < len(want) {
				select {
				case <-c.progress:
				case <-ended:
					c.t.Fatalf("%s: connection lost (%s)", s.name, s.problem())
				case <-deadline:
					c.t.Fatalf("%s on %s: %d of %d publications", s.name, ch, len(s.received(ch)), len(want))
				}
			}
		}
	}
	for _, s := range subs {
		if p := s.problem(); p != "" {
			c.t.Fatalf("%s: %s", s.name, p)
		}
		for _, ch := range s.channels {
			c.mu.Lock()
			data := c.want[ch]
			c.mu.Unlock()
			got := s.received(ch)
			want := c.offsets(ch)
			offs := make([]uint64, len(got))
			for i, p := range got {
				offs[i] = p.offset
				if p.data != data[p.offset] {
					c.t.Fatalf("%s on %s: offset %d carries %s, want %s", s.name, ch, p.offset, p.data, data[p.offset])
				}
			}
			if !slices.Equal(offs, want) {
				c.t.Fatalf("%s on %s received %v, want %v", s.name, ch, offs, want)
			}
		}
	}
}

// push is a publication as a subscriber received it.
type push struct {
	offset uint64
	epoch  string
	data   string
}

// clusterSub is one subscriber, over its successive connections: a WebSocket
// client (on its channels) or an SSE stream (one channel).
type clusterSub struct {
	c        *e2eCluster
	name     string
	channels []string
	sse      bool
	replies  chan map[string]any // WebSocket command replies

	mu    sync.Mutex
	got   map[string][]push
	last  string // SSE: the id of the last event
	bad   string // what went wrong, if anything
	conns int
	ended chan struct{} // closed when the current connection ends
}

func (c *e2eCluster) newSub(name string, channels []string, sse bool) *clusterSub {
	s := &clusterSub{c: c, name: name, channels: channels, sse: sse, got: map[string][]push{}}
	c.mu.Lock()
	c.subs = append(c.subs, s)
	c.mu.Unlock()
	return s
}

func (s *clusterSub) record(ch string, p push) {
	s.mu.Lock()
	s.got[ch] = append(s.got[ch], p)
	s.mu.Unlock()
	select {
	case s.c.progress <- struct{}{}:
	default:
	}
}

func (s *clusterSub) fail(format string, args ...any) {
	s.mu.Lock()
	if s.bad == "" {
		s.bad = fmt.Sprintf(format, args...)
	}
	s.mu.Unlock()
}

func (s *clusterSub) problem() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bad
}

func (s *clusterSub) received(ch string) []push {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.got[ch])
}

func (s *clusterSub) connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns
}

func (s *clusterSub) endedChan() chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ended
}

// waitEnded waits until the current connection is gone.
func (s *clusterSub) waitEnded(t *testing.T) {
	t.Helper()
	select {
	case <-s.endedChan():
	case <-time.After(15 * time.Second):
		t.Fatalf("%s still connected", s.name)
	}
}

// connected starts a connection's life.
func (s *clusterSub) connected() chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.conns++
	s.ended = make(chan struct{})
	return s.ended
}

// reconnect connects again to d, resuming from what was received: `since`
// per channel on WebSocket, Last-Event-ID on SSE.
func (s *clusterSub) reconnect(d *daemon) {
	if s.sse {
		s.mu.Lock()
		last := s.last
		s.mu.Unlock()
		s.c.openSSEFor(s, d, last)
		return
	}
	since := map[string]string{}
	for _, ch := range s.channels {
		if got := s.received(ch); len(got) > 0 {
			p := got[len(got)-1]
			since[ch] = p.epoch + ":" + strconv.FormatUint(p.offset, 10)
		}
	}
	s.c.dialWSFor(s, d, since)
}

// dialWS connects a WebSocket subscriber to d and subscribes it to channels.
func (c *e2eCluster) dialWS(d *daemon, name string, channels []string, since map[string]string) *clusterSub {
	s := c.newSub(name, channels, false)
	s.replies = make(chan map[string]any, 16)
	c.dialWSFor(s, d, since)
	return s
}

func (c *e2eCluster) dialWSFor(s *clusterSub, d *daemon, since map[string]string) {
	t := c.t
	t.Helper()
	conn, _, err := websocket.DefaultDialer.Dial("ws://"+d.addr+"/ws", nil)
	if err != nil {
		t.Fatalf("%s: dial %s: %v", s.name, d.addr, err)
	}
	t.Cleanup(func() { conn.Close() })
	ended := s.connected()
	go func() {
		defer close(ended)
		for {
			_, m, err := conn.ReadMessage()
			if err != nil {
				return
			}
			var v map[string]any
			if json.Unmarshal(m, &v) != nil {
				s.fail("not JSON: %q", m)
				return
			}
			if _, reply := v["id"]; reply {
				s.replies <- v
				continue
			}
			off, _ := v["offset"].(float64)
			data, _ := json.Marshal(v["data"])
			ch, _ := v["channel"].(string)
			epoch, _ := v["epoch"].(string)
			s.record(ch, push{offset: uint64(off), epoch: epoch, data: string(data)})
		}
	}()
	for i, ch := range s.channels {
		cmd := map[string]any{"id": i + 1, "op": "subscribe", "channel": ch}
		if since[ch] != "" {
			cmd["since"] = since[ch]
		}
		b, _ := json.Marshal(cmd)
		if err := conn.WriteMessage(websocket.TextMessage, b); err != nil {
			t.Fatal(err)
		}
		select {
		case r := <-s.replies:
			if r["ok"] != true || (since[ch] != "" && r["recovered"] != true) {
				t.Fatalf("%s: subscribe %s (since %q) on %s: %v", s.name, ch, since[ch], d.addr, r)
			}
		case <-ended:
			t.Fatalf("%s: connection to %s lost while subscribing", s.name, d.addr)
		case <-time.After(15 * time.Second):
			t.Fatalf("%s: no reply to subscribe", s.name)
		}
	}
}

// openSSE opens an SSE stream of channel on d, resuming after lastID.
func (c *e2eCluster) openSSE(d *daemon, name, channel, lastID string) *clusterSub {
	s := c.newSub(name, []string{channel}, true)
	c.openSSEFor(s, d, lastID)
	return s
}

func (c *e2eCluster) openSSEFor(s *clusterSub, d *daemon, lastID string) {
	t := c.t
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", d.url("/sse?channel="+s.channels[0]), nil)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("%s: SSE on %s: %v %v", s.name, d.addr, err, resp)
	}
	// The head comes after the subscription is in place.
	ended := s.connected()
	go func() {
		defer close(ended)
		defer resp.Body.Close()
		br := bufio.NewReader(resp.Body)
		ev := map[string]string{}
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimSuffix(line, "\n")
			if line != "" {
				if k, v, ok := strings.Cut(line, ":"); ok && k != "" {
					ev[k] = strings.TrimPrefix(v, " ")
				}
				continue
			}
			switch {
			case ev["event"] != "":
				s.fail("event %q: %s", ev["event"], ev["data"])
			case ev["data"] != "":
				epoch, off, _ := strings.Cut(ev["id"], ":")
				n, _ := strconv.ParseUint(off, 10, 64)
				s.mu.Lock()
				s.last = ev["id"]
				s.mu.Unlock()
				s.record(s.channels[0], push{offset: n, epoch: epoch, data: ev["data"]})
			}
			ev = map[string]string{}
		}
	}()
}
