package nodeclient

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func runLines(t *testing.T, timeout time.Duration, script string, args ...string) ([]Line, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	raw, err := Run(ctx, script, args...)
	lines, perr := ParseLines(raw)
	if perr != nil {
		t.Fatal(perr)
	}
	return lines, err
}

func TestLocate(t *testing.T) {
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("ModuleRoot() = %s, which has no go.mod", root)
	}
	dir, err := Dir()
	if err != nil {
		t.Fatal(err)
	}
	for _, script := range []string{"ws-client.mjs", "sse-client.mjs", "browser.mjs"} {
		if _, err := os.Stat(filepath.Join(dir, script)); err != nil {
			t.Errorf("Dir() = %s, which lacks %s", dir, script)
		}
	}
	if _, err := Node(); err != nil {
		t.Fatal(err)
	}
}

func TestWSClient(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	for _, deflate := range []string{"on", "off"} {
		t.Run("deflate="+deflate, func(t *testing.T) {
			lines, err := runLines(t, 15*time.Second, "ws-client.mjs", srv.wsURL("/ws"),
				"--send", "hello", "--binary", "00ff10", "--send", "wörld", "", "--protocol", "echo", "--deflate", deflate)
			if err != nil {
				t.Fatalf("%v\noutput: %+v", err, lines)
			}
			wantExt := ""
			if deflate == "on" {
				wantExt = "permessage-deflate"
			}
			want := []Line{
				{Type: "open", Protocol: "echo"},
				{Type: "message", Data: "hello"},
				{Type: "message", Binary: true, Data: "00ff10"},
				{Type: "message", Data: "wörld"},
				{Type: "message", Data: ""},
				{Type: "close", Code: 1000},
			}
			if len(lines) != len(want) || !strings.HasPrefix(lines[0].Extensions, wantExt) || (wantExt == "" && lines[0].Extensions != "") {
				t.Fatalf("got %+v, want %+v with extensions %q", lines, want, wantExt)
			}
			lines[0].Extensions = ""
			if !slices.Equal(lines, want) {
				t.Fatalf("got %+v\nwant %+v", lines, want)
			}
		})
	}
}

func TestWSClientConnectError(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	lines, err := runLines(t, 15*time.Second, "ws-client.mjs", srv.URL+"/nowhere", "--send", "x")
	if err == nil || len(lines) != 2 || lines[0].Type != "error" || lines[1].Type != "close" || lines[1].Code != 1006 {
		t.Fatalf("a failed handshake gave %+v, %v; want error, close 1006 and a non-zero exit", lines, err)
	}
}

// sseEvents returns the events of an sse-client run and counts its opens and errors.
func sseEvents(lines []Line) (events []Line, opens, errs int) {
	for _, l := range lines {
		switch l.Type {
		case "event":
			events = append(events, l)
		case "open":
			opens++
		case "error":
			errs++
		}
	}
	return events, opens, errs
}

func TestSSEClientResumes(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	lines, err := runLines(t, 15*time.Second, "sse-client.mjs", srv.URL+"/sse-once", "--count", "5", "--events", "tick")
	if err != nil {
		t.Fatalf("%v\noutput: %+v", err, lines)
	}
	events, opens, errs := sseEvents(lines)
	var want []Line
	for id := 1; id <= 5; id++ {
		want = append(want, Line{Type: "event", Event: "tick", ID: fmt.Sprint(id), Data: fmt.Sprintf("n=%d\nsecond line", id)})
	}
	if !slices.Equal(events, want) {
		t.Fatalf("events %+v\nwant %+v", events, want)
	}
	// Events 1-2, 3-4 and 5 arrive on three connections, each of the first two ended by
	// the server (an error, then a reconnect).
	if opens != 3 || errs != 2 || lines[0].Type != "open" {
		t.Errorf("opens %d, errors %d (output %+v); want 3 and 2", opens, errs, lines)
	}
	if got := srv.seenLastEventIDs(); !slices.Equal(got, []string{"", "2", "4"}) {
		t.Errorf("server saw Last-Event-ID %q, want [\"\" 2 4]", got)
	}
}

func TestSSEClientLastEventID(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	lines, err := runLines(t, 15*time.Second, "sse-client.mjs", srv.URL+"/sse-once", "--count", "3", "--events", "tick", "--last-event-id", "10")
	if err != nil {
		t.Fatal(err)
	}
	events, _, _ := sseEvents(lines)
	if len(events) != 3 || events[0].ID != "11" || events[2].ID != "13" {
		t.Fatalf("events %+v, want ids 11..13", events)
	}
	if got := srv.seenLastEventIDs(); !slices.Equal(got, []string{"10", "12"}) {
		t.Errorf("server saw Last-Event-ID %q, want [10 12]", got)
	}
}

// A client that gets nothing ends by itself at its --timeout, with exit status 2.
func TestSSEClientTimeout(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	lines, err := runLines(t, 15*time.Second, "sse-client.mjs", srv.URL+"/sse-silent", "--timeout", "1000")
	if err == nil || len(lines) == 0 || lines[len(lines)-1].Type != "timeout" || len(lines) > 2 {
		t.Fatalf("got %+v, %v; want (open and) timeout and a failed exit", lines, err)
	}
}

// Start delivers each line as the script prints it: the server publishes the next event
// only after the test has read the previous one.
func TestStartStreamsLines(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	p, err := Start(ctx, "sse-client.mjs", srv.URL+"/sse-stream", "--count", "2")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	next := func() Line {
		t.Helper()
		s, err := p.Next(ctx)
		if err != nil {
			t.Fatalf("Next: %v (%v)", err, p.Wait())
		}
		var l Line
		if err := json.Unmarshal([]byte(s), &l); err != nil {
			t.Fatal(err)
		}
		return l
	}
	if l := next(); l.Type != "open" {
		t.Fatalf("first line %+v, want open", l)
	}
	for i, data := range []string{"first", "second"} {
		srv.push <- data
		if l := next(); l != (Line{Type: "event", Event: "message", ID: fmt.Sprint(i + 1), Data: data}) {
			t.Fatalf("line %+v, want event %q", l, data)
		}
	}
	if _, err := p.Next(ctx); err != io.EOF {
		t.Fatalf("after --count events: %v, want io.EOF", err)
	}
	if err := p.Wait(); err != nil {
		t.Fatal(err)
	}
}

// Stop ends a client that would otherwise run until its timeout.
func TestStop(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	p, err := Start(ctx, "ws-client.mjs", srv.wsURL("/ws"), "--count", "0", "--timeout", "60000")
	if err != nil {
		t.Fatal(err)
	}
	if s, err := p.Next(ctx); err != nil || !strings.Contains(s, `"open"`) {
		t.Fatalf("first line %q, %v; want open", s, err)
	}
	p.Stop()
	if err := p.Wait(); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("Wait after Stop = %v, want the kill reported", err)
	}
	if ctx.Err() != nil {
		t.Fatal("Stop waited for the context")
	}
}

// browserResults is what testPage leaves in window.__results.
type browserResults struct {
	WS []struct {
		Binary bool `json:"binary"`
		Data   any  `json:"data"`
	} `json:"ws"`
	WSOpen  struct{ Protocol, Extensions string } `json:"wsOpen"`
	WSClose struct {
		Code   int    `json:"code"`
		Reason string `json:"reason"`
	} `json:"wsClose"`
	SSE    []struct{ ID, Data string } `json:"sse"`
	Opens  int                         `json:"opens"`
	Errors int                         `json:"errors"`
}

func TestBrowser(t *testing.T) {
	t.Parallel()
	if _, err := Chromium(); err != nil {
		t.Fatal(err)
	}
	srv := newTestServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := Run(ctx, "browser.mjs", srv.URL+"/page", "--timeout", "30000")
	if err != nil || len(out) != 1 {
		t.Fatalf("browser.mjs: %v, output %q", err, out)
	}
	var r browserResults
	if err := json.Unmarshal([]byte(out[0]), &r); err != nil {
		t.Fatalf("%v in %s", err, out[0])
	}
	if len(r.WS) != 2 || r.WS[0].Binary || r.WS[0].Data != "hello" || !r.WS[1].Binary ||
		fmt.Sprint(r.WS[1].Data) != "[0 255 16]" {
		t.Errorf("WebSocket echoes %+v, want hello and [0 255 16]", r.WS)
	}
	if r.WSOpen.Protocol != "echo" || !strings.HasPrefix(r.WSOpen.Extensions, "permessage-deflate") {
		t.Errorf("WebSocket open %+v, want protocol echo and permessage-deflate", r.WSOpen)
	}
	if r.WSClose.Code != 1000 {
		t.Errorf("WebSocket close %+v, want 1000", r.WSClose)
	}
	// Six events over three connections: in order, none repeated, data lines joined by LF.
	var ids []string
	for i, e := range r.SSE {
		ids = append(ids, e.ID)
		if want := fmt.Sprintf("n=%d\nsecond line", i+1); e.Data != want {
			t.Errorf("event %d data %q, want %q", i, e.Data, want)
		}
	}
	if !slices.Equal(ids, []string{"1", "2", "3", "4", "5", "6"}) {
		t.Errorf("EventSource ids %q, want 1..6 in order", ids)
	}
	if r.Opens != 3 || r.Errors < 2 {
		t.Errorf("EventSource opens %d, errors %d; want 3 and at least 2", r.Opens, r.Errors)
	}
	if got := srv.seenLastEventIDs(); !slices.Equal(got, []string{"", "2", "4"}) {
		t.Errorf("server saw Last-Event-ID %q, want [\"\" 2 4]", got)
	}
}

func TestParseLinesRejectsGarbage(t *testing.T) {
	if _, err := ParseLines([]string{`{"type":"open"}`, `not json`}); err == nil {
		t.Fatal("ParseLines accepted a non-JSON line")
	}
}
