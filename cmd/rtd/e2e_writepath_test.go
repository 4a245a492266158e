package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// The tier's side of the write path's promises, against `rtd serve`: replies
// in command order when commands arrive together, replays many times the
// send queue under every slow-client policy, and replies larger than a
// command.

// rawFrames is a /ws client over a plain TCP connection: the test decides
// which bytes go out in one write.
type rawFrames struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

func dialRawFrames(t *testing.T, d *daemon) *rawFrames {
	t.Helper()
	c, err := net.DialTimeout("tcp", d.addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	fmt.Fprintf(c, "GET /ws HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", d.addr)
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, &http.Request{Method: "GET"})
	if err != nil || resp.StatusCode != 101 {
		t.Fatalf("upgrade: %v %v", resp, err)
	}
	return &rawFrames{t, c, br}
}

// send writes the commands as masked text frames in one write.
func (r *rawFrames) send(cmds ...string) {
	r.t.Helper()
	var b []byte
	for _, c := range cmds {
		b = append(b, ws.MustCompileFrame(ws.MaskFrameInPlace(ws.NewTextFrame([]byte(c))))...)
	}
	if _, err := r.c.Write(b); err != nil {
		r.t.Fatal(err)
	}
}

// read returns the next message, decoded; a close frame fails the test.
func (r *rawFrames) read() map[string]any {
	r.t.Helper()
	h, err := ws.ReadHeader(r.br)
	if err != nil {
		r.t.Fatalf("read: %v", err)
	}
	if h.Length > 16<<20 {
		r.t.Fatalf("frame of %d bytes", h.Length)
	}
	p := make([]byte, h.Length)
	if _, err := io.ReadFull(r.br, p); err != nil {
		r.t.Fatal(err)
	}
	if h.OpCode == ws.OpClose {
		code, reason := ws.ParseCloseFrameData(p)
		r.t.Fatalf("closed: %d %q", code, reason)
	}
	var v map[string]any
	if err := json.Unmarshal(p, &v); err != nil {
		r.t.Fatalf("not JSON: %.100q", p)
	}
	return v
}

func TestE2ERepliesInCommandOrder(t *testing.T) {
	d := startDaemon(t)
	r := dialRawFrames(t, d)
	r.send(`{"id":1,"op":"ping"}`,
		`{"id":2,"op":"subscribe","channel":"a"}`,
		`{"id":3,"op":"history","channel":"a"}`,
		`{"id":4,"op":"unsubscribe","channel":"a"}`,
		`{"id":5,"op":"subscribe","channel":"b"}`,
		`{"id":6,"op":"ping"}`)
	for want := 1.0; want <= 6; want++ {
		if m := r.read(); m["id"] != want {
			t.Fatalf("reply %v, want the reply to command %v", m, want)
		}
	}
}

// withConfig writes a YAML config and returns the --config argument pair.
func withConfig(t *testing.T, yaml string) []string {
	p := filepath.Join(t.TempDir(), "rtd.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return []string{"--config", p}
}

// TestE2EReplayManyTimesTheSendQueue: a prompt reader that missed 45 × 60 KB
// on each of two channels (over 10× a 256 KiB send queue each) gets
// recovered:true and exactly what it missed, on /ws and on /sse (one channel
// and both in one stream), under every slow-client policy, and with the
// history on a NATS bus.
func TestE2EReplayManyTimesTheSendQueue(t *testing.T) {
	for _, policy := range []string{"close", "drop", "error"} {
		t.Run(policy, func(t *testing.T) {
			d := startDaemon(t, append(withConfig(t, queueConfig), "--slow-client-policy", policy)...)
			checkReplays(t, d)
		})
	}
	t.Run("broker", func(t *testing.T) {
		_, nodes, _ := startCluster(t, t.TempDir(), 1, withConfig(t, queueConfig)...)
		checkReplays(t, nodes[0])
	})
}

const queueConfig = "max-send-queue-bytes: 262144\n"

// checkReplays publishes 45 × 60 KB on channels r1 and r2 behind a reader's
// back and checks each way of resuming gets exactly those, in order.
func checkReplays(t *testing.T, d *daemon) {
	const missed = 45
	pad := strings.Repeat("x", 60<<10)
	var pos [2]string
	ws := dialWS(t, d, "")
	for k, ch := range []string{"r1", "r2"} {
		// A publication first: history keeps the channel's epoch.
		if code, _ := d.api(t, "POST", "/api/publish", "", `{"channel":"`+ch+`","data":{"n":0}}`); code != 200 {
			t.Fatalf("publish: %d", code)
		}
		pos[k] = r0(t, ws.call(`{"id":1,"op":"history","channel":"`+ch+`","limit":1}`))
	}
	for i := 1; i <= missed; i++ {
		for _, ch := range []string{"r1", "r2"} {
			if code, _ := d.api(t, "POST", "/api/publish", "", fmt.Sprintf(`{"channel":%q,"data":{"ch":%q,"n":%d,"pad":%q}}`, ch, ch, i, pad)); code != 200 {
				t.Fatalf("publish %d: %d", i, code)
			}
		}
	}
	t.Run("ws", func(t *testing.T) {
		r := dialRawFrames(t, d)
		r.send(`{"id":3,"op":"subscribe","channel":"r1","since":"` + pos[0] + `"}`)
		if m := r.read(); m["recovered"] != true {
			t.Fatalf("reply %v", m)
		}
		for i := 1; i <= missed; i++ {
			if m := r.read(); m["data"].(map[string]any)["n"] != float64(i) {
				t.Fatalf("publication %d: got n=%v", i, m["data"].(map[string]any)["n"])
			}
		}
	})
	for _, chans := range [][]string{{"r1"}, {"r1", "r2"}} {
		t.Run("sse "+strings.Join(chans, "+"), func(t *testing.T) {
			req, _ := http.NewRequest("GET", d.url("/sse?channel="+strings.Join(chans, "&channel=")), nil)
			req.Header.Set("Last-Event-ID", strings.Join(pos[:len(chans)], ","))
			resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			br := bufio.NewReader(resp.Body)
			next := map[string]int{"r1": 1, "r2": 1}
			for range missed * len(chans) {
				ev := readSSEEvent(t, br)
				data := ev["data"]
				if len(chans) > 1 {
					data = sseData(t, ev) // the publication's push: it names its channel
				}
				var v struct {
					Ch string
					N  int
				}
				if json.Unmarshal([]byte(data), &v) != nil || v.N != next[v.Ch] || ev["event"] != "" {
					t.Fatalf("event %v %.80q, want %v", ev["event"], ev["data"], next)
				}
				next[v.Ch]++
				if ids := strings.Split(ev["id"], ","); len(ids) != len(chans) {
					t.Fatalf("event id %q names %d positions, want %d", ev["id"], len(ids), len(chans))
				}
			}
		})
	}
}

// r0 returns the position a history reply reports.
func r0(t *testing.T, r map[string]any) string {
	t.Helper()
	p, ok := r["position"].(string)
	if !ok {
		t.Fatalf("history reply %v", r)
	}
	return p
}

// TestE2EBigReplies: a reply larger than a command (70 publications of
// 1 KB, over the 64 KiB command limit) arrives whole; one larger than half
// the send queue comes in pages ("more" and "next"), which together hold
// every publication once.
func TestE2EBigReplies(t *testing.T) {
	const total = 300
	d := startDaemon(t, withConfig(t, "max-send-queue-bytes: 262144\nhistory-size: 300\n")...)
	pad := strings.Repeat("y", 1000)
	for i := 1; i <= total; i++ {
		d.api(t, "POST", "/api/publish", "", fmt.Sprintf(`{"channel":"h","data":{"n":%d,"pad":%q}}`, i, pad))
	}
	ws := dialWS(t, d, "")
	r := ws.call(`{"id":1,"op":"history","channel":"h","limit":70}`)
	if pubs, _ := r["publications"].([]any); r["ok"] != true || len(pubs) != 70 {
		t.Fatalf("history of 70: %d publications (%v)", len(pubs), r["error"])
	}
	// Pages from the start: 300 KB of publications, 128 KiB a page at most.
	epoch := strings.Split(r["position"].(string), ":")[0]
	since, n, pages := epoch+":0", 0, 0
	for {
		r := ws.call(`{"id":2,"op":"history","channel":"h","limit":1000,"since":"` + since + `"}`)
		pages++
		for _, p := range r["publications"].([]any) {
			n++
			if got := p.(map[string]any)["data"].(map[string]any)["n"]; got != float64(n) {
				t.Fatalf("page %d: publication n=%v, want %d", pages, got, n)
			}
		}
		if r["more"] != true {
			break
		}
		since = r["next"].(string)
	}
	if n != total || pages < 3 {
		t.Fatalf("%d publications in %d pages", n, pages)
	}
	var body bytes.Buffer
	resp, err := http.Get(d.url("/api/history/h?limit=1000"))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = body.ReadFrom(resp.Body)
	resp.Body.Close()
	if c := strings.Count(body.String(), `"pad"`); c != total {
		t.Fatalf("API history: %d publications, want %d", c, total)
	}
}
