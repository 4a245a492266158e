package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"testing"
	"time"
)

// TestE2ESSETokenExpiry: an SSE stream opened with a token is ended when the
// token expires, after an "error" event that says why; a stream whose token
// has not expired stays open meanwhile.
func TestE2ESSETokenExpiry(t *testing.T) {
	d := startDaemon(t, "--jwt-secret", testSecret)
	open := func(ttl time.Duration) *bufio.Reader {
		// Bounded: a stream that is never ended fails the test, not the run.
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		t.Cleanup(cancel)
		req, _ := http.NewRequestWithContext(ctx, "GET", d.url("/sse?channel=news&token="+token(t, testSecret, "erin", ttl, []string{"news"}, nil)), nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		if resp.StatusCode != 200 {
			t.Fatalf("stream: %d", resp.StatusCode)
		}
		return bufio.NewReader(resp.Body)
	}
	short, long := open(2*time.Second), open(time.Hour)
	start := time.Now()
	if ev := readSSEEvent(t, short); ev["event"] != "error" || ev["data"] != `{"error":"token expired"}` {
		t.Fatalf("first event of the expiring stream: %v", ev)
	}
	if _, err := io.Copy(io.Discard, short); err != nil { // to the stream's end
		t.Fatalf("stream after expiry: %v, want its end", err)
	}
	if took := time.Since(start); took > 6*time.Second {
		t.Fatalf("ended %v after opening, the token lived 2s", took)
	}
	// The other stream still delivers.
	if code, _ := d.api(t, "POST", "/api/publish", "", `{"channel":"news","data":"still here"}`); code != 200 {
		t.Fatalf("publish: %d", code)
	}
	if ev := readSSEEvent(t, long); ev["data"] != `"still here"` {
		t.Fatalf("the unexpired stream got %v", ev)
	}
}
