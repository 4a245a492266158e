package bench

import (
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// progress is a client side's running totals.
type progress struct {
	Opened     int64 `json:"opened"`      // handshakes completed
	Ready      int64 `json:"ready"`       // subscribed (fan-out) or open (other scenarios)
	Failed     int64 `json:"failed"`      // never got ready
	Dropped    int64 `json:"dropped"`     // closed by the server after getting ready
	Delivered  int64 `json:"delivered"`   // publications received by steady subscribers, or echoes
	Sent       int64 `json:"sent"`        // echo messages sent
	ChurnOpen  int64 `json:"churn_open"`  // churning connections opened
	ChurnFail  int64 `json:"churn_fail"`  // churning connections that failed
	ChurnMsgs  int64 `json:"churn_msgs"`  // publications received by churning connections
	Stray      int64 `json:"stray"`       // messages that were not what the scenario expects
	Duplicated int64 `json:"duplicated"`  // counted as they arrive
	LostSoFar  int64 `json:"lost_so_far"` // gaps seen so far (the tail is counted at the end)
}

func (p *progress) add(o progress) {
	p.Opened += o.Opened
	p.Ready += o.Ready
	p.Failed += o.Failed
	p.Dropped += o.Dropped
	p.Delivered += o.Delivered
	p.Sent += o.Sent
	p.ChurnOpen += o.ChurnOpen
	p.ChurnFail += o.ChurnFail
	p.ChurnMsgs += o.ChurnMsgs
	p.Stray += o.Stray
	p.Duplicated += o.Duplicated
	p.LostSoFar += o.LostSoFar
}

// partResult is what one client process reports when it stops.
type partResult struct {
	Progress  progress  `json:"progress"`
	Lost      uint64    `json:"lost"` // gaps and tails of steady subscribers still open
	Latency   Histogram `json:"latency"`
	Handshake Histogram `json:"handshake"`
	CPU       int64     `json:"cpu_ns"`    // user+system CPU of the process during the run
	RSS       int64     `json:"rss_bytes"` // the process's peak resident memory
	Errors    []string  `json:"errors,omitempty"`
}

func (r *partResult) merge(o *partResult) {
	r.Progress.add(o.Progress)
	r.Lost += o.Lost
	r.Latency.Merge(&o.Latency)
	r.Handshake.Merge(&o.Handshake)
	r.CPU += o.CPU
	r.RSS += o.RSS
	for _, e := range o.Errors {
		if len(r.Errors) < maxErrors {
			r.Errors = append(r.Errors, e)
		}
	}
}

// maxErrors bounds the distinct error texts kept.
const maxErrors = 8

// clientSide holds and drives the connections of a run: a fleet in this
// process, or children processes (procs.go).
type clientSide interface {
	open()
	progress() progress
	// drainInterval merges the latencies recorded since the last call into h.
	drainInterval(h *Histogram)
	start()
	// stop ends the traffic, waits for what is in flight and reports.
	// published[ch][pub] is how many publications each publisher made on
	// each channel.
	stop(published [][]uint64) (*partResult, error)
}

// memberKind says what a connection is for.
type memberKind uint8

const (
	memberSteady memberKind = iota // counted subscriber, echoer or idle connection
	memberSlow                     // never reads after subscribing
	memberChurn                    // opened and closed during the run
)

// member is a scenario's state for one connection.
type member struct {
	f     *fleet
	rec   *recorder
	kind  memberKind
	ch    int
	c     *conn
	ready bool
	done  bool // released its dial slot
	seq   seqTracker

	phase      uint8    // Centrifuge: phaseConnect, phaseSubscribe
	nextID     uint32   // Centrifuge: RPCs sent
	pos        position // recover: the last publication seen
	recovering bool     // recover: redialled, resubscribes from pos
	caught     bool     // recover: has seen every publication missed
	redial     int64    // recover: mono() at the redial
}

// recorder is one loop's latency and handshake histograms.
type recorder struct {
	mu        sync.Mutex
	latency   Histogram // since the last drainInterval
	handshake Histogram
}

// fleet is the client side in this process.
type fleet struct {
	cfg     Config
	servers []server
	loops   []*loop
	recs    []*recorder
	wsTgt   []*target         // by server
	sseTgt  map[int][]*target // by channel, then server
	members []*member         // steady and slow, by local index

	slots   chan struct{} // bounds handshakes in flight
	running atomic.Bool   // echo: keep sending; churn: keep churning
	stopped chan struct{}
	churnWG sync.WaitGroup

	// recover: the seq of the last publication on each channel, which a
	// resubscribing member has caught up with when it has seen it.
	recoverTarget                          []uint64
	recoverStart                           int64 // mono() at the first redial
	caughtUp, lastCatch, resubscribed      atomic.Int64
	opened, ready, failed, dropped         atomic.Int64
	delivered, sent, stray, dup, lostSoFar atomic.Int64
	churnOpen, churnFail, churnMsgs        atomic.Int64

	mu      sync.Mutex
	latency Histogram // merged from the recorders' intervals
	errors  []string
	cpu0    int64
	payload []byte // the echo message template
}

// maxHandshakesInFlight bounds concurrent handshakes per process, so that a
// burst of connects does not overflow the server's accept backlog.
const maxHandshakesInFlight = 512

func newFleet(cfg Config) (*fleet, error) {
	servers, err := resolveServers(cfg.URLs)
	if err != nil {
		return nil, err
	}
	f := &fleet{cfg: cfg, servers: servers, sseTgt: map[int][]*target{}, slots: make(chan struct{}, maxHandshakesInFlight), stopped: make(chan struct{})}
	wsPath := "/ws"
	if cfg.Scenario == ScenarioEcho && cfg.Protocol != ProtocolCentrifuge {
		wsPath = "/echo"
	}
	for i := range servers {
		s := &servers[i]
		f.wsTgt = append(f.wsTgt, &target{addr: s.addr, host: s.host, path: wsPath, transport: transportWS})
	}
	n := min(runtime.GOMAXPROCS(0), 4)
	for range n {
		l, err := newLoop()
		if err != nil {
			f.shutdown()
			return nil, err
		}
		f.loops = append(f.loops, l)
		f.recs = append(f.recs, &recorder{})
	}
	f.payload = make([]byte, max(cfg.Size, 8))
	for i := 8; i < len(f.payload); i++ {
		f.payload[i] = 'x'
	}
	f.cpu0 = cpuTime()
	return f, nil
}

func (f *fleet) shutdown() {
	for _, l := range f.loops {
		l.shutdown()
	}
}

// targetOf returns where connection i goes.
func (f *fleet) targetOf(i, ch int) *target {
	s := i % len(f.servers)
	if f.cfg.transportOf(i) == transportWS {
		return f.wsTgt[s]
	}
	tg := f.sseTgt[ch]
	if tg == nil {
		path := "/sse?channel=" + channelName(ch)
		if f.cfg.Scenario == ScenarioConnect {
			path = "/sse?channel=bench.idle"
		}
		if f.cfg.Protocol == ProtocolCentrifuge {
			path += cfSSEQuery
		}
		for j := range f.servers {
			srv := &f.servers[j]
			tg = append(tg, &target{addr: srv.addr, host: srv.host, path: path, transport: transportSSE})
		}
		f.sseTgt[ch] = tg
	}
	return tg[s]
}

// open dials every connection of this process, paced by Rate in the connect
// scenario and by the handshakes in flight.
func (f *fleet) open() {
	cfg := &f.cfg
	f.members = make([]*member, cfg.Conns)
	for k := range f.members {
		i := cfg.FirstConn + k
		kind := memberSteady
		if cfg.slow(i) {
			kind = memberSlow
		}
		f.members[k] = &member{f: f, rec: f.recs[k%len(f.loops)], kind: kind, ch: i % cfg.Channels}
	}
	var pace time.Duration
	if cfg.Scenario == ScenarioConnect && cfg.Rate > 0 {
		pace = time.Duration(float64(time.Second) * float64(cfg.Procs) / cfg.Rate)
	}
	go f.dialAll(pace)
}

// dialAll dials every member, pace apart, at most maxHandshakesInFlight at
// a time.
func (f *fleet) dialAll(pace time.Duration) {
	begin := time.Now()
	for k, m := range f.members {
		if pace > 0 {
			if d := time.Until(begin.Add(time.Duration(k) * pace)); d > 0 {
				time.Sleep(d) // pacing the connect rate, not synchronisation
			}
		}
		select {
		case f.slots <- struct{}{}:
		case <-f.stopped:
			return
		}
		f.dial(f.cfg.FirstConn+k, m, k)
	}
}

func (f *fleet) dial(i int, m *member, k int) {
	t := f.targetOf(i, m.ch)
	src := f.cfg.srcAddr(i)
	f.loops[k%len(f.loops)].post(func() { f.loops[k%len(f.loops)].dial(t, src, m) })
}

func (f *fleet) progress() progress {
	return progress{
		Opened: f.opened.Load(), Ready: f.ready.Load(), Failed: f.failed.Load(), Dropped: f.dropped.Load(),
		Delivered: f.delivered.Load(), Sent: f.sent.Load(), ChurnOpen: f.churnOpen.Load(),
		ChurnFail: f.churnFail.Load(), ChurnMsgs: f.churnMsgs.Load(), Stray: f.stray.Load(),
		Duplicated: f.dup.Load(), LostSoFar: f.lostSoFar.Load(),
	}
}

func (f *fleet) drainInterval(h *Histogram) {
	for _, r := range f.recs {
		r.mu.Lock()
		f.mu.Lock()
		f.latency.Merge(&r.latency)
		f.mu.Unlock()
		h.Merge(&r.latency)
		r.latency.Reset()
		r.mu.Unlock()
	}
}

func (f *fleet) noteError(err error) {
	if err == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	s := err.Error()
	for _, e := range f.errors {
		if e == s {
			return
		}
	}
	if len(f.errors) < maxErrors {
		f.errors = append(f.errors, s)
	}
}

// start begins the traffic this side makes itself: echo messages and churn.
func (f *fleet) start() {
	f.running.Store(true)
	switch f.cfg.Scenario {
	case ScenarioEcho:
		for k, m := range f.members {
			l := f.loops[k%len(f.loops)]
			l.post(func() {
				if m.ready && m.c.state == stateOpen {
					m.sendEcho()
				}
			})
		}
	case ScenarioChurn:
		f.churnWG.Add(1)
		go f.churn()
	}
}

// churn opens ChurnRate/Procs connections per second, each closing itself
// after ChurnLife.
func (f *fleet) churn() {
	defer f.churnWG.Done()
	cfg := &f.cfg
	pace := time.Duration(float64(time.Second) * float64(cfg.Procs) / cfg.ChurnRate)
	begin := time.Now()
	for n := 0; f.running.Load(); n++ {
		if d := time.Until(begin.Add(time.Duration(n) * pace)); d > 0 {
			time.Sleep(d) // pacing the churn rate
		}
		i := cfg.TotalConns + cfg.FirstConn + n // beyond the steady indexes: own sources
		m := &member{f: f, rec: f.recs[n%len(f.loops)], kind: memberChurn, ch: n % cfg.Channels}
		f.dial(i, m, n)
	}
}

// opened: the handshake is done. Subscribers send their subscribe command;
// everything else is ready at once.
func (m *member) opened(c *conn) {
	f := m.f
	m.c = c
	if m.kind != memberChurn && !m.recovering {
		f.opened.Add(1)
		m.rec.mu.Lock()
		m.rec.handshake.Record(time.Duration(mono() - c.started))
		m.rec.mu.Unlock()
	}
	switch {
	case f.cfg.Protocol == ProtocolCentrifuge:
		m.phase = phaseConnect
		if c.target.transport == transportWS {
			c.sendText([]byte(cfConnectCommand))
		}
	case f.cfg.subscribes() && c.target.transport == transportWS:
		l := c.loop
		l.cmd = appendSubscribe(l.cmd[:0], ProtocolRTD, channelName(m.ch), m.pos)
		c.sendText(l.cmd)
	default:
		m.becomeReady()
	}
}

// subscribed: the subscribe command succeeded, with or without recovering
// what the member missed.
func (m *member) subscribed(recovered bool) {
	if m.recovering && !recovered {
		m.f.noteError(ErrNotRecovered)
	}
	m.becomeReady()
}

func (m *member) becomeReady() {
	f := m.f
	m.ready = true
	m.release()
	switch m.kind {
	case memberChurn:
		f.churnOpen.Add(1)
		c, l := m.c, m.c.loop
		time.AfterFunc(f.cfg.ChurnLife, func() { l.post(func() { c.close(nil) }) })
		return
	case memberSlow:
		m.c.pause()
	}
	if m.recovering {
		f.resubscribed.Add(1)
		return
	}
	f.ready.Add(1)
	if f.cfg.Scenario == ScenarioEcho && f.running.Load() {
		m.sendEcho()
	}
}

// release gives back the dial slot, once.
func (m *member) release() {
	if !m.done {
		m.done = true
		if m.kind != memberChurn {
			<-m.f.slots
		}
	}
}

func (m *member) sendEcho() {
	f := m.f
	l := m.c.loop
	if f.cfg.Protocol == ProtocolCentrifuge {
		l.cmd = appendRPCEcho(l.cmd[:0], cfFirstRPCID+m.nextID, mono(), f.cfg.Size)
		m.nextID++
		m.c.sendText(l.cmd)
	} else {
		binary.LittleEndian.PutUint64(f.payloadFor(l), uint64(mono()))
		m.c.sendBinary(l.echo)
	}
	f.sent.Add(1)
}

// payloadFor returns the loop's copy of the echo message, whose first 8 bytes
// the caller sets to the send time.
func (f *fleet) payloadFor(l *loop) []byte {
	if l.echo == nil {
		l.echo = append([]byte(nil), f.payload...)
	}
	return l.echo
}

func (m *member) message(c *conn, p []byte) {
	f := m.f
	if f.cfg.Protocol == ProtocolCentrifuge {
		m.cfMessage(c, p)
		return
	}
	if !m.ready {
		// The reply to the subscribe command.
		if !jsonHasOK(p) {
			c.close(fmt.Errorf("%w: subscribe: %.200s", ErrRefused, p))
			return
		}
		if v, ok := jsonMember(p, "position"); ok && f.cfg.Scenario == ScenarioRecover {
			s, _ := jsonPlainString(v)
			m.pos, _ = parseRTDPosition(s)
		}
		v, _ := jsonMember(p, "recovered")
		m.subscribed(string(v) == "true")
		return
	}
	switch f.cfg.Scenario {
	case ScenarioEcho:
		if len(p) != len(f.payload) {
			f.stray.Add(1)
			return
		}
		m.echoed(int64(binary.LittleEndian.Uint64(p)))
	case ScenarioConnect:
		// Idle connections: whatever the server sends (heartbeats) is ignored.
	default:
		if f.cfg.Scenario == ScenarioRecover {
			if off, ok := jsonUint(p, `"offset"`); ok {
				m.pos.offset = off
			}
		}
		m.publication(p)
	}
}

// echoed: the echo of a message sent at sentAt (mono) came back.
func (m *member) echoed(sentAt int64) {
	f := m.f
	m.rec.mu.Lock()
	m.rec.latency.Record(time.Duration(mono() - sentAt))
	m.rec.mu.Unlock()
	f.delivered.Add(1)
	if f.running.Load() {
		m.sendEcho()
	}
}

// publication handles a publication received; p holds its stamp.
func (m *member) publication(p []byte) {
	f := m.f
	s, ok := parseStamp(p)
	if !ok {
		f.stray.Add(1) // e.g. a pong or a heartbeat: not a publication
		return
	}
	if m.kind == memberChurn {
		f.churnMsgs.Add(1)
		return
	}
	if s.ch != m.ch {
		f.stray.Add(1)
		return
	}
	if f.cfg.Scenario != ScenarioRecover {
		lat := time.Duration(time.Now().UnixNano() - s.ts)
		m.rec.mu.Lock()
		m.rec.latency.Record(lat)
		m.rec.mu.Unlock()
	}
	lost, dup := m.seq.observe(s.pub, s.seq)
	if dup > 0 {
		f.dup.Add(1)
		return
	}
	if lost > 0 {
		f.lostSoFar.Add(int64(lost))
	}
	f.delivered.Add(1)
	if m.recovering && !m.caught && s.pub == 0 && s.seq >= f.recoverTarget[m.ch] {
		m.caughtUpNow()
	}
}

// jsonHasOK reports whether a command reply says "ok": true.
func jsonHasOK(p []byte) bool {
	for i := 0; i+4 <= len(p); i++ {
		if string(p[i:i+4]) == `"ok"` {
			rest := p[i+4:]
			for len(rest) > 0 && (rest[0] == ' ' || rest[0] == ':') {
				rest = rest[1:]
			}
			return len(rest) >= 4 && string(rest[:4]) == "true"
		}
	}
	return false
}

func (m *member) closed(c *conn, err error) {
	f := m.f
	m.c = c
	wasReady := m.ready
	m.ready = false
	if errors.Is(err, errStopping) {
		return
	}
	switch {
	case m.kind == memberChurn:
		if !wasReady {
			f.churnFail.Add(1)
			f.noteError(err)
		}
	case !wasReady:
		m.release()
		f.failed.Add(1)
		f.noteError(err)
	default:
		f.dropped.Add(1)
		f.noteError(err)
	}
}

// errStopping marks connections the client itself closes at the end.
var errStopping = errors.New("bench: stopping")

func (f *fleet) stop(published [][]uint64) (*partResult, error) {
	f.running.Store(false)
	close(f.stopped)
	f.churnWG.Wait()
	// Wait for what is in flight: every publication at every steady
	// subscriber still open, or every echo answered.
	want := f.onLoops(func(m *member) int64 {
		if m.kind != memberSteady || !m.ready || m.ch >= len(published) {
			return 0
		}
		var n int64
		for _, c := range published[m.ch] {
			n += int64(c)
		}
		return n
	})
	deadline := time.Now().Add(f.cfg.Drain)
	for time.Now().Before(deadline) {
		p := f.progress()
		if f.cfg.Scenario == ScenarioEcho && p.Delivered >= p.Sent ||
			f.cfg.subscribes() && p.Delivered+p.LostSoFar >= want ||
			f.cfg.Scenario == ScenarioConnect {
			break
		}
		time.Sleep(10 * time.Millisecond) // polling counters that the loops update
	}
	tail := f.onLoops(func(m *member) int64 {
		var lost int64
		if m.kind == memberSteady && m.ready && f.cfg.subscribes() && m.ch < len(published) {
			lost = int64(m.seq.tail(published[m.ch]))
		}
		if m.ready {
			m.c.close(errStopping)
		}
		return lost
	})
	var discard Histogram
	f.drainInterval(&discard)
	p := f.progress()
	res := &partResult{Progress: p, Lost: uint64(tail + p.LostSoFar)}
	if f.cfg.Scenario == ScenarioEcho {
		res.Lost = uint64(max(p.Sent-p.Delivered, 0))
	}
	f.mu.Lock()
	res.Latency = f.latency
	res.Errors = f.errors
	f.mu.Unlock()
	for _, r := range f.recs {
		r.mu.Lock()
		res.Handshake.Merge(&r.handshake)
		r.mu.Unlock()
	}
	res.CPU = cpuTime() - f.cpu0
	res.RSS = peakRSS()
	f.shutdown()
	return res, nil
}

// onLoops runs fn for every member on the member's loop and sums the results.
func (f *fleet) onLoops(fn func(*member) int64) int64 {
	var sum atomic.Int64
	var wg sync.WaitGroup
	for li, l := range f.loops {
		wg.Add(1)
		l.post(func() {
			defer wg.Done()
			var n int64
			for k := li; k < len(f.members); k += len(f.loops) {
				n += fn(f.members[k])
			}
			sum.Add(n)
		})
	}
	wg.Wait()
	return sum.Load()
}

// cpuTime returns the process's user+system CPU time in nanoseconds.
func cpuTime() int64 {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
