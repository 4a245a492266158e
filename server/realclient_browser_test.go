package server

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/rtd-project/rtd/internal/nodeclient"
)

// browserPage drives Chromium's native WebSocket and EventSource against
// /echo and /ticks and reports through window.__results / window.__done, as
// test/node/browser.mjs expects.
const browserPage = `<!doctype html>
<title>rtd real-client test</title>
<script>
const r = window.__results = {ws: [], wsOpen: null, wsClose: null, sse: [], opens: 0, errors: 0};
let wsDone = false, sseDone = false;
const finish = () => { if (wsDone && sseDone) window.__done = true; };

const ws = new WebSocket('ws://' + location.host + '/echo');
ws.binaryType = 'arraybuffer';
ws.onopen = () => {
  r.wsOpen = {protocol: ws.protocol, extensions: ws.extensions};
  ws.send('hello wörld');
  ws.send(new Uint8Array([0, 255, 16, 128]));
};
ws.onmessage = (e) => {
  r.ws.push(typeof e.data === 'string' ? {binary: false, data: e.data}
                                       : {binary: true, data: Array.from(new Uint8Array(e.data))});
  if (r.ws.length === 2) ws.close(1000, 'done');
};
ws.onclose = (e) => { r.wsClose = {code: e.code, reason: e.reason, wasClean: e.wasClean}; wsDone = true; finish(); };

const es = new EventSource('/ticks');
es.onopen = () => r.opens++;
es.onerror = () => r.errors++;
const collect = (e) => {
  r.sse.push({event: e.type, id: e.lastEventId, data: e.data});
  if (r.sse.length === 6) { es.close(); sseDone = true; finish(); }
};
es.addEventListener('tick', collect);
es.addEventListener('message', collect);
</script>`

type browserResults struct {
	WS []struct {
		Binary bool `json:"binary"`
		Data   any  `json:"data"`
	} `json:"ws"`
	WSOpen  struct{ Protocol, Extensions string } `json:"wsOpen"`
	WSClose struct {
		Code     int    `json:"code"`
		Reason   string `json:"reason"`
		WasClean bool   `json:"wasClean"`
	} `json:"wsClose"`
	SSE    []receivedEvent `json:"sse"`
	Opens  int             `json:"opens"`
	Errors int             `json:"errors"`
}

// TestRealClientBrowser loads a page from rtd in headless Chromium: its
// WebSocket echoes text and binary with permessage-deflate and closes
// cleanly with 1000; its EventSource reads /ticks across three streams that
// rtd ends after two events each, resuming from the last id every time.
func TestRealClientBrowser(t *testing.T) {
	t.Parallel()
	if _, err := nodeclient.Chromium(); err != nil {
		t.Fatal(err)
	}
	closes := make(chan closeSeen, 1)
	var ids idLog
	s := startServer(t, Options{}, func(s *Server) {
		mountScriptedEcho(t, s, closes)
		mountTicks(t, s, SSEOptions{Retry: 100 * time.Millisecond}, &ids)
		err := s.HandleFunc("GET", "/page", func(w *ResponseWriter, _ *Request) {
			w.SetHeader("Content-Type", "text/html; charset=utf-8")
			_, _ = w.WriteString(browserPage)
		})
		if err != nil {
			t.Fatal(err)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	out, err := nodeclient.Run(ctx, "browser.mjs", httpURL(s, "/page"), "--timeout", "30000")
	if err != nil || len(out) != 1 {
		t.Fatalf("browser.mjs: %v, output %q", err, out)
	}
	var r browserResults
	if err := json.Unmarshal([]byte(out[0]), &r); err != nil {
		t.Fatalf("%v in %s", err, out[0])
	}

	if len(r.WS) != 2 || r.WS[0].Binary || r.WS[0].Data != "hello wörld" || !r.WS[1].Binary ||
		!slices.Equal(asInts(r.WS[1].Data), []int{0, 255, 16, 128}) {
		t.Errorf("WebSocket echoes %+v, want \"hello wörld\" and [0 255 16 128]", r.WS)
	}
	if r.WSOpen.Extensions != "permessage-deflate; server_no_context_takeover; client_no_context_takeover" {
		t.Errorf("WebSocket extensions %q", r.WSOpen.Extensions)
	}
	if r.WSClose.Code != 1000 || !r.WSClose.WasClean {
		t.Errorf("WebSocket close %+v, want a clean 1000", r.WSClose)
	}
	if c := waitClose(t, closes); c != (closeSeen{1000, "done"}) {
		t.Errorf("server OnClose %+v, want 1000 done", c)
	}

	if want := wantTicks(1, 6); !slices.Equal(r.SSE, want) {
		t.Errorf("EventSource events\ngot  %q\nwant %q", r.SSE, want)
	}
	if r.Opens != 3 || r.Errors != 2 {
		t.Errorf("EventSource opens %d, errors %d; want 3 and 2", r.Opens, r.Errors)
	}
	if got := ids.get(); !slices.Equal(got, []string{"", "2", "4"}) {
		t.Errorf("the server saw Last-Event-ID %q, want [\"\" 2 4]", got)
	}
}

// asInts converts a decoded JSON array of numbers.
func asInts(v any) []int {
	a, _ := v.([]any)
	out := make([]int, 0, len(a))
	for _, x := range a {
		f, _ := x.(float64)
		out = append(out, int(f))
	}
	return out
}
