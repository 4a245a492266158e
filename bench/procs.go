package bench

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"time"
)

// With --procs K the parent starts K children (ChildCommand SCENARIO --child),
// each holding a share of the connections, and talks to them in JSON lines:
//
//	parent → child stdin:  the child's Config, then {"op":"start"}, then
//	                       {"op":"stop","published":[[…]]}
//	child → parent stdout: {"progress":{…},"latency":{…}} every 50 ms (the
//	                       latencies recorded since the last line), then
//	                       {"result":{…}} or {"error":"…"}
//
// The parent publishes, samples and merges: counters add up and the
// histograms merge exactly.

// childMessage is a line a child writes.
type childMessage struct {
	Progress *progress   `json:"progress,omitempty"`
	Latency  *Histogram  `json:"latency,omitempty"`
	Result   *partResult `json:"result,omitempty"`
	Error    string      `json:"error,omitempty"`
}

// childCommand is a line the parent writes after the config.
type childCommand struct {
	Op        string     `json:"op"` // start, stop
	Published [][]uint64 `json:"published,omitempty"`
}

// childReportPeriod is how often a child reports progress; the parent's
// flow control (Rate 0) sees deliveries this late.
const childReportPeriod = 50 * time.Millisecond

// children is the client side spread over child processes.
type children struct {
	procs []*child
}

type child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	enc   *json.Encoder

	mu       sync.Mutex
	progress progress
	latency  Histogram // since the last drainInterval
	result   *partResult
	err      error
	done     chan struct{}
}

func startChildren(cfg Config) (*children, error) {
	command := cfg.ChildCommand
	if len(command) == 0 {
		exe, err := os.Executable()
		if err != nil {
			return nil, err
		}
		command = []string{exe, "bench"}
	}
	cs := &children{}
	first := 0
	for k := range cfg.Procs {
		share := cfg.Conns / cfg.Procs
		if k < cfg.Conns%cfg.Procs {
			share++
		}
		ccfg := cfg
		ccfg.Conns, ccfg.FirstConn, ccfg.TotalConns = share, first, cfg.Conns
		first += share
		c, err := startChild(command, ccfg)
		if err != nil {
			cs.kill()
			return nil, err
		}
		cs.procs = append(cs.procs, c)
	}
	return cs, nil
}

func startChild(command []string, cfg Config) (*child, error) {
	args := append(append([]string(nil), command[1:]...), cfg.Scenario, "--child")
	cmd := exec.Command(command[0], args...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrChild, err)
	}
	c := &child{cmd: cmd, stdin: stdin, enc: json.NewEncoder(stdin), done: make(chan struct{})}
	go c.read(stdout)
	if err := c.enc.Encode(cfg); err != nil {
		return c, fmt.Errorf("%w: %v", ErrChild, err)
	}
	return c, nil
}

// read consumes the child's lines until it exits.
func (c *child) read(r io.Reader) {
	defer close(c.done)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	for sc.Scan() {
		var m childMessage
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			c.fail(fmt.Errorf("%w: bad line %.100q", ErrChild, sc.Bytes()))
			continue
		}
		c.mu.Lock()
		if m.Progress != nil {
			c.progress = *m.Progress
		}
		if m.Latency != nil {
			c.latency.Merge(m.Latency)
		}
		if m.Result != nil {
			c.result = m.Result
		}
		c.mu.Unlock()
		if m.Error != "" {
			c.fail(fmt.Errorf("%w: %s", ErrChild, m.Error))
		}
	}
	if err := c.cmd.Wait(); err != nil {
		c.fail(fmt.Errorf("%w: %v", ErrChild, err))
	}
}

func (c *child) fail(err error) {
	c.mu.Lock()
	if c.err == nil {
		c.err = err
	}
	c.mu.Unlock()
}

func (cs *children) send(cmd childCommand) {
	for _, c := range cs.procs {
		_ = c.enc.Encode(cmd)
	}
}

func (cs *children) kill() {
	for _, c := range cs.procs {
		_ = c.cmd.Process.Kill()
		<-c.done
	}
}

func (cs *children) open() {} // children dial as soon as they have their config

func (cs *children) progress() progress {
	var p progress
	for _, c := range cs.procs {
		c.mu.Lock()
		p.add(c.progress)
		c.mu.Unlock()
	}
	return p
}

func (cs *children) drainInterval(h *Histogram) {
	for _, c := range cs.procs {
		c.mu.Lock()
		h.Merge(&c.latency)
		c.latency.Reset()
		c.mu.Unlock()
	}
}

func (cs *children) start() { cs.send(childCommand{Op: "start"}) }

func (cs *children) stop(published [][]uint64) (*partResult, error) {
	cs.send(childCommand{Op: "stop", Published: published})
	res := &partResult{}
	var errs []error
	for _, c := range cs.procs {
		<-c.done
		c.mu.Lock()
		if c.result != nil {
			res.merge(c.result)
		} else if c.err == nil {
			c.err = fmt.Errorf("%w: no result", ErrChild)
		}
		if c.err != nil {
			errs = append(errs, c.err)
		}
		c.mu.Unlock()
	}
	if len(errs) == len(cs.procs) {
		return nil, errors.Join(errs...)
	}
	return res, errors.Join(errs...)
}

// rss returns the children's resident memory.
func (cs *children) rss() int64 {
	var n int64
	for _, c := range cs.procs {
		rss, _, _ := procStatus(c.cmd.Process.Pid)
		n += rss
	}
	return n
}

// runChild is the child side: it reads its Config from stdin, holds its
// connections and reports until the parent says stop.
func runChild(stdin io.Reader, stdout io.Writer) error {
	dec := json.NewDecoder(stdin)
	enc := json.NewEncoder(stdout)
	var cfg Config
	if err := dec.Decode(&cfg); err != nil {
		return err
	}
	cfg = cfg.withDefaults()
	f, err := newFleet(cfg)
	if err != nil {
		_ = enc.Encode(childMessage{Error: err.Error()})
		return err
	}
	f.open()
	var mu sync.Mutex // serialises stdout between the reporter and the result
	quit := make(chan struct{})
	reporterDone := make(chan struct{})
	go func() {
		defer close(reporterDone)
		tick := time.NewTicker(childReportPeriod)
		defer tick.Stop()
		for {
			select {
			case <-quit:
				return
			case <-tick.C:
			}
			var h Histogram
			f.drainInterval(&h)
			p := f.progress()
			mu.Lock()
			_ = enc.Encode(childMessage{Progress: &p, Latency: &h})
			mu.Unlock()
		}
	}()
	for {
		var cmd childCommand
		if err := dec.Decode(&cmd); err != nil {
			// The parent is gone: stop without a report.
			close(quit)
			<-reporterDone
			_, _ = f.stop(nil)
			return err
		}
		switch cmd.Op {
		case "start":
			f.start()
		case "stop":
			close(quit)
			<-reporterDone
			// The latencies recorded between the last report and now stay in
			// the fleet's total, which the result carries.
			res, err := f.stop(cmd.Published)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				return enc.Encode(childMessage{Error: err.Error()})
			}
			p := res.Progress
			return enc.Encode(childMessage{Progress: &p, Result: res})
		}
	}
}
