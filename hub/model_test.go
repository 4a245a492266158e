package hub

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// The model test of recovery: random sequences of subscribe, resume,
// unsubscribe, disconnect, publish, bursts past the history size, idle time
// (history and stream records expiring) over one to three channels, checked
// against a model of what the hub promises. Every resume must either return
// exactly the publications the client missed, in order (recovered), or say
// it could not — and say so only when the history really lost some of them
// or the channel's stream was forgotten (idle past HistoryMetaTTL). Live
// deliveries must continue each client's stream without gap or duplicate.
//
// go test runs a fixed seed; -rtd.model.duration runs fresh seeds until the
// time is up, -rtd.model.seed replays one.
var (
	modelDuration = flag.Duration("rtd.model.duration", 0, "run the hub's recovery model test with random seeds for this long")
	modelSeed     = flag.Uint64("rtd.model.seed", 0, "replay the hub's recovery model test with this seed")
)

const modelSteps = 400 // per seed; go test runs a few seeds

func TestRecoveryModel(t *testing.T) {
	var tally modelTally
	run := func(seed uint64) int {
		t.Helper()
		m := newRecoveryModel(t, seed)
		m.tally = &tally
		for range modelSteps {
			m.step()
			if t.Failed() {
				t.Fatalf("seed %d (replay with -rtd.model.seed=%d), after:\n%s", seed, seed, m.trace())
			}
		}
		m.finish()
		return modelSteps
	}
	if *modelSeed != 0 {
		run(*modelSeed)
		return
	}
	steps, seeds := 0, 0
	for seed := uint64(1); seed <= 5; seed++ {
		steps += run(seed)
		seeds++
	}
	deadline := time.Now().Add(*modelDuration)
	for seed := uint64(time.Now().UnixNano()); time.Now().Before(deadline); seed++ {
		steps += run(seed)
		seeds++
	}
	t.Logf("%d steps over %d seeds: %d resumes recovered, %d not (history lost), %d streams forgotten, %d continued after idle",
		steps, seeds, tally.recovered, tally.lost, tally.forgotten, tally.revived)
}

// recoveryModel drives one hub and holds what it should be doing.
type recoveryModel struct {
	t     *testing.T
	rnd   *rand.Rand
	clock *fakeClock
	h     *Hub
	net   *testNet
	o     Options
	log   []string // the last steps, for a failure

	chans   []*modelChannel
	clients []*modelClient
	tally   *modelTally
}

// modelTally counts what the runs exercised.
type modelTally struct{ recovered, lost, forgotten, revived int }

// modelChannel is a channel's stream as the model knows it.
type modelChannel struct {
	name    string
	hist    int  // history size (0: none)
	known   bool // the hub has the stream: live, or recorded while idle
	live    bool
	epoch   string
	epochs  []string // every epoch the channel had: a new one must be new
	top     uint64
	floor   uint64 // publications at or below are not retained (overflow, idle)
	times   map[uint64]time.Time
	data    map[uint64]string
	subs    int
	idleAt  time.Time // when it went idle (its record's start)
	serials int
}

// modelClient is a connection and where it is in each channel.
type modelClient struct {
	id        string
	conn      *testConn
	connected bool
	subbed    map[string]bool
	pos       map[string]Position // last position seen per channel
	seen      int                 // conn.got entries already checked
}

func newRecoveryModel(t *testing.T, seed uint64) *recoveryModel {
	rnd := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	clock := newFakeClock()
	o := Options{
		Shards:         1 << rnd.IntN(3),
		HistorySize:    2 + rnd.IntN(8),
		HistoryTTL:     time.Duration(5+rnd.IntN(20)) * time.Second,
		HistoryMetaTTL: time.Duration(30+rnd.IntN(120)) * time.Second,
		Now:            clock.Now,
	}
	m := &recoveryModel{t: t, rnd: rnd, clock: clock, o: o}
	n := 1 + rnd.IntN(3)
	for i := range n {
		ch := &modelChannel{name: fmt.Sprint("m", i), hist: o.HistorySize, times: map[uint64]time.Time{}, data: map[uint64]string{}}
		if i == 2 {
			ch.hist = 0 // one channel of three keeps no history
		}
		m.chans = append(m.chans, ch)
	}
	o.ChannelOptions = func(name string, base ChannelOptions) ChannelOptions {
		base.HistorySize = m.channel(name).hist
		return base
	}
	m.h, m.net = newTestHub(t, 2, o)
	for i := range 3 {
		id := fmt.Sprint("c", i)
		m.clients = append(m.clients, &modelClient{id: id, subbed: map[string]bool{}, pos: map[string]Position{}})
	}
	m.logf("seed %d: %d channels, history %d for %v, stream records for %v", seed, n, o.HistorySize, o.HistoryTTL, o.HistoryMetaTTL)
	return m
}

func (m *recoveryModel) channel(name string) *modelChannel {
	for _, ch := range m.chans {
		if ch.name == name {
			return ch
		}
	}
	panic(name)
}

func (m *recoveryModel) logf(format string, args ...any) {
	m.log = append(m.log, fmt.Sprintf(format, args...))
	if len(m.log) > 40 {
		m.log = m.log[1:]
	}
}

func (m *recoveryModel) trace() string {
	out := ""
	for _, l := range m.log {
		out += "  " + l + "\n"
	}
	return out
}

func (m *recoveryModel) step() {
	c := m.clients[m.rnd.IntN(len(m.clients))]
	ch := m.chans[m.rnd.IntN(len(m.chans))]
	switch r := m.rnd.IntN(100); {
	case r < 25:
		m.subscribe(c, ch, m.rnd.IntN(5) > 0)
	case r < 35:
		m.unsubscribe(c, ch)
	case r < 42:
		m.disconnect(c)
	case r < 75:
		m.publish(ch)
	case r < 78:
		for range ch.hist + 1 + m.rnd.IntN(3) { // past the history size
			m.publish(ch)
		}
	case r < 95: // within the history's TTL, mostly
		m.idle(time.Duration(1+m.rnd.IntN(int(m.o.HistoryTTL/time.Second))) * time.Second)
	default: // within the stream records' TTL, mostly
		m.idle(time.Duration(1+m.rnd.IntN(int(m.o.HistoryMetaTTL/time.Second)*3/2)) * time.Second)
	}
}

// retained reports whether the hub still holds publication off of ch.
func (m *recoveryModel) retained(ch *modelChannel, off uint64) bool {
	return ch.live && ch.hist > 0 && off > ch.floor && off+uint64(ch.hist) > ch.top &&
		m.clock.Now().Sub(ch.times[off]) < m.o.HistoryTTL
}

// settle goes idle where the hub does: no subscribers, nothing retained.
func (m *recoveryModel) settle(ch *modelChannel) {
	if !ch.live || ch.subs > 0 || m.retained(ch, ch.top) {
		return
	}
	ch.live, ch.floor, ch.idleAt = false, ch.top, m.clock.Now()
	m.logf("  %s idle at %s:%d", ch.name, ch.epoch, ch.top)
}

// revive makes ch live again: its stream continues if recorded, else a new
// one starts with epoch (which must be new).
func (m *recoveryModel) revive(ch *modelChannel, epoch string) {
	if !ch.known {
		if slices.Contains(ch.epochs, epoch) {
			m.t.Errorf("%s: a new stream reuses epoch %s", ch.name, epoch)
		}
		ch.known, ch.epoch, ch.epochs, ch.top, ch.floor = true, epoch, append(ch.epochs, epoch), 0, 0
		m.logf("  %s starts epoch %s", ch.name, epoch)
	} else if ch.top > 0 {
		m.tally.revived++
	}
	ch.live = true
}

func (m *recoveryModel) connect(c *modelClient) {
	if c.connected {
		return
	}
	c.conn = &testConn{c: Client{ID: c.id, Loop: m.rnd.Int32N(2)}}
	if err := m.h.Connect(c.conn); err != nil {
		m.t.Fatal(err)
	}
	c.connected, c.seen = true, 0
}

func (m *recoveryModel) subscribe(c *modelClient, ch *modelChannel, resume bool) {
	m.connect(c)
	if c.subbed[ch.name] {
		return
	}
	var since *Position
	if p, ok := c.pos[ch.name]; ok && resume {
		since = &p
	}
	res, err := m.h.Subscribe(c.conn, ch.name, since)
	if err != nil {
		m.t.Fatalf("subscribe: %v", err)
	}
	m.logf("%s subscribes to %s since %v: recovered %v at %v, %d missed", c.id, ch.name, since, res.Recovered, res.Position, len(res.Missed))
	if !ch.live {
		m.revive(ch, res.Position.Epoch)
	}
	if want := (Position{ch.epoch, ch.top}); res.Position != want {
		m.t.Errorf("%s subscribes to %s: at %v, want %v", c.id, ch.name, res.Position, want)
	}
	if since != nil {
		// Recoverable: the same stream, and every publication after since
		// still retained.
		want := since.Epoch == ch.epoch && since.Offset <= ch.top
		for off := since.Offset + 1; want && off <= ch.top; off++ {
			want = m.retained(ch, off)
		}
		if res.Recovered != want {
			m.t.Errorf("%s resumes %s from %v: recovered %v, want %v (stream %s:%d, retained above %d)", c.id, ch.name, since, res.Recovered, want, ch.epoch, ch.top, ch.floor)
		}
		if res.Recovered {
			m.tally.recovered++
			m.checkStream(c, ch, *since, res.Missed, "missed")
		} else {
			m.tally.lost++
		}
		if !res.Recovered && len(res.Missed) > 0 {
			m.t.Errorf("%s resumes %s: %d missed publications with recovered:false", c.id, ch.name, len(res.Missed))
		}
	}
	c.subbed[ch.name] = true
	c.pos[ch.name] = res.Position
	ch.subs++
}

// checkStream checks that ms are exactly the publications of ch after from.
func (m *recoveryModel) checkStream(c *modelClient, ch *modelChannel, from Position, ms []*Prepared, what string) Position {
	at := from
	for _, p := range ms {
		if p.Epoch != ch.epoch || p.Offset != at.Offset+1 || string(p.Data) != ch.data[p.Offset] {
			m.t.Errorf("%s on %s: %s %s:%d %q after %v, want %s:%d %q", c.id, ch.name, what, p.Epoch, p.Offset, p.Data, at, ch.epoch, at.Offset+1, ch.data[at.Offset+1])
			return at
		}
		at = p.Position()
	}
	return at
}

// collect checks what c received live since it was last collected.
func (m *recoveryModel) collect(c *modelClient) {
	m.net.flush()
	got := c.conn.got[c.seen:]
	c.seen = len(c.conn.got)
	for _, ch := range m.chans {
		var mine []*Prepared
		for _, p := range got {
			if p.Channel == ch.name && p.Kind == KindMessage {
				mine = append(mine, p)
			}
		}
		if len(mine) > 0 {
			c.pos[ch.name] = m.checkStream(c, ch, c.pos[ch.name], mine, "live")
		}
	}
}

func (m *recoveryModel) unsubscribe(c *modelClient, ch *modelChannel) {
	if !c.subbed[ch.name] {
		return
	}
	m.collect(c)
	if err := m.h.Unsubscribe(c.conn, ch.name); err != nil {
		m.t.Fatal(err)
	}
	m.logf("%s unsubscribes from %s at %v", c.id, ch.name, c.pos[ch.name])
	delete(c.subbed, ch.name)
	ch.subs--
	m.settle(ch)
}

func (m *recoveryModel) disconnect(c *modelClient) {
	if !c.connected {
		return
	}
	m.collect(c)
	m.h.Disconnect(c.conn)
	m.logf("%s disconnects", c.id)
	c.connected = false
	for name := range c.subbed {
		ch := m.channel(name)
		ch.subs--
		m.settle(ch)
	}
	clear(c.subbed)
}

func (m *recoveryModel) publish(ch *modelChannel) {
	ch.serials++
	data := fmt.Sprint(ch.name, "#", ch.serials)
	pos, err := m.h.Publish(ch.name, Publication{Data: []byte(data)})
	if err != nil {
		m.t.Fatal(err)
	}
	m.logf("publish %s on %s: %v", data, ch.name, pos)
	if !ch.live && ch.hist > 0 {
		m.revive(ch, pos.Epoch)
	}
	if !ch.known {
		if pos != (Position{}) {
			m.t.Errorf("publish on %s, unknown and without history: at %v, want nowhere", ch.name, pos)
		}
		return
	}
	ch.top++
	ch.times[ch.top], ch.data[ch.top] = m.clock.Now(), data
	if !ch.live || ch.hist == 0 {
		ch.floor = ch.top // nobody keeps it
	}
	if want := (Position{ch.epoch, ch.top}); pos != want {
		m.t.Errorf("publish on %s: at %v, want %v", ch.name, pos, want)
	}
	if !ch.live {
		// A record that counts it lives on from now (bumpMeta).
		ch.idleAt = m.clock.Now()
	}
}

// idle lets time pass, then sweeps as the server's ticker does.
func (m *recoveryModel) idle(d time.Duration) {
	m.clock.Advance(d)
	m.h.Sweep()
	m.logf("idle %v", d)
	now := m.clock.Now()
	for _, ch := range m.chans {
		m.settle(ch)
		if ch.known && !ch.live && now.Sub(ch.idleAt) >= m.o.HistoryMetaTTL {
			ch.known = false
			m.tally.forgotten++
			m.logf("  %s forgotten", ch.name)
		}
	}
}

// finish checks the last live deliveries.
func (m *recoveryModel) finish() {
	for _, c := range m.clients {
		m.disconnect(c)
	}
}
