package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestE2EQuietChannelKeepsEpoch (issue 12, item 1): a position taken on a
// channel before its first publication still resumes it once the client's
// subscription was its only one and it left.
func TestE2EQuietChannelKeepsEpoch(t *testing.T) {
	d := startDaemon(t)
	ws := dialWS(t, d, "")
	r := ws.call(`{"id":1,"op":"subscribe","channel":"quiet"}`)
	pos, _ := r["position"].(string)
	ws.c.Close()
	eventually(t, "the subscriber gone", func() bool {
		_, st := d.api(t, "GET", "/api/stats", "", "")
		return st["subscriptions"] == 0.0
	})
	for i := 1; i <= 5; i++ {
		d.api(t, "POST", "/api/publish", "", fmt.Sprintf(`{"channel":"quiet","data":%d}`, i))
	}
	ws = dialWS(t, d, "")
	r = ws.call(`{"id":2,"op":"subscribe","channel":"quiet","since":"` + pos + `"}`)
	epoch, _, _ := strings.Cut(pos, ":")
	if r["recovered"] != true || r["position"] != epoch+":5" {
		t.Fatalf("resubscribed from %s: %v, want recovered at %s:5", pos, r, epoch)
	}
	for i := 1; i <= 5; i++ {
		if p := ws.read(); p["data"] != float64(i) {
			t.Fatalf("missed publication %v, want data %d", p, i)
		}
	}
}

// openSSE opens /sse with query and an optional Last-Event-ID.
func openSSE(t *testing.T, d *daemon, query, lastID string) *bufio.Reader {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	req, _ := http.NewRequestWithContext(ctx, "GET", d.url("/sse"+query), nil)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		cancel()
		t.Fatalf("stream: %v %v", err, resp)
	}
	t.Cleanup(func() { resp.Body.Close(); cancel() })
	return bufio.NewReader(resp.Body)
}

// TestE2ERecoveredNoticeHasID (issue 12, item 4): the "recovered" notice
// carries an id naming where the stream is in each of its channels, so the
// browser's next Last-Event-ID resumes from there instead of being refused
// again.
func TestE2ERecoveredNoticeHasID(t *testing.T) {
	d := startDaemon(t)
	for _, query := range []string{"?channel=one", "?channel=a&channel=b"} {
		t.Run(query, func(t *testing.T) {
			n := strings.Count(query, "channel=")
			stale := strings.TrimSuffix(strings.Repeat("deadbeef:7,", n), ",")
			br := openSSE(t, d, query, stale)
			var id string
			for range n {
				ev := readSSEEvent(t, br)
				if ev["event"] != "recovered" || !strings.Contains(ev["data"], `"recovered":false`) {
					t.Fatalf("resuming from %s: %v, want a recovered:false notice", stale, ev)
				}
				if id = ev["id"]; id == "" || strings.Count(id, ",") != n-1 || strings.Contains(id, "deadbeef") {
					t.Fatalf("notice id %q, want a fresh position for each of %d channels", id, n)
				}
			}
			br = openSSE(t, d, query, id)
			last := query[strings.LastIndexByte(query, '=')+1:]
			d.api(t, "POST", "/api/publish", "", `{"channel":"`+last+`","data":"x"}`)
			data := ev0(t, br, n)
			if data != `"x"` {
				t.Fatalf("resuming from the notice's id %s: %v, want the publication", id, data)
			}
		})
	}
}

// ev0 reads the next event of a stream on n channels and returns its
// publication data (a notice fails the test).
func ev0(t *testing.T, br *bufio.Reader, n int) string {
	t.Helper()
	ev := readSSEEvent(t, br)
	if ev["event"] == "recovered" {
		t.Fatalf("told it did not recover: %v", ev)
	}
	if n > 1 {
		return sseData(t, ev)
	}
	return ev["data"]
}
