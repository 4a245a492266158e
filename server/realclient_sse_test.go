package server

import (
	"context"
	"net/http"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	gosse "github.com/tmaxmax/go-sse"

	"github.com/rtd-project/rtd/internal/nodeclient"
	"github.com/rtd-project/rtd/proto/sse"
)

// resumeRetry is the reconnection delay the resumable routes hint, short so
// that reconnecting clients do not make the tests slow.
const resumeRetry = 50 * time.Millisecond

// resumeCase is a stream that ends every few events, which a client reads
// to the end only by reconnecting with the right Last-Event-ID.
type resumeCase struct {
	name  string
	path  string
	count int             // events the client reads
	want  []receivedEvent // exactly these, in this order
	ids   []string        // the Last-Event-ID of each stream the server sees
	log   func(*resumeServer) *idLog
}

var resumeCases = []resumeCase{
	{"ticks", "/ticks", 6, wantTicks(1, 6), []string{"", "2", "4"}, func(r *resumeServer) *idLog { return &r.ticks }},
	{"numbered", "/numbered?count=3", 7, wantNumbered(1, 7), []string{"", "3", "6"}, func(r *resumeServer) *idLog { return &r.numbered }},
}

// resumeServer serves /ticks and /numbered (see mountTicks, mountNumbered).
type resumeServer struct {
	*Server
	ticks, numbered idLog
}

func startResumeServer(t *testing.T) *resumeServer {
	r := &resumeServer{}
	o := SSEOptions{Retry: resumeRetry}
	r.Server = startServer(t, Options{}, func(s *Server) {
		mountTicks(t, s, o, &r.ticks)
		mountNumbered(t, s, "/numbered", o, &r.numbered)
	})
	return r
}

func checkResumed(t *testing.T, rs *resumeServer, c resumeCase, got []receivedEvent) {
	t.Helper()
	if !slices.Equal(got, c.want) {
		t.Errorf("events\ngot  %q\nwant %q", got, c.want)
	}
	if ids := c.log(rs).get(); !slices.Equal(ids, c.ids) {
		t.Errorf("the server saw Last-Event-ID %q, want %q", ids, c.ids)
	}
}

// TestRealClientNodeEventSource reads the resumable streams with npm
// eventsource (the WHATWG EventSource algorithm): named and unnamed events,
// multi-line data with LF and CRLF joined by LF, ids, and reconnection after
// each Stream.Close with the last id, losing and repeating nothing.
func TestRealClientNodeEventSource(t *testing.T) {
	t.Parallel()
	rs := startResumeServer(t)
	for _, c := range resumeCases {
		t.Run(c.name, func(t *testing.T) {
			raw := runNode(t, 15*time.Second, "sse-client.mjs", httpURL(rs.Server, c.path), "--count", strconv.Itoa(c.count), "--events", "tick")
			lines, err := nodeclient.ParseLines(raw)
			if err != nil {
				t.Fatal(err)
			}
			var got []receivedEvent
			opens := 0
			for _, l := range lines {
				switch l.Type {
				case "event":
					got = append(got, receivedEvent{l.Event, l.ID, l.Data})
				case "open":
					opens++
				}
			}
			checkResumed(t, rs, c, got)
			if opens != len(c.ids) {
				t.Errorf("%d opens, want %d (output %q)", opens, len(c.ids), raw)
			}
		})
	}
}

// TestRealClientGoSSE reads the same streams with tmaxmax/go-sse's client.
func TestRealClientGoSSE(t *testing.T) {
	t.Parallel()
	rs := startResumeServer(t)
	for _, c := range resumeCases {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			events := goSSEEvents(t, ctx, httpURL(rs.Server, c.path))
			var got []receivedEvent
			hints := 0
			for len(got) < c.count {
				select {
				case e := <-events:
					// go-sse v0.11.0 dispatches a block that has a field
					// but no data, which the WHATWG algorithm drops: here
					// the "retry:" block of each stream's preamble.
					if e == (receivedEvent{"message", e.ID, ""}) {
						hints++
						continue
					}
					got = append(got, e)
				case <-ctx.Done():
					t.Fatalf("after %q: %v", got, ctx.Err())
				}
			}
			cancel()
			checkResumed(t, rs, c, got)
			if hints != len(c.ids) {
				t.Errorf("%d retry hints for %d streams", hints, len(c.ids))
			}
		})
	}
}

// goSSEEvents connects a go-sse client to url until ctx ends and returns its
// events as they arrive.
func goSSEEvents(t *testing.T, ctx context.Context, url string) <-chan receivedEvent {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	client := &gosse.Client{Backoff: gosse.Backoff{InitialInterval: resumeRetry, MaxRetries: 20}}
	conn := client.NewConnection(req)
	events := make(chan receivedEvent)
	conn.SubscribeToAll(func(e gosse.Event) {
		name := e.Type
		if name == "" {
			name = "message"
		}
		select {
		case events <- receivedEvent{name, e.LastEventID, e.Data}:
		case <-ctx.Done():
		}
	})
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = conn.Connect() // returns once ctx ends
	}()
	t.Cleanup(func() { <-done })
	return events
}

// TestRealClientCurl reads a bounded stream with curl -N: the output is
// exactly the preamble (padding comment and retry hint) and the three event
// blocks, from the start and resumed from a Last-Event-ID.
func TestRealClientCurl(t *testing.T) {
	t.Parallel()
	rs := startResumeServer(t)
	for _, c := range []struct {
		lastID string
		events string
	}{
		{"", "id: 1\ndata: 1\n\nid: 2\ndata: 2\n\nid: 3\ndata: 3\n\n"},
		{"10", "id: 11\ndata: 11\n\nid: 12\ndata: 12\n\nid: 13\ndata: 13\n\n"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		args := []string{"-sS", "-N", "--max-time", "8", httpURL(rs.Server, "/numbered?count=3")}
		if c.lastID != "" {
			args = append(args, "-H", "Last-Event-ID: "+c.lastID)
		}
		out, err := exec.CommandContext(ctx, "curl", args...).Output()
		cancel()
		if err != nil {
			t.Fatalf("curl %q: %v (output %q)", args, err, out)
		}
		want := string(sse.AppendPreamble(nil, resumeRetry)) + c.events
		if string(out) != want {
			t.Errorf("curl with Last-Event-ID %q read\n%q\nwant\n%q", c.lastID, trimPadding(string(out)), trimPadding(want))
		}
	}
}

// trimPadding shortens the preamble's padding comment for error messages.
func trimPadding(s string) string {
	return strings.Replace(s, strings.Repeat(" ", sse.PreamblePadding-2), " …padding… ", 1)
}
