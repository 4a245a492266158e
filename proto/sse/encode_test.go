package sse

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestAppendEvent(t *testing.T) {
	tests := []struct {
		e    Event
		want string
	}{
		// The format the seed's users expect.
		{Event{ID: "msg-123", Event: "notification", Data: []byte(`{"message":"Hello"}`)},
			"id: msg-123\nevent: notification\ndata: {\"message\":\"Hello\"}\n\n"},
		{Event{Data: []byte("x")}, "data: x\n\n"},
		{Event{}, "data:\n\n"},
		{Event{Data: []byte("a\r\nb\rc\nd")}, "data: a\ndata: b\ndata: c\ndata: d\n\n"},
		{Event{Data: []byte("a\n")}, "data: a\ndata:\n\n"},
		{Event{Data: []byte("\r\r\n")}, "data:\ndata:\ndata:\n\n"},
		{Event{ID: " x", Event: "a:b", Data: []byte(" y"), Retry: 2500*time.Millisecond + 999*time.Microsecond},
			"id:  x\nevent: a:b\nretry: 2500\ndata:  y\n\n"},
	}
	for _, tt := range tests {
		b, err := AppendEvent([]byte("prefix"), tt.e)
		if err != nil {
			t.Fatalf("AppendEvent(%+v): %v", tt.e, err)
		}
		if string(b) != "prefix"+tt.want {
			t.Errorf("AppendEvent(%+v) = %q, want %q", tt.e, b[len("prefix"):], tt.want)
		}
	}
}

func TestAppendEventRejectsInjection(t *testing.T) {
	for _, bad := range []string{"a\nb", "a\rb", "a\x00b", "\n", "x\r\nevent: fake"} {
		dst := []byte("kept")
		b, err := AppendEvent(dst, Event{ID: bad, Data: []byte("d")})
		if !errors.Is(err, ErrInvalidID) || string(b) != "kept" {
			t.Errorf("ID %q: %q, %v; want dst unchanged and ErrInvalidID", bad, b, err)
		}
		b, err = AppendEvent(dst, Event{Event: bad, Data: []byte("d")})
		if !errors.Is(err, ErrInvalidEventName) || string(b) != "kept" {
			t.Errorf("Event %q: %q, %v; want dst unchanged and ErrInvalidEventName", bad, b, err)
		}
	}
}

// Whatever the data holds, the decoder sees exactly one event carrying it.
func TestDataCannotInjectEvents(t *testing.T) {
	for _, data := range []string{
		"\n\nevent: fake\ndata: x",
		"\r\n\r\nid: 666\r\ndata: x\r\n\r\n",
		"\r\rretry: 1\r\r",
		"x\n\n\n",
	} {
		b, err := AppendEvent(nil, Event{ID: "1", Event: "real", Data: []byte(data)})
		if err != nil {
			t.Fatal(err)
		}
		d, events, err := decodeChunks(Options{}, b)
		if err != nil {
			t.Fatal(err)
		}
		want := []got{{"1", "real", normalizeNewlines(data), 0}}
		wantEvents(t, string(b), events, want)
		if d.Retry() != 0 || d.LastEventID() != "1" {
			t.Errorf("data %q changed stream state: retry %v, id %q", data, d.Retry(), d.LastEventID())
		}
	}
}

// normalizeNewlines is the spec's view of data: every line ending becomes LF.
func normalizeNewlines(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
}

func TestAppendComment(t *testing.T) {
	tests := []struct{ text, want string }{
		{"hb", ": hb\n\n"},
		{"", ":\n\n"},
		{"a\nb\r\nc\rd", ": a\n: b\n: c\n: d\n\n"},
		{"x\ndata: evil\n\nid: 9\n\n", ": x\n: data: evil\n:\n: id: 9\n:\n:\n\n"},
	}
	for _, tt := range tests {
		b := AppendComment(nil, tt.text)
		if string(b) != tt.want {
			t.Errorf("AppendComment(%q) = %q, want %q", tt.text, b, tt.want)
		}
		d, events, err := decodeChunks(Options{}, b)
		if err != nil || len(events) != 0 || d.LastEventID() != "" {
			t.Errorf("comment %q decoded to %v, id %q, %v; want nothing", tt.text, events, d.LastEventID(), err)
		}
	}
}

func TestAppendRetry(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{{1500 * time.Millisecond, "retry: 1500\n\n"}, {0, "retry: 0\n\n"}, {-time.Second, "retry: 0\n\n"}, {time.Millisecond - 1, "retry: 0\n\n"}} {
		b := AppendRetry(nil, tt.d)
		if string(b) != tt.want {
			t.Errorf("AppendRetry(%v) = %q, want %q", tt.d, b, tt.want)
		}
	}
	d, events, err := decodeChunks(Options{}, AppendRetry(nil, 1500*time.Millisecond))
	if err != nil || len(events) != 0 || d.Retry() != 1500*time.Millisecond {
		t.Errorf("decoded %v, retry %v, %v; want no event and 1.5s", events, d.Retry(), err)
	}
}

func TestAppendPreamble(t *testing.T) {
	p := AppendPreamble(nil, 3*time.Second)
	pad, rest, _ := bytes.Cut(p, []byte("\n"))
	if len(pad)+1 != PreamblePadding || pad[0] != ':' {
		t.Errorf("padding line is %d bytes starting %q, want %d starting ':'", len(pad)+1, pad[:1], PreamblePadding)
	}
	if string(rest) != "retry: 3000\n\n" {
		t.Errorf("after the padding: %q, want the retry hint and a blank line", rest)
	}
	if p0 := AppendPreamble(nil, 0); len(p0) != PreamblePadding+1 {
		t.Errorf("AppendPreamble without retry is %d bytes, want %d", len(p0), PreamblePadding+1)
	}
	// The hint must not attach to the first event that follows.
	stream, _ := AppendEvent(p, Event{Data: []byte("first")})
	d, events, err := decodeChunks(Options{}, stream)
	if err != nil {
		t.Fatal(err)
	}
	wantEvents(t, "preamble then event", events, []got{{"", "message", "first", 0}})
	if d.Retry() != 3*time.Second {
		t.Errorf("Retry() = %v, want 3s", d.Retry())
	}
}

// A stream of several encoded events decodes to the same events, one by one.
func TestEncodeDecodeStream(t *testing.T) {
	in := []Event{
		{ID: "1", Event: "add", Data: []byte("73857293")},
		{ID: "2", Data: []byte("line1\r\nline2\rline3\n")},
		{ID: "3", Event: "empty"},
		{ID: "4", Event: "message", Data: []byte(": not a comment"), Retry: time.Second},
	}
	stream := AppendPreamble(nil, 0)
	for _, e := range in {
		var err error
		if stream, err = AppendEvent(stream, e); err != nil {
			t.Fatal(err)
		}
		stream = AppendComment(stream, "heartbeat")
	}
	want := []got{
		{"1", "add", "73857293", 0},
		{"2", "message", "line1\nline2\nline3\n", 0},
		{"3", "empty", "", 0},
		{"4", "message", ": not a comment", time.Second},
	}
	_, events, err := decodeChunks(Options{}, bytewise(stream)...)
	if err != nil {
		t.Fatal(err)
	}
	wantEvents(t, "stream", events, want)
}

func TestAppendEventAllocs(t *testing.T) {
	e := Event{ID: "12345", Event: "tick", Data: bytes.Repeat([]byte("x"), 64), Retry: time.Second}
	buf := make([]byte, 0, 256)
	if allocs := testing.AllocsPerRun(100, func() {
		var err error
		if buf, err = AppendEvent(buf[:0], e); err != nil {
			t.Fatal(err)
		}
		buf = AppendComment(buf, "hb")
	}); allocs != 0 {
		t.Errorf("AppendEvent into a reused buffer allocates %v times, want 0", allocs)
	}
}
