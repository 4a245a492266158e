package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/rtd-project/rtd/hub"
	"github.com/rtd-project/rtd/server"
)

// The recovery model test end to end, on `rtd serve`: WebSocket clients on
// one to three channels and SSE streams on one to three, which subscribe,
// leave, come back with their positions (the /ws "since", the SSE
// Last-Event-ID, a position per channel) while publications come and
// overflow the history. Each resume must deliver exactly what the client
// missed, in order, or say recovered:false — and say so only when the
// history really lost some. (Expiry in time is the hub's model test's part:
// it injects the clock, a daemon cannot.)
var (
	e2eModelDuration = flag.Duration("rtd.model.duration", 0, "run the end-to-end recovery model test with random seeds for this long")
	e2eModelSeed     = flag.Uint64("rtd.model.seed", 0, "replay the end-to-end recovery model test with this seed")
)

const (
	e2eModelSteps   = 500 // in go test
	e2eModelHistory = 4   // history-size of the daemon
)

func TestE2ERecoveryModel(t *testing.T) {
	file := filepath.Join(t.TempDir(), "rtd.yaml")
	os.WriteFile(file, fmt.Appendf(nil, "history-size: %d\n", e2eModelHistory), 0o600)
	d := startDaemon(t, "--config", file)
	seed, steps := uint64(1), e2eModelSteps
	if *e2eModelSeed != 0 {
		seed = *e2eModelSeed
	}
	deadline := time.Now().Add(*e2eModelDuration)
	for run := 0; run == 0 || time.Now().Before(deadline); run++ {
		m := &e2eModel{t: t, d: d, rnd: rand.New(rand.NewPCG(seed, seed)), run: run, chans: map[string]*e2eStream{}}
		for i := range 3 {
			m.chans[fmt.Sprintf("r%d-ch%d", run, i)] = &e2eStream{data: map[uint64]string{}}
		}
		for i := range 4 {
			c := &e2eClient{name: fmt.Sprint("c", i), sse: i >= 2, pos: map[string]hub.Position{}, got: map[string][]e2ePush{}}
			if c.sse { // a stream's channels, the same on every reconnect
				for _, k := range m.rnd.Perm(3)[:1+m.rnd.IntN(3)] {
					c.streamChans = append(c.streamChans, m.channel(k))
				}
			}
			m.clients = append(m.clients, c)
		}
		for range steps {
			m.step()
			if t.Failed() {
				t.Fatalf("seed %d (replay with -rtd.model.seed=%d), after:\n%s", seed, seed, strings.Join(m.log, "\n"))
			}
		}
		for _, c := range m.clients {
			m.leave(c)
		}
		t.Logf("seed %d: %d steps, %d resumes recovered, %d not", seed, steps, m.recovered, m.lost)
		seed++
	}
}

// e2eStream is a channel's stream as the model knows it.
type e2eStream struct {
	epoch string
	top   uint64
	data  map[uint64]string
}

// e2eClient is a WebSocket on some channels, or an SSE stream on its own.
type e2eClient struct {
	name        string
	sse         bool
	streamChans []string // SSE: the stream's channels, in the query's order
	ws          *websocket.Conn
	body        *bufio.Reader
	stop        func()
	chans       []string                // subscribed
	pos         map[string]hub.Position // where the client is per channel
	lastID      string                  // SSE: the last event id received, what EventSource sends back
	got         map[string][]e2ePush    // received, not yet checked
	calls       int
}

// e2ePush is one publication as a client got it.
type e2ePush struct {
	pos  hub.Position
	data string
}

type e2eModel struct {
	t       *testing.T
	d       *daemon
	rnd     *rand.Rand
	run     int
	chans   map[string]*e2eStream
	clients []*e2eClient
	log     []string

	recovered, lost int
}

func (m *e2eModel) logf(format string, args ...any) {
	m.log = append(m.log, fmt.Sprintf(format, args...))
	if len(m.log) > 30 {
		m.log = m.log[1:]
	}
}

func (m *e2eModel) channel(i int) string { return fmt.Sprintf("r%d-ch%d", m.run, i) }

func (m *e2eModel) step() {
	c := m.clients[m.rnd.IntN(len(m.clients))]
	ch := m.channel(m.rnd.IntN(3))
	switch r := m.rnd.IntN(100); {
	case r < 25:
		m.join(c, ch)
	case r < 40:
		m.leave(c)
	case r < 92:
		m.publish(ch)
	default:
		for range e2eModelHistory + 1 {
			m.publish(ch)
		}
	}
}

func (m *e2eModel) publish(ch string) {
	s := m.chans[ch]
	data := fmt.Sprint(ch, "#", s.top+1)
	code, out := m.d.api(m.t, "POST", "/api/publish", "", fmt.Sprintf(`{"channel":%q,"data":%q}`, ch, data))
	if code != 200 {
		m.t.Fatalf("publish: %d %v", code, out)
	}
	epoch, _ := out["epoch"].(string)
	off, _ := out["offset"].(float64)
	m.logf("publish %s: %s:%v", data, epoch, off)
	if s.epoch == "" && s.top == 0 {
		s.epoch = epoch // the channel's first publication starts its stream
	}
	s.top++
	s.data[s.top] = data
	if epoch != s.epoch || uint64(off) != s.top {
		m.t.Errorf("publish on %s at %s:%v, want %s:%d", ch, epoch, off, s.epoch, s.top)
	}
}

// recoverable is what the model expects of a resume of ch from since.
func (m *e2eModel) recoverable(ch string, since hub.Position) bool {
	s := m.chans[ch]
	return since.Epoch == s.epoch && since.Offset <= s.top && s.top-since.Offset <= e2eModelHistory
}

// join subscribes c to ch (a WebSocket adds it; an SSE stream opens on it
// when it is not open), resuming from c's position when it has one.
func (m *e2eModel) join(c *e2eClient, ch string) {
	if c.sse {
		if c.body == nil {
			m.openSSE(c)
		}
		return
	}
	for _, have := range c.chans {
		if have == ch {
			return
		}
	}
	if c.ws == nil {
		ws, _, err := websocket.DefaultDialer.Dial("ws://"+m.d.addr+"/ws", nil)
		if err != nil {
			m.t.Fatal(err)
		}
		ws.SetReadDeadline(time.Now().Add(time.Minute))
		c.ws = ws
	}
	c.calls++
	cmd := map[string]any{"id": c.calls, "op": "subscribe", "channel": ch}
	since, resuming := c.pos[ch]
	if resuming {
		cmd["since"] = since.String()
	}
	b, _ := json.Marshal(cmd)
	if err := c.ws.WriteMessage(websocket.TextMessage, b); err != nil {
		m.t.Fatal(err)
	}
	var reply map[string]any
	for reply == nil {
		reply = m.readWS(c)
	}
	pos, err := hub.ParsePosition(fmt.Sprint(reply["position"]))
	if reply["ok"] != true || err != nil {
		m.t.Fatalf("%s subscribes to %s: %v", c.name, ch, reply)
	}
	m.logf("%s subscribes to %s since %v: %v", c.name, ch, cmd["since"], reply)
	m.started(c, ch, pos, resuming, since, reply["recovered"] == true)
	c.chans = append(c.chans, ch)
}

// started checks a subscription's start: its position, and whether it
// recovered when the model says it must. The missed publications follow and
// are checked as live ones are.
func (m *e2eModel) started(c *e2eClient, ch string, pos hub.Position, resuming bool, since hub.Position, recovered bool) {
	s := m.chans[ch]
	if s.epoch == "" {
		s.epoch = pos.Epoch // a quiet channel's stream starts with its first subscriber
	}
	if pos != (hub.Position{Epoch: s.epoch, Offset: s.top}) {
		m.t.Errorf("%s subscribes to %s at %v, want %s:%d", c.name, ch, pos, s.epoch, s.top)
	}
	if !resuming {
		c.pos[ch] = pos
		return
	}
	if c.sse {
		c.pos[ch] = since // where the replay starts
	}
	if want := m.recoverable(ch, since); recovered != want {
		m.t.Errorf("%s resumes %s from %v: recovered %v, want %v (stream at %s:%d)", c.name, ch, since, recovered, want, s.epoch, s.top)
	}
	if recovered {
		m.recovered++
	} else {
		m.lost++
		c.pos[ch] = pos
	}
}

// readWS reads one message of c: a reply is returned, a push recorded.
func (m *e2eModel) readWS(c *e2eClient) map[string]any {
	_, b, err := c.ws.ReadMessage()
	if err != nil {
		m.t.Fatalf("%s: %v", c.name, err)
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		m.t.Fatalf("%s: not JSON: %q", c.name, b)
	}
	if _, ok := v["id"]; ok {
		return v
	}
	ch, _ := v["channel"].(string)
	epoch, _ := v["epoch"].(string)
	off, _ := v["offset"].(float64)
	c.got[ch] = append(c.got[ch], e2ePush{hub.Position{Epoch: epoch, Offset: uint64(off)}, fmt.Sprint(v["data"])})
	return nil
}

// openSSE opens c's stream on its channels, from c's last event id if it
// has one (as EventSource does on a reconnect): a position per channel.
func (m *e2eModel) openSSE(c *e2eClient) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	req, _ := http.NewRequestWithContext(ctx, "GET", m.d.url("/sse?channel="+strings.Join(c.streamChans, "&channel=")), nil)
	ids, err := server.ParseEventID(c.lastID)
	resuming := err == nil
	if resuming {
		req.Header.Set("Last-Event-ID", c.lastID)
		if len(ids) != len(c.streamChans) {
			m.t.Fatalf("%s: last event id %q for %d channels", c.name, c.lastID, len(c.streamChans))
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		cancel()
		m.t.Fatalf("%s opens %v: %v %v", c.name, c.streamChans, err, resp)
	}
	c.body, c.stop = bufio.NewReader(resp.Body), func() { resp.Body.Close(); cancel() }
	c.chans = c.streamChans
	m.logf("%s opens %v from %q", c.name, c.streamChans, c.lastID)
	notices := map[string]hub.Position{} // channel → where it resumed from, for those told recovered:false
	for i, ch := range c.streamChans {
		s := m.chans[ch]
		if s.epoch == "" {
			// A quiet channel's stream starts with its first subscriber,
			// which an SSE client is not told: the API says.
			_, h := m.d.api(m.t, "GET", "/api/history/"+ch, "", "")
			pos, _ := hub.ParsePosition(fmt.Sprint(h["position"]))
			s.epoch = pos.Epoch
		}
		switch {
		case !resuming:
			c.pos[ch] = hub.Position{Epoch: s.epoch, Offset: s.top}
		case m.recoverable(ch, ids[i]):
			// Nothing announces it: the missed publications follow.
			m.started(c, ch, hub.Position{Epoch: s.epoch, Offset: s.top}, true, ids[i], true)
		default:
			notices[ch] = ids[i]
		}
	}
	// One recovered:false notice per channel that could not resume, maybe
	// behind the replays of the others.
	for len(notices) > 0 {
		ev := readSSEEvent(m.t, c.body)
		if ev["event"] == "" {
			m.recordSSE(c, ev)
			continue
		}
		var n struct {
			Channel   string
			Recovered bool
			Position  string
		}
		_ = json.Unmarshal([]byte(ev["data"]), &n)
		since, told := notices[n.Channel]
		pos, err := hub.ParsePosition(n.Position)
		if ev["event"] != "recovered" || !told || n.Recovered || err != nil {
			m.t.Fatalf("%s resumes %v from %q: %v, want a recovered:false notice for one of %v", c.name, c.streamChans, c.lastID, ev, notices)
		}
		if _, err := server.ParseEventID(ev["id"]); err != nil {
			m.t.Fatalf("%s: notice %v without a position per channel", c.name, ev)
		}
		delete(notices, n.Channel)
		c.lastID = ev["id"]
		m.started(c, n.Channel, pos, true, since, false)
	}
}

// recordSSE records a publication event of c's stream: on one channel its
// id is the position and its data the publication's; on several, its data
// is the publication's push, which names the channel.
func (m *e2eModel) recordSSE(c *e2eClient, ev map[string]string) {
	ids, err := server.ParseEventID(ev["id"])
	if err != nil || len(ids) != len(c.streamChans) {
		m.t.Fatalf("%s: event %v, want an id naming %d positions", c.name, ev, len(c.streamChans))
	}
	ch, p := c.streamChans[0], e2ePush{pos: ids[0], data: strings.Trim(ev["data"], `"`)}
	if len(c.streamChans) > 1 {
		var push struct {
			Channel string
			Epoch   string
			Offset  uint64
			Data    string
		}
		if err := json.Unmarshal([]byte(ev["data"]), &push); err != nil {
			m.t.Fatalf("%s: event data %q: %v", c.name, ev["data"], err)
		}
		ch, p = push.Channel, e2ePush{pos: hub.Position{Epoch: push.Epoch, Offset: push.Offset}, data: push.Data}
		if i := slices.Index(c.streamChans, ch); i < 0 || ids[i] != p.pos {
			m.t.Fatalf("%s: event %v names %v for its own channel %s", c.name, ev, ids, ch)
		}
	}
	c.lastID = ev["id"]
	c.got[ch] = append(c.got[ch], p)
}

// leave reads what c must have received, checks it and closes c.
func (m *e2eModel) leave(c *e2eClient) {
	if c.ws == nil && c.body == nil {
		return
	}
	missing := func(ch string) bool { return uint64(len(c.got[ch])) < m.chans[ch].top-c.pos[ch].Offset }
	for _, ch := range c.chans {
		for missing(ch) {
			if !c.sse {
				m.readWS(c)
				continue
			}
			ev := readSSEEvent(m.t, c.body)
			if ev["event"] != "" {
				m.t.Fatalf("%s on %v: event %v, want a publication", c.name, c.chans, ev)
			}
			m.recordSSE(c, ev) // of this channel or another of the stream
		}
	}
	for _, ch := range c.chans {
		m.check(c, ch)
	}
	m.logf("%s leaves %v at %v", c.name, c.chans, c.pos)
	if c.sse {
		c.stop()
		c.body = nil
	} else {
		c.ws.Close()
		c.ws = nil
	}
	c.chans = nil
}

// check compares what c received on ch with the stream after c's position.
func (m *e2eModel) check(c *e2eClient, ch string) {
	s := m.chans[ch]
	at := c.pos[ch]
	for _, p := range c.got[ch] {
		if p.pos != (hub.Position{Epoch: s.epoch, Offset: at.Offset + 1}) || p.data != s.data[p.pos.Offset] {
			m.t.Errorf("%s on %s: got %q at %v after %v, want %q at %s:%d", c.name, ch, p.data, p.pos, at, s.data[at.Offset+1], s.epoch, at.Offset+1)
			return
		}
		at = p.pos
	}
	c.pos[ch] = at
	c.got[ch] = nil
}
