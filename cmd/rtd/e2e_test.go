package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// rtdBinary is built once by TestMain; the end-to-end tests run it as a
// separate process, as operators do.
var rtdBinary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "rtd-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	rtdBinary = filepath.Join(dir, "rtd")
	build := exec.Command("go", "build", "-o", rtdBinary, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building rtd:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// daemon is a running `rtd serve`.
type daemon struct {
	cmd  *exec.Cmd
	addr string
	logs *logBuffer
	done chan error
}

// startDaemon runs rtd serve on a free loopback port with args and waits for
// its "listening" log line. The process is stopped (SIGTERM) at cleanup.
func startDaemon(t *testing.T, args ...string) *daemon {
	t.Helper()
	args = append([]string{"serve", "--addr", "127.0.0.1:0", "--log-level", "info"}, args...)
	return runDaemon(t, exec.Command(rtdBinary, args...))
}

// runDaemon starts cmd, an rtd serve, as startDaemon does (with cmd.Env, or
// the test's environment, as its environment).
func runDaemon(t *testing.T, cmd *exec.Cmd) *daemon {
	t.Helper()
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	cmd.Env = append(cmd.Env, "RTD_CONFIG=")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d := &daemon{cmd: cmd, logs: newLogBuffer(), done: make(chan error, 1)}
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			d.logs.WriteString(line + "\n")
			var rec struct{ Message, Addr string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Message == "listening" {
				addrc <- rec.Addr
			}
		}
		d.done <- cmd.Wait()
	}()
	select {
	case d.addr = <-addrc:
	case err := <-d.done:
		t.Fatalf("rtd exited before listening: %v\n%s", err, d.logs)
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatal("rtd did not start listening")
	}
	t.Cleanup(func() { d.stop(t) })
	return d
}

// stop sends SIGTERM and expects a clean exit (status 0) within the
// shutdown timeout.
func (d *daemon) stop(t *testing.T) {
	if d.cmd.ProcessState != nil {
		return
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-d.done:
		if err != nil {
			t.Errorf("rtd exited with %v after SIGTERM\n%s", err, d.logs)
		}
	case <-time.After(15 * time.Second):
		d.cmd.Process.Kill()
		t.Errorf("rtd did not exit after SIGTERM")
	}
}

func (d *daemon) url(path string) string { return "http://" + d.addr + path }

// api calls the server API and decodes the JSON answer.
func (d *daemon) api(t *testing.T, method, path, key, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, d.url(path), strings.NewReader(body))
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(b) > 0 && json.Unmarshal(b, &out) != nil {
		t.Fatalf("%s %s: not JSON: %q", method, path, b)
	}
	return resp.StatusCode, out
}

// wsClient is a channel-protocol client on gorilla/websocket.
type wsClient struct {
	t *testing.T
	c *websocket.Conn
}

func dialWS(t *testing.T, d *daemon, query string) *wsClient {
	t.Helper()
	c, resp, err := websocket.DefaultDialer.Dial("ws://"+d.addr+"/ws"+query, nil)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial /ws%s: %v (status %d)", query, err, status)
	}
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	t.Cleanup(func() { c.Close() })
	return &wsClient{t, c}
}

func (w *wsClient) send(cmd string) {
	w.t.Helper()
	if err := w.c.WriteMessage(websocket.TextMessage, []byte(cmd)); err != nil {
		w.t.Fatal(err)
	}
}

func (w *wsClient) read() map[string]any {
	w.t.Helper()
	_, m, err := w.c.ReadMessage()
	if err != nil {
		w.t.Fatalf("read: %v", err)
	}
	var v map[string]any
	if err := json.Unmarshal(m, &v); err != nil {
		w.t.Fatalf("not JSON: %q", m)
	}
	return v
}

// call sends a command and returns the reply.
func (w *wsClient) call(cmd string) map[string]any {
	w.t.Helper()
	w.send(cmd)
	return w.read()
}

func TestE2EPublishReachesWebSocketAndSSE(t *testing.T) {
	d := startDaemon(t)
	ws := dialWS(t, d, "")
	if r := ws.call(`{"id":1,"op":"subscribe","channel":"news"}`); r["ok"] != true || r["id"] != 1.0 {
		t.Fatalf("subscribe reply %v", r)
	}
	resp, err := http.Get(d.url("/sse?channel=news"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	sse := bufio.NewReader(resp.Body)
	for i := 1; i <= 3; i++ {
		code, out := d.api(t, "POST", "/api/publish", "", fmt.Sprintf(`{"channel":"news","event":"upd","data":{"n":%d}}`, i))
		if code != 200 || out["offset"] != float64(i) {
			t.Fatalf("publish %d: %d %v", i, code, out)
		}
	}
	for i := 1; i <= 3; i++ {
		p := ws.read()
		data, _ := json.Marshal(p["data"])
		if p["channel"] != "news" || p["offset"] != float64(i) || p["event"] != "upd" || string(data) != fmt.Sprintf(`{"n":%d}`, i) {
			t.Fatalf("ws push %d: %v", i, p)
		}
	}
	for i := 1; i <= 3; i++ {
		ev := readSSEEvent(t, sse)
		if ev["event"] != "upd" || ev["data"] != fmt.Sprintf(`{"n":%d}`, i) || !strings.HasSuffix(ev["id"], fmt.Sprintf(":%d", i)) {
			t.Fatalf("sse event %d: %v", i, ev)
		}
	}
	_, stats := d.api(t, "GET", "/api/stats", "", "")
	if stats["published"] != 3.0 {
		t.Fatalf("stats %v", stats)
	}
	// The Prometheus counters agree with what happened: 3 publications,
	// 3 pushes plus the subscribe reply on the WebSocket, 3 SSE events, all
	// 3 retained for recovery, nothing left unread in a send queue.
	m := scrape(t, d, "")
	for series, want := range map[string]float64{
		"rtd_publications_total":           3,
		"rtd_deliveries_total":             6,
		"rtd_websocket_messages_out_total": 4,
		"rtd_websocket_messages_in_total":  1,
		"rtd_sse_events_out_total":         3,
		`rtd_connections{transport="ws"}`:  1,
		`rtd_connections{transport="sse"}`: 1,
		"rtd_websocket_upgrades_total":     1,
		"rtd_sse_streams_total":            1,
		"rtd_auth_failures_total":          0,
		"rtd_history_publications":         3,
		"rtd_send_queue_bytes":             0,
	} {
		if got, ok := m[series]; !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", series, got, ok, want)
		}
	}
}

// scrape reads /metrics into series → value.
// scrape reads /metrics with the API key (none: from loopback, as /api/*).
func scrape(t *testing.T, d *daemon, key string) map[string]float64 {
	t.Helper()
	req, _ := http.NewRequest("GET", d.url("/metrics"), nil)
	if key != "" {
		req.Header.Set("X-API-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		var v float64
		fmt.Sscan(line[i+1:], &v)
		out[line[:i]] = v
	}
	return out
}

// readSSEEvent reads one dispatched event (comments and retry-only blocks
// skipped) as field → value.
func readSSEEvent(t *testing.T, br *bufio.Reader) map[string]string {
	t.Helper()
	ev := map[string]string{}
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("sse: %v", err)
		}
		line = strings.TrimSuffix(line, "\n")
		if line == "" {
			if _, ok := ev["data"]; ok {
				return ev
			}
			ev = map[string]string{}
			continue
		}
		if strings.HasPrefix(line, ":") {
			continue
		}
		k, v, _ := strings.Cut(line, ":")
		ev[k] = strings.TrimPrefix(v, " ")
	}
}

func TestE2ERecovery(t *testing.T) {
	d := startDaemon(t)
	ws := dialWS(t, d, "")
	ws.call(`{"id":1,"op":"subscribe","channel":"feed"}`)
	d.api(t, "POST", "/api/publish", "", `{"channel":"feed","data":1}`)
	last := ws.read()
	ws.c.Close()
	for i := 2; i <= 6; i++ {
		d.api(t, "POST", "/api/publish", "", fmt.Sprintf(`{"channel":"feed","data":%d}`, i))
	}
	pos := fmt.Sprintf("%s:%d", last["epoch"], int(last["offset"].(float64)))

	t.Run("websocket resubscribe", func(t *testing.T) {
		ws := dialWS(t, d, "")
		r := ws.call(`{"id":2,"op":"subscribe","channel":"feed","since":"` + pos + `"}`)
		if r["ok"] != true || r["recovered"] != true {
			t.Fatalf("reply %v", r)
		}
		for i := 2; i <= 6; i++ {
			if p := ws.read(); p["data"] != float64(i) {
				t.Fatalf("recovered %v, want data %d", p, i)
			}
		}
		gone := ws.call(`{"id":3,"op":"subscribe","channel":"other","since":"zzzz:5"}`)
		if gone["ok"] != true || gone["recovered"] != false {
			t.Fatalf("unrecoverable position: %v", gone)
		}
	})
	t.Run("sse Last-Event-ID", func(t *testing.T) {
		req, _ := http.NewRequest("GET", d.url("/sse?channel=feed"), nil)
		req.Header.Set("Last-Event-ID", pos)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		br := bufio.NewReader(resp.Body)
		for i := 2; i <= 6; i++ {
			if ev := readSSEEvent(t, br); ev["data"] != fmt.Sprint(i) {
				t.Fatalf("recovered %v, want %d", ev, i)
			}
		}
	})
}

func TestE2EBadInput(t *testing.T) {
	d := startDaemon(t, "--api-key", "s3cret")
	ws := dialWS(t, d, "")
	for _, tc := range []struct{ cmd, code string }{
		{`{not json`, "100"},
		{`{"id":1,"op":"teleport"}`, "101"},
		{`{"id":2,"op":"subscribe","channel":""}`, "104"},
		{`{"id":3,"op":"subscribe","channel":"bad\u0000name"}`, "104"},
		{`{"id":4,"op":"publish","channel":"news","data":1}`, "103"},
		{`{"id":5,"op":"subscribe","channel":"x","since":"nope"}`, "111"},
		{`{"id":6,"op":"unsubscribe","channel":"never"}`, "106"},
	} {
		r := ws.call(tc.cmd)
		e, _ := r["error"].(map[string]any)
		if e == nil || fmt.Sprint(e["code"]) != tc.code {
			t.Fatalf("%s: reply %v, want error %s", tc.cmd, r, tc.code)
		}
	}
	// The connection keeps working after every error.
	if r := ws.call(`{"op":"ping"}`); r["op"] != "pong" {
		t.Fatalf("ping after errors: %v", r)
	}
	ws.call(`{"id":7,"op":"subscribe","channel":"news"}`)
	// An oversized command closes with 1009.
	big := `{"id":8,"op":"ping","pad":"` + strings.Repeat("x", 70<<10) + `"}`
	ws.send(big)
	_, _, err := ws.c.ReadMessage()
	if !websocket.IsCloseError(err, 1009) {
		t.Fatalf("oversized command: %v, want close 1009", err)
	}
	// Wrong or missing API key: 401, and nothing is published.
	if code, _ := d.api(t, "POST", "/api/publish", "wrong", `{"channel":"news","data":1}`); code != 401 {
		t.Fatalf("wrong key: %d", code)
	}
	if code, _ := d.api(t, "POST", "/api/publish", "", `{"channel":"news","data":1}`); code != 401 {
		t.Fatalf("no key: %d", code)
	}
	if code, _ := d.api(t, "POST", "/api/publish", "s3cret", `{"channel":"news"`); code != 400 {
		t.Fatalf("malformed publish: %d", code)
	}
	if code, _ := d.api(t, "POST", "/api/publish", "s3cret", `{"publications":[{"channel":"a","data":1},{"channel":"","data":2}]}`); code != 400 {
		t.Fatalf("bad batch: %d", code)
	}
	_, hist := d.api(t, "GET", "/api/history/a", "s3cret", "")
	if pubs, _ := hist["publications"].([]any); len(pubs) != 0 {
		t.Fatalf("a rejected batch published %v", hist)
	}
	code, out := d.api(t, "POST", "/api/publish", "s3cret", `{"channel":"news","data":{"ok":1}}`)
	if code != 200 || out["offset"] != 1.0 {
		t.Fatalf("good publish: %d %v", code, out)
	}
	// The two refused API keys count as auth failures.
	if got, ok := scrape(t, d, "s3cret")["rtd_auth_failures_total"]; !ok || got != 2 {
		t.Fatalf("rtd_auth_failures_total = %v (present %v), want 2", got, ok)
	}
}

// dialSmallWindow dials TCP with a 4 KiB receive buffer, set before the
// connection is made: a client that stops reading then fills rtd's side
// after little more than the server's own socket buffer.
func dialSmallWindow(ctx context.Context, network, addr string) (net.Conn, error) {
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var err error
		if cerr := rc.Control(func(fd uintptr) {
			err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		}); cerr != nil {
			return cerr
		}
		return err
	}}
	return d.DialContext(ctx, network, addr)
}

// TestE2ESlowClientClosedAndRecovers: with the daemon's default policy a
// WebSocket and an SSE client that stop reading are closed (1013; the
// stream ends) instead of silently missing publications, counted in
// rtd_slow_client_closes_total, and both come back and recover what they
// missed from history.
func TestE2ESlowClientClosedAndRecovers(t *testing.T) {
	file := filepath.Join(t.TempDir(), "rtd.yaml")
	// A long grace: the test reads only after publishing.
	os.WriteFile(file, []byte("slow-client-grace: 30s\nhistory-size: 1000\n"), 0o600)
	d := startDaemon(t, "--config", file)

	wsd := websocket.Dialer{NetDialContext: dialSmallWindow, HandshakeTimeout: 5 * time.Second}
	c, _, err := wsd.Dial("ws://"+d.addr+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	slow := &wsClient{t, c}
	if r := slow.call(`{"id":1,"op":"subscribe","channel":"flood"}`); r["ok"] != true {
		t.Fatalf("subscribe: %v", r)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", d.url("/sse?channel=flood"), nil)
	resp, err := (&http.Transport{DialContext: dialSmallWindow}).RoundTrip(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("sse: %v %v", resp, err)
	}
	defer resp.Body.Close()

	// 400 publications of 16 KiB: 6.4 MiB, more than the server's socket
	// buffer (4 MiB at most) and the 1 MiB send queue hold. Neither client
	// reads meanwhile.
	const pubs, batch = 400, 20
	pad := strings.Repeat("x", 16<<10)
	for i := 1; i <= pubs; i += batch {
		var b strings.Builder
		for j := i; j < i+batch; j++ {
			if j > i {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"channel":"flood","data":"%d %s"}`, j, pad)
		}
		if code, out := d.api(t, "POST", "/api/publish", "", `{"publications":[`+b.String()+`]}`); code != 200 {
			t.Fatalf("publish from %d: %d %v", i, code, out)
		}
	}

	// The WebSocket gets what was queued before its queue filled, then 1013.
	var last map[string]any
	for {
		_, m, err := c.ReadMessage()
		if err != nil {
			if !websocket.IsCloseError(err, 1013) {
				t.Fatalf("after %v: %v, want close 1013", last["offset"], err)
			}
			break
		}
		last = nil
		if err := json.Unmarshal(m, &last); err != nil {
			t.Fatal(err)
		}
	}
	if last == nil || last["offset"].(float64) >= pubs {
		t.Fatalf("the slow WebSocket got every publication (last %v): no policy applied", last["offset"])
	}
	// The SSE stream ends; what it read is whole events up to some id.
	lastID := ""
	br := bufio.NewReader(resp.Body)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("sse after id %q: %v, want the server to end the stream", lastID, err)
			}
			break
		}
		if id, ok := strings.CutPrefix(line, "id: "); ok {
			lastID = strings.TrimSpace(id)
		}
	}
	if lastID == "" || strings.HasSuffix(lastID, fmt.Sprintf(":%d", pubs)) {
		t.Fatalf("the slow SSE stream got every publication or none (last id %q)", lastID)
	}
	if got := scrape(t, d, "")["rtd_slow_client_closes_total"]; got != 2 {
		t.Fatalf("rtd_slow_client_closes_total = %v, want 2", got)
	}

	// The WebSocket client resubscribes from its last position until it
	// has everything. A recovery burst is held to the same send queue, so
	// it may take more than one round, each ending in 1013 and each
	// starting where the last one stopped.
	next := int(last["offset"].(float64)) + 1
	for rounds := 1; next <= pubs; rounds++ {
		if rounds > 10 {
			t.Fatalf("still at offset %d after 10 recoveries", next)
		}
		ws := dialWS(t, d, "")
		pos := fmt.Sprintf("%s:%d", last["epoch"], next-1)
		if r := ws.call(`{"id":2,"op":"subscribe","channel":"flood","since":"` + pos + `"}`); r["ok"] != true || r["recovered"] != true {
			t.Fatalf("resubscribe since %s: %v", pos, r)
		}
		for next <= pubs {
			_, m, err := ws.c.ReadMessage()
			if err != nil {
				if !websocket.IsCloseError(err, 1013) {
					t.Fatalf("recovering offset %d: %v", next, err)
				}
				break
			}
			var p map[string]any
			json.Unmarshal(m, &p)
			if p["offset"] != float64(next) || !strings.HasPrefix(p["data"].(string), fmt.Sprint(next, " ")) {
				t.Fatalf("recovered offset %v, want %d", p["offset"], next)
			}
			next++
		}
		ws.c.Close()
	}
	// The SSE client comes back with its Last-Event-ID and resumes right
	// after it.
	req, _ = http.NewRequest("GET", d.url("/sse?channel=flood"), nil)
	req.Header.Set("Last-Event-ID", lastID)
	resp2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp2.Body.Close()
	_, off, _ := strings.Cut(lastID, ":")
	var seen int
	fmt.Sscan(off, &seen)
	if ev := readSSEEvent(t, bufio.NewReader(resp2.Body)); ev["id"] != fmt.Sprintf("%s:%d", last["epoch"], seen+1) {
		t.Fatalf("SSE resumed after %q with id %q", lastID, ev["id"])
	}
}

// TestE2EWebSocketLiveness: the daemon pings, a client that answers stays
// connected well past the idle timeout, and one that does not is closed with
// 1001 once the idle timeout has passed.
func TestE2EWebSocketLiveness(t *testing.T) {
	d := startDaemon(t, "--ws-heartbeat", "100ms", "--ws-idle-timeout", "400ms")

	// Answers every ping: after 8 of them (800 ms, twice the idle timeout)
	// it still gets replies.
	live := dialWS(t, d, "")
	pings := make(chan struct{}, 64)
	live.c.SetPingHandler(func(p string) error {
		select {
		case pings <- struct{}{}:
		default:
		}
		return live.c.WriteControl(websocket.PongMessage, []byte(p), time.Now().Add(time.Second))
	})
	msgs := make(chan map[string]any, 1)
	go func() {
		for {
			_, m, err := live.c.ReadMessage()
			if err != nil {
				close(msgs)
				return
			}
			var v map[string]any
			json.Unmarshal(m, &v)
			msgs <- v
		}
	}()
	for range 8 {
		<-pings
	}
	live.send(`{"op":"ping"}`)
	if r, ok := <-msgs; !ok || r["op"] != "pong" {
		t.Fatalf("a client answering pings after 8 of them: %v (open %v)", r, ok)
	}

	// Never answers: closed as idle.
	silent := dialWS(t, d, "")
	pinged := 0
	silent.c.SetPingHandler(func(string) error { pinged++; return nil })
	_, _, err := silent.c.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != 1001 || ce.Text != "idle timeout" || pinged == 0 {
		t.Fatalf("a client that never answers: %v after %d pings, want close 1001 \"idle timeout\"", err, pinged)
	}
}

// TestE2ESSECredentialsAndRetry: sse-allow-credentials and sse-retry reach
// the /sse route: an allowed origin is named with Allow-Credentials, and the
// stream opens with the configured retry hint.
func TestE2ESSECredentialsAndRetry(t *testing.T) {
	file := filepath.Join(t.TempDir(), "rtd.yaml")
	os.WriteFile(file, []byte("allowed-origins: [\"https://app.example\"]\nsse-allow-credentials: true\nsse-retry: 4500ms\n"), 0o600)
	d := startDaemon(t, "--config", file)
	req, _ := http.NewRequest("GET", d.url("/sse?channel=news"), nil)
	req.Header.Set("Origin", "https://app.example")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example" || resp.Header.Get("Access-Control-Allow-Credentials") != "true" {
		t.Fatalf("%d, CORS headers %v", resp.StatusCode, resp.Header)
	}
	br := bufio.NewReader(resp.Body)
	pad, _ := br.ReadString('\n')
	if retry, err := br.ReadString('\n'); !strings.HasPrefix(pad, ":") || retry != "retry: 4500\n" {
		t.Fatalf("the stream opens with %q, %q (%v); want the padding comment, then the retry hint 4500", pad, retry, err)
	}
}
