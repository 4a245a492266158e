package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestE2ESSEResumeAcrossChannels: a stream of two channels carries ids that
// name both; after a reconnect with the last id, the client gets exactly
// what it missed on each channel, in order, and no "recovered" warning. An
// id that names the wrong number of channels resumes nothing and says so.
func TestE2ESSEResumeAcrossChannels(t *testing.T) {
	d := startDaemon(t)
	open := func(lastID string) (*bufio.Reader, func()) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		req, _ := http.NewRequestWithContext(ctx, "GET", d.url("/sse?channel=a&channel=b"), nil)
		if lastID != "" {
			req.Header.Set("Last-Event-ID", lastID)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("stream: %v %v", err, resp)
		}
		return bufio.NewReader(resp.Body), func() { resp.Body.Close(); cancel() }
	}
	publish := func(ch string, n int) {
		t.Helper()
		if code, _ := d.api(t, "POST", "/api/publish", "", fmt.Sprintf(`{"channel":%q,"data":"%s%d"}`, ch, ch, n)); code != 200 {
			t.Fatalf("publish %s%d: %d", ch, n, code)
		}
	}
	br, stop := open("")
	publish("a", 1)
	publish("b", 1)
	var last string
	for _, want := range []string{`"a1"`, `"b1"`} {
		ev := readSSEEvent(t, br)
		if sseData(t, ev) != want || strings.Count(ev["id"], ",") != 1 {
			t.Fatalf("event %v, want data %s with an id naming both channels", ev, want)
		}
		last = ev["id"]
	}
	stop()

	// Missed while away: two on a, one on b.
	publish("a", 2)
	publish("b", 2)
	publish("a", 3)
	br, stop = open(last)
	defer stop()
	got := map[string][]string{}
	for range 3 {
		ev := readSSEEvent(t, br)
		if ev["event"] == "recovered" {
			t.Fatalf("told it did not recover: %v", ev)
		}
		d := strings.Trim(sseData(t, ev), `"`)
		got[d[:1]] = append(got[d[:1]], d)
	}
	if strings.Join(got["a"], " ") != "a2 a3" || strings.Join(got["b"], " ") != "b2" {
		t.Fatalf("resumed with %v, want a2 a3 and b2", got)
	}
	// Live again after the resume.
	publish("b", 3)
	if ev := readSSEEvent(t, br); sseData(t, ev) != `"b3"` {
		t.Fatalf("after the resume: %v", ev)
	}

	// A Last-Event-ID of three positions for a stream of two channels.
	br2, stop2 := open(last + "," + last[:strings.IndexByte(last, ',')])
	defer stop2()
	for range 2 {
		if ev := readSSEEvent(t, br2); ev["event"] != "recovered" || !strings.Contains(ev["data"], `"recovered":false`) {
			t.Fatalf("with a mismatched id: %v, want a recovered:false event per channel", ev)
		}
	}
}

// sseData returns the publication data of an event of a stream on several
// channels, whose data is the publication's push: it checks the push names a
// channel, and returns its "data" member.
func sseData(t *testing.T, ev map[string]string) string {
	t.Helper()
	var push struct {
		Channel string
		Offset  uint64
		Data    json.RawMessage
	}
	if err := json.Unmarshal([]byte(ev["data"]), &push); err != nil || push.Channel == "" || push.Offset == 0 {
		t.Fatalf("event data %q is not a publication's push (%v)", ev["data"], err)
	}
	return string(push.Data)
}
