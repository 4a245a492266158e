package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// publisher publishes stamped publications over POST /api/publish: Publishers
// goroutines, each going round the channels, at Rate in total or, with Rate 0,
// as fast as the subscribers take them (at most Window publications per
// subscriber undelivered).
type publisher struct {
	cfg       *Config
	endpoint  string
	client    *http.Client
	subs      []int64 // steady subscribers per channel
	delivered func() int64

	published [][]uint64 // [channel][publisher]; column p is written by publisher p only
	expected  atomic.Int64
	count     atomic.Int64
	stopping  atomic.Bool // set to end the run after the requests in flight
}

func newPublisher(cfg *Config, base string, delivered func() int64) *publisher {
	p := &publisher{
		cfg:       cfg,
		endpoint:  base + "/api/publish",
		client:    &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: cfg.Publishers, DisableCompression: true}},
		subs:      make([]int64, cfg.Channels),
		delivered: delivered,
		published: make([][]uint64, cfg.Channels),
	}
	for i := range cfg.TotalConns {
		if !cfg.slow(i) {
			p.subs[i%cfg.Channels]++
		}
	}
	for ch := range p.published {
		p.published[ch] = make([]uint64, cfg.Publishers)
	}
	return p
}

// run publishes until stop is called or ctx ends, and returns the first error.
func (p *publisher) run(ctx context.Context) error {
	var wg sync.WaitGroup
	errs := make(chan error, p.cfg.Publishers)
	for id := range p.cfg.Publishers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := p.publishLoop(ctx, id); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

func (p *publisher) publishLoop(ctx context.Context, id int) error {
	cfg := p.cfg
	perPub := cfg.Rate / float64(cfg.Publishers)
	var window int64
	for _, n := range p.subs {
		window += n
	}
	window *= int64(cfg.Window)
	ch := id % cfg.Channels
	begin := time.Now()
	var done int
	var body []byte
	batch := make([]int, 0, cfg.Batch) // channels of the publications in the body
	for ctx.Err() == nil && !p.stopping.Load() {
		n := cfg.Batch
		if perPub > 0 {
			due := int(time.Since(begin).Seconds()*perPub) - done
			if due <= 0 {
				wait := time.Until(begin.Add(time.Duration(float64(done+1) / perPub * float64(time.Second))))
				sleepCtx(ctx, wait) // pacing the publish rate
				continue
			}
			n = min(due, cfg.Batch)
		}
		room := window - (p.expected.Load() - p.delivered())
		batch = batch[:0]
		for k := ch; len(batch) < n; k = (k + 1) % cfg.Channels {
			if perPub == 0 {
				if room < p.subs[k] && (len(batch) > 0 || room < window/2) {
					break
				}
				room -= p.subs[k]
			}
			batch = append(batch, k)
		}
		if len(batch) == 0 {
			sleepCtx(ctx, 200*time.Microsecond) // waiting for the subscribers to catch up
			continue
		}
		ch = (batch[len(batch)-1] + 1) % cfg.Channels
		var err error
		if body, err = p.postBatch(ctx, body, id, batch); err != nil {
			return err
		}
		done += len(batch)
	}
	return nil
}

// postBatch publishes as publisher id on the channels in batch, building the
// request in body, and counts them once the server took them.
func (p *publisher) postBatch(ctx context.Context, body []byte, id int, batch []int) ([]byte, error) {
	body = p.appendBody(body[:0], id, batch)
	if err := p.post(ctx, body); err != nil {
		return body, err
	}
	for _, k := range batch {
		p.published[k][id]++
		p.expected.Add(p.subs[k])
	}
	p.count.Add(int64(len(batch)))
	return body, nil
}

// publishRound makes n publications on every channel as publisher 0, at most
// Batch in a request, and returns when the server has taken them all.
func (p *publisher) publishRound(ctx context.Context, n int) error {
	var body []byte
	batch := make([]int, 0, p.cfg.Batch)
	for i := range n * p.cfg.Channels {
		batch = append(batch, i%p.cfg.Channels)
		if len(batch) == p.cfg.Batch || i == n*p.cfg.Channels-1 {
			var err error
			if body, err = p.postBatch(ctx, body, 0, batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	return nil
}

// appendBody appends the request body for the publications of publisher id on
// the channels in batch, numbering them on from what it has published.
func (p *publisher) appendBody(dst []byte, id int, batch []int) []byte {
	ts := time.Now().UnixNano()
	one := len(batch) == 1
	if !one {
		dst = append(dst, `{"publications":[`...)
	}
	seqs := map[int]uint64{}
	for i, k := range batch {
		if i > 0 {
			dst = append(dst, ',')
		}
		seqs[k]++
		dst = append(dst, `{"channel":"`...)
		dst = append(dst, channelName(k)...)
		dst = append(dst, `","data":`...)
		dst = appendStamp(dst, stamp{ch: k, pub: id, seq: p.published[k][id] + seqs[k], ts: ts}, p.cfg.Size)
		dst = append(dst, '}')
	}
	if !one {
		dst = append(dst, "]}"...)
	}
	return dst
}

func (p *publisher) post(ctx context.Context, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.endpoint, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		return err
	}
	reply, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("bench: publish: %s: %.200s", resp.Status, reply)
	}
	return nil
}

// sleepCtx sleeps for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
