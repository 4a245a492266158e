package main

import (
	"bufio"
	"io"
	"net/http"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// status GETs path and answers the status and body.
func status(t *testing.T, d *daemon, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(d.url(path))
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestE2EDrainDelay: on SIGTERM with --drain-delay, /readyz answers 503 at
// once while /healthz, new WebSocket and SSE connections, publications and
// the connections already open keep working for the delay; only then do the
// connections get their close (1001) and the process exits 0. Without the
// delay a Kubernetes Service never sees the 503 before the pod goes.
func TestE2EDrainDelay(t *testing.T) {
	const delay = 3 * time.Second
	d := startDaemon(t, "--drain-delay", delay.String())
	if code, _ := status(t, d, "/readyz"); code != 200 {
		t.Fatalf("/readyz before SIGTERM: %d", code)
	}
	old := dialWS(t, d, "")
	if r := old.call(`{"id":1,"op":"subscribe","channel":"news"}`); r["ok"] != true {
		t.Fatalf("subscribe: %v", r)
	}

	signalled := time.Now()
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// /readyz turns 503 as soon as the signal is handled: poll it.
	for {
		code, body := status(t, d, "/readyz")
		if code == 503 {
			if body != "draining\n" {
				t.Errorf("/readyz body %q", body)
			}
			break
		}
		if time.Since(signalled) > delay/2 {
			t.Fatalf("/readyz still %d %.0f ms after SIGTERM", code, float64(time.Since(signalled).Milliseconds()))
		}
	}

	// Meanwhile everything else serves as before.
	if code, _ := status(t, d, "/healthz"); code != 200 {
		t.Errorf("/healthz during the drain delay: %d", code)
	}
	fresh := dialWS(t, d, "")
	if r := fresh.call(`{"id":1,"op":"subscribe","channel":"news"}`); r["ok"] != true {
		t.Fatalf("subscribe on a connection opened during the delay: %v", r)
	}
	resp, err := http.Get(d.url("/sse?channel=news"))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("/sse during the delay: %v %v", err, resp)
	}
	defer resp.Body.Close()
	if code, _ := d.api(t, "POST", "/api/publish", "", `{"channel":"news","data":"still here"}`); code != 200 {
		t.Fatalf("publish during the delay: %d", code)
	}
	for name, c := range map[string]*wsClient{"open before": old, "opened during": fresh} {
		if p := c.read(); p["data"] != "still here" {
			t.Errorf("%s the signal: got %v", name, p)
		}
	}
	if ev := readSSEEvent(t, bufio.NewReader(resp.Body)); ev["data"] != `"still here"` {
		t.Errorf("sse during the delay: %v", ev)
	}
	select {
	case err := <-d.done:
		t.Fatalf("rtd exited during the drain delay (%v)\n%s", err, d.logs)
	default:
	}
	if time.Since(signalled) >= delay {
		t.Fatalf("the checks took longer than the drain delay %v: nothing shown", delay)
	}

	// Then the graceful shutdown: 1001 to WebSockets, exit 0, not before the delay.
	fresh.c.Close()
	resp.Body.Close()
	_, _, err = old.c.ReadMessage()
	if ce, ok := err.(*websocket.CloseError); !ok || ce.Code != websocket.CloseGoingAway {
		t.Errorf("after the delay: %v, want close 1001", err)
	}
	if waited := time.Since(signalled); waited < delay {
		t.Errorf("closed %v after SIGTERM, before the drain delay %v", waited, delay)
	}
	d.exited(t, "after the drain delay")
}

// TestE2EDrainDelaySecondSignal: a second SIGTERM ends the delay at once.
func TestE2EDrainDelaySecondSignal(t *testing.T) {
	d := startDaemon(t, "--drain-delay", "1h")
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for {
		if code, _ := status(t, d, "/readyz"); code == 503 {
			break
		}
	}
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	d.exited(t, "after a second SIGTERM (the drain delay cut short)")
}

// exited expects the process to exit 0 within 15 s.
func (d *daemon) exited(t *testing.T, when string) {
	t.Helper()
	select {
	case err := <-d.done:
		if err != nil {
			t.Errorf("exit %s: %v\n%s", when, err, d.logs)
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("rtd did not exit %s", when)
	}
}

// TestE2EUnknownEnvWarned: rtd serve says so, at warn, when an RTD_*
// variable names no setting (a typo was silently ignored).
func TestE2EUnknownEnvWarned(t *testing.T) {
	cmd := exec.Command(rtdBinary, "serve", "--addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "RTD_ALLOWED_ORIGIN=https://app.example")
	d := runDaemon(t, cmd)
	d.logs.waitFor(t, `"level":"warn"`, "unknown environment variable RTD_ALLOWED_ORIGIN, ignored (did you mean RTD_ALLOWED_ORIGINS?)")
}
