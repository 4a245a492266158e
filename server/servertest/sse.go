package servertest

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/rtd-project/rtd/proto/sse"
)

// SSERequest builds an SSE stream request to one route of a Host.
type SSERequest struct {
	request
}

// SSE starts a stream request to path (which may carry a query).
func (h *Host) SSE(path string) *SSERequest {
	return &SSERequest{request: request{h: h, path: path}}
}

// Query adds a query parameter (channel=…, repeatable).
func (r *SSERequest) Query(name, value string) *SSERequest { r.addQuery(name, value); return r }

// LastEventID resumes after id, as EventSource does when it reconnects.
func (r *SSERequest) LastEventID(id string) *SSERequest { r.setHeader("Last-Event-ID", id); return r }

// Origin sets the Origin header.
func (r *SSERequest) Origin(origin string) *SSERequest { r.setHeader("Origin", origin); return r }

// Header sets a request header.
func (r *SSERequest) Header(name, value string) *SSERequest { r.setHeader(name, value); return r }

// JWT sends "Authorization: Bearer" with an HS256 token of claims signed
// with secret.
func (r *SSERequest) JWT(claims map[string]any, secret string) *SSERequest {
	r.h.t.Helper()
	r.bearer(claims, secret)
	return r
}

func (r *SSERequest) do() (*http.Response, context.CancelFunc) {
	r.h.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", r.h.URL+r.target(), nil)
	if err != nil {
		cancel()
		r.h.t.Fatalf("servertest: SSE %s: %v", r.path, err)
	}
	req.Header = r.header.Clone()
	if req.Header == nil {
		req.Header = http.Header{}
	}
	req.Header.Set("Accept", "text/event-stream")
	client := &http.Client{Transport: &http.Transport{ResponseHeaderTimeout: r.h.timeout(), DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		cancel()
		r.h.t.Fatalf("servertest: SSE %s: %v", r.path, err)
	}
	return resp, cancel
}

// Connect starts the stream; any status but 200 fails the test.
func (r *SSERequest) Connect() *Stream {
	r.h.t.Helper()
	resp, cancel := r.do()
	if resp.StatusCode != 200 {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		resp.Body.Close()
		cancel()
		r.h.t.Fatalf("servertest: SSE %s: got status %d %q, want 200", r.path, resp.StatusCode, body)
	}
	st := &Stream{h: r.h, name: r.path, Header: resp.Header, in: make(chan Event, 1024), cancel: cancel}
	go st.read(resp.Body)
	r.h.t.Cleanup(st.Close)
	return st
}

// ExpectRejected fails the test unless the stream is refused with status.
func (r *SSERequest) ExpectRejected(status int) {
	r.h.t.Helper()
	resp, cancel := r.do()
	defer cancel()
	resp.Body.Close()
	if resp.StatusCode != status {
		r.h.t.Fatalf("servertest: SSE %s: got status %d, want rejected with %d", r.path, resp.StatusCode, status)
	}
}

// Event is one event a Stream read, or its end.
type Event struct {
	Event string // the event type ("message" when the stream named none)
	Data  string
	ID    string // the stream's last event ID at this event
	End   bool   // the stream ended (Data holds why)
}

// String describes e as failures print it.
func (e Event) String() string {
	if e.End {
		return "end of stream (" + e.Data + ")"
	}
	return fmt.Sprintf("event %q data %q id %q", e.Event, clip([]byte(e.Data)), e.ID)
}

// Stream is a connected SSE client: a goroutine decodes events (comments
// and heartbeats skipped) into a queue the Expect methods take from.
type Stream struct {
	// Header is the response's header.
	Header http.Header

	h      *Host
	name   string
	in     chan Event
	cancel context.CancelFunc
	ended  bool
}

func (st *Stream) read(body io.ReadCloser) {
	defer close(st.in)
	defer body.Close()
	d := sse.NewDecoder(sse.Options{})
	buf := make([]byte, 32<<10)
	for {
		n, err := body.Read(buf)
		if n > 0 {
			if ferr := d.Feed(buf[:n], func(e sse.Event) {
				st.in <- Event{Event: e.Event, Data: string(e.Data), ID: e.ID}
			}); ferr != nil {
				st.in <- Event{End: true, Data: ferr.Error()}
				return
			}
		}
		if err != nil {
			why := "EOF"
			if err != io.EOF {
				why = err.Error()
			}
			st.in <- Event{End: true, Data: why}
			return
		}
	}
}

// Next returns the next event or the end; the test fails if none comes
// within the Host's Timeout.
func (st *Stream) Next() Event {
	st.h.t.Helper()
	return next(st.h, st.in, &st.ended, "SSE "+st.name, Event{End: true, Data: "closed"}, func(e Event) bool { return e.End })
}

// ExpectEvent fails the test unless the next event has type name ("" for
// any) and data. It returns the event (for its ID).
func (st *Stream) ExpectEvent(name, data string) Event {
	st.h.t.Helper()
	e := st.Next()
	if e.End || (name != "" && e.Event != name) || e.Data != data {
		if name == "" {
			name = "any"
		}
		st.h.t.Fatalf("servertest: SSE %s: got %v, want event %q data %q", st.name, e, name, data)
	}
	return e
}

// ExpectData fails the test unless the next event carries data, whatever
// its type.
func (st *Stream) ExpectData(data string) *Stream {
	st.h.t.Helper()
	st.ExpectEvent("", data)
	return st
}

// ExpectID fails the test unless the next event has type name, data and id.
func (st *Stream) ExpectID(name, data, id string) *Stream {
	st.h.t.Helper()
	if e := st.ExpectEvent(name, data); e.ID != id {
		st.h.t.Fatalf("servertest: SSE %s: got %v, want id %q", st.name, e, id)
	}
	return st
}

// ExpectEnd fails the test unless the server ends the stream next.
func (st *Stream) ExpectEnd() {
	st.h.t.Helper()
	if e := st.Next(); !e.End {
		st.h.t.Fatalf("servertest: SSE %s: got %v, want the end of the stream", st.name, e)
	}
}

// Close ends the stream from the client's side.
func (st *Stream) Close() { st.cancel() }
