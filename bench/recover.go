package bench

import (
	"context"
	"fmt"
	"time"
)

// The recover scenario: every subscriber disconnects, RecoverPubs
// publications are made on each channel, and the subscribers reconnect and
// resubscribe from the last publication they saw (rtd: "since"; Centrifuge:
// "recover" with epoch and offset). It measures the time from the first
// redial until every subscriber has seen the last of the publications it
// missed (Result.CatchUpMS), each subscriber's own catch-up time (from its
// redial, in Latency), and loss and duplicates as fanout does.

// recoverRun runs the scenario on the subscribers that are ready and returns
// what it published on each channel.
func (d *driver) recoverRun(ctx context.Context, base string) ([][]uint64, error) {
	cfg, r := d.cfg, d.r
	f, ok := d.cs.(*fleet)
	if !ok {
		return nil, fmt.Errorf("bench: recover runs in one process")
	}
	pub := newPublisher(cfg, base, nil)
	// One publication first, so that every subscriber has a position that
	// names a publication it received.
	if err := pub.publishRound(ctx, 1); err != nil {
		return nil, err
	}
	if err := d.waitFor(ctx, cfg.Drain, "warming up", func(p progress) bool { return p.Delivered+p.LostSoFar >= pub.expected.Load() }); err != nil {
		return pub.published, err
	}
	f.onLoops(func(m *member) int64 {
		if m.kind == memberSteady && m.ready {
			m.c.close(errStopping)
			m.recovering, m.caught, m.done = true, false, false
		}
		return 0
	})
	if err := pub.publishRound(ctx, cfg.RecoverPubs); err != nil {
		return pub.published, err
	}
	f.recoverTarget = make([]uint64, cfg.Channels)
	for ch := range f.recoverTarget {
		f.recoverTarget[ch] = pub.published[ch][0]
	}
	before := f.progress()
	var want int64
	for _, m := range f.members {
		if m.recovering {
			want++
		}
	}
	f.recoverStart = mono()
	f.lastCatch.Store(f.recoverStart)
	go f.dialRecovering()
	err := d.waitFor(ctx, cfg.ReadyTimeout, "recovering", func(p progress) bool {
		return f.caughtUp.Load()+p.Failed-before.Failed+p.Dropped-before.Dropped >= want
	})
	catch := time.Duration(f.lastCatch.Load() - f.recoverStart)
	r.Server.PeakRSS = max(r.Server.ReadyRSS, serverRSS(cfg.PID))
	r.CatchUpMS = ms(catch)
	r.Recovered = f.caughtUp.Load()
	r.Published, r.Expected = pub.count.Load(), pub.expected.Load()
	if catch > 0 {
		r.DeliveredPerSec = float64(f.progress().Delivered-before.Delivered) / catch.Seconds()
	}
	return pub.published, err
}

// waitFor polls the progress until done says so, ctx ends or limit passes.
func (d *driver) waitFor(ctx context.Context, limit time.Duration, phase string, done func(progress) bool) error {
	deadline := time.Now().Add(limit)
	tick := time.NewTicker(10 * time.Millisecond) // polling counters that the loops update
	defer tick.Stop()
	defer d.endLive()
	for {
		p := d.cs.progress()
		d.live(p, phase)
		if done(p) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: %s for %s", ErrNotReady, phase, limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// dialRecovering redials the members that disconnected (onLoops set
// recovering, and nothing touches a closed member on its loop).
func (f *fleet) dialRecovering() {
	for k, m := range f.members {
		if !m.recovering {
			continue
		}
		select {
		case f.slots <- struct{}{}:
		case <-f.stopped:
			return
		}
		m.redial = mono()
		f.dial(f.cfg.FirstConn+k, m, k)
	}
}

// caughtUpNow: a recovering member has seen the last publication it missed.
func (m *member) caughtUpNow() {
	f := m.f
	m.caught = true
	now := mono()
	m.rec.mu.Lock()
	m.rec.latency.Record(time.Duration(now - m.redial))
	m.rec.mu.Unlock()
	f.caughtUp.Add(1)
	for {
		last := f.lastCatch.Load()
		if now <= last || f.lastCatch.CompareAndSwap(last, now) {
			return
		}
	}
}
