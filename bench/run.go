package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"time"
)

// Run runs one benchmark against the servers and returns its result. It opens
// the connections (all of them, or fails after ReadyTimeout if none opened),
// runs the scenario's traffic for Duration while sampling a time series, then
// waits up to Drain for what is in flight and closes everything.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	servers, err := resolveServers(cfg.URLs)
	if err != nil {
		return nil, err
	}
	var cs clientSide
	if cfg.Procs > 1 {
		cs, err = startChildren(cfg)
	} else {
		cs, err = newFleet(cfg)
	}
	if err != nil {
		return nil, err
	}
	r := &Result{Scenario: cfg.Scenario, Config: cfg, Start: time.Now(), Conns: cfg.Conns}
	r.Server.PID = cfg.PID
	r.Server.StatsBefore = fetchStats(servers[0].base, true)
	r.Server.BaseRSS = serverRSS(cfg.PID)
	cpu0 := cpuTime()
	d := &driver{cfg: &cfg, cs: cs, r: r, begin: time.Now()}

	cs.open()
	p, err := d.waitReady(ctx)
	r.ConnectSeconds = time.Since(d.begin).Seconds()
	if err != nil {
		// The connections' own errors say why (refused, 401, a bad URL …).
		if part, _ := cs.stop(nil); part != nil && len(part.Errors) > 0 {
			err = fmt.Errorf("%w: %s", err, strings.Join(part.Errors, "; "))
		}
		return nil, err
	}
	r.ConnectRate = float64(p.Ready) / r.ConnectSeconds
	if cfg.PID > 0 {
		fetchStats(servers[0].base, true) // settle: collect garbage first
	}
	r.Server.ReadyRSS = serverRSS(cfg.PID)
	if p.Ready > 0 && r.Server.ReadyRSS > 0 {
		r.Server.PerConn = float64(r.Server.ReadyRSS-r.Server.BaseRSS) / float64(p.Ready)
	}

	var published [][]uint64
	if cfg.Scenario == ScenarioRecover {
		published, err = d.recoverRun(ctx, servers[0].base)
	} else {
		published, err = d.traffic(ctx, servers[0].base)
	}
	part, serr := cs.stop(published)
	if err == nil {
		err = serr
	}
	if part == nil {
		return nil, err
	}
	r.Seconds = time.Since(d.begin).Seconds()
	r.Opened, r.Ready, r.Failed, r.Dropped = part.Progress.Opened, p.Ready, part.Progress.Failed, part.Progress.Dropped
	r.Delivered, r.Sent, r.Stray, r.Duplicated = part.Progress.Delivered, part.Progress.Sent, part.Progress.Stray, part.Progress.Duplicated
	r.ChurnOpened, r.ChurnFailed = part.Progress.ChurnOpen, part.Progress.ChurnFail
	r.Lost = part.Lost
	r.latency, r.handshake = part.Latency, part.Handshake
	r.Latency, r.Handshake = summarize(&r.latency), summarize(&r.handshake)
	r.Errors = part.Errors
	r.Server.StatsAfter = fetchStats(servers[0].base, false)
	r.Client.Procs = cfg.Procs
	// A single process's fleet counted all of this process's CPU already;
	// children count theirs and the parent adds its own (the publisher).
	cpu, rss := part.CPU, part.RSS
	if cfg.Procs > 1 {
		cpu += cpuTime() - cpu0
		rss += peakRSS()
	}
	r.Client.CPUSeconds = float64(cpu) / 1e9
	r.Client.RSS = rss
	r.Client.Cores = r.Client.CPUSeconds / r.Seconds
	r.Client.CPUShare = r.Client.Cores / float64(runtime.NumCPU())
	return r, err
}

// traffic runs the traffic phase of every scenario but recover: publications
// for the fan-out scenarios, echoes, churn, for Duration while sampling. It
// returns what was published on each channel by each publisher.
func (d *driver) traffic(ctx context.Context, base string) ([][]uint64, error) {
	cfg, cs, r := d.cfg, d.cs, d.r
	var pub *publisher
	pubErr := make(chan error, 1)
	if cfg.fanout() {
		pub = newPublisher(cfg, base, func() int64 { q := cs.progress(); return q.Delivered + q.LostSoFar })
		go func() { pubErr <- pub.run(ctx) }()
	}
	cs.start()
	before := cs.progress()
	trafficStart := time.Now()
	err := d.sample(ctx, pubErr)
	trafficSecs := time.Since(trafficStart).Seconds()
	after := cs.progress()
	r.DeliveredPerSec = float64(after.Delivered-before.Delivered) / trafficSecs
	if pub == nil {
		return nil, err
	}
	pub.stopping.Store(true)
	if perr := <-pubErr; perr != nil && err == nil {
		err = perr
	}
	r.Published = pub.count.Load()
	r.Expected = pub.expected.Load()
	return pub.published, err
}

// driver runs the phases of a run that are the same in every scenario.
type driver struct {
	cfg   *Config
	cs    clientSide
	r     *Result
	begin time.Time
}

// waitReady waits until every connection is ready or failed.
func (d *driver) waitReady(ctx context.Context) (progress, error) {
	deadline := time.Now().Add(d.cfg.ReadyTimeout)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		p := d.cs.progress()
		d.live(p, "connecting")
		if p.Ready+p.Failed >= int64(d.cfg.Conns) {
			d.endLive()
			if p.Ready == 0 {
				return p, fmt.Errorf("%w: all %d connections failed", ErrNotReady, p.Failed)
			}
			return p, nil
		}
		if time.Now().After(deadline) {
			d.endLive()
			return p, fmt.Errorf("%w: %d of %d ready after %s", ErrNotReady, p.Ready, d.cfg.Conns, d.cfg.ReadyTimeout)
		}
		select {
		case <-ctx.Done():
			return p, ctx.Err()
		case <-tick.C:
		}
	}
}

// sample runs the traffic phase: a Sample every Interval until Duration has
// passed, the publisher failed or ctx ended.
func (d *driver) sample(ctx context.Context, pubErr chan error) error {
	end := time.Now().Add(d.cfg.Duration)
	interval := time.NewTicker(d.cfg.Interval)
	defer interval.Stop()
	liveTick := time.NewTicker(250 * time.Millisecond)
	defer liveTick.Stop()
	timer := time.NewTimer(d.cfg.Duration)
	defer timer.Stop()
	var h Histogram
	last, lastT := d.cs.progress(), time.Now()
	defer d.endLive()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-pubErr:
			pubErr <- err // Run reads it again
			return err
		case <-timer.C:
			return nil
		case <-liveTick.C:
			d.live(d.cs.progress(), fmt.Sprintf("%s left", time.Until(end).Round(time.Second)))
		case now := <-interval.C:
			h.Reset()
			d.cs.drainInterval(&h)
			p := d.cs.progress()
			s := Sample{T: now.Sub(d.begin).Seconds(), Ready: p.Ready - p.Dropped,
				DeliveredPerSec: float64(p.Delivered-last.Delivered) / now.Sub(lastT).Seconds(),
				P50:             ms(h.Quantile(0.5)), P99: ms(h.Quantile(0.99)), P999: ms(h.Quantile(0.999)), Max: ms(h.Max()),
				ServerRSS: serverRSS(d.cfg.PID)}
			s.ClientRSS, _, _ = procStatus(0)
			if cs, ok := d.cs.(*children); ok {
				s.ClientRSS += cs.rss()
			}
			d.r.Server.PeakRSS = max(d.r.Server.PeakRSS, s.ServerRSS, d.r.Server.ReadyRSS)
			d.r.Samples = append(d.r.Samples, s)
			last, lastT = p, now
		}
	}
}

// live refreshes the progress line.
func (d *driver) live(p progress, phase string) {
	if d.cfg.Live == nil {
		return
	}
	fmt.Fprintf(d.cfg.Live, "\r\033[K%s %s: %d ready, %d failed, %d dropped, %d delivered, %d lost, %d dup",
		d.cfg.Scenario, phase, p.Ready, p.Failed, p.Dropped, p.Delivered, p.LostSoFar, p.Duplicated)
}

func (d *driver) endLive() {
	if d.cfg.Live != nil {
		fmt.Fprint(d.cfg.Live, "\r\033[K")
	}
}

// serverRSS returns the server's resident memory, 0 without a PID.
func serverRSS(pid int) int64 {
	if pid <= 0 {
		return 0
	}
	rss, _, _ := procStatus(pid)
	return rss
}

// fetchStats returns the server's /api/stats, or nil when it has none. With
// gc the server first collects garbage and returns free memory to the OS
// (?gc=1), so its RSS read next shows live memory only.
func fetchStats(base string, gc bool) map[string]any {
	c := http.Client{Timeout: 5 * time.Second}
	url := base + "/api/stats"
	if gc {
		url += "?gc=1"
	}
	resp, err := c.Get(url)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return nil
	}
	var m map[string]any
	if json.NewDecoder(resp.Body).Decode(&m) != nil {
		return nil
	}
	return m
}
