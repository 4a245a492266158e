package sse

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

// The examples of the WHATWG "Server-sent events" section (§9.2.4 and §9.2.6).
func TestDecodeWHATWGExamples(t *testing.T) {
	tests := []struct {
		name   string
		stream string
		want   []got
	}{
		{"stock ticker", "data: YHOO\ndata: +2\ndata: 10\n\n",
			[]got{{"", "message", "YHOO\n+2\n10", 0}}},
		{"ids and comments",
			": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n\n",
			[]got{{"1", "message", "first event", 0}, {"", "message", "second event", 0}, {"", "message", " third event", 0}}},
		{"empty data; the unterminated last block is discarded", "data\n\ndata\ndata\n\ndata:",
			[]got{{"", "message", "", 0}, {"", "message", "\n", 0}}},
		{"one optional space after the colon", "data:test\n\ndata: test\n\n",
			[]got{{"", "message", "test", 0}, {"", "message", "test", 0}}},
		{"event types", "event: add\ndata: 73857293\n\nevent: remove\ndata: 2153\n\nevent: add\ndata: 113411\n\n",
			[]got{{"", "add", "73857293", 0}, {"", "remove", "2153", 0}, {"", "add", "113411", 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantEvents(t, tt.stream, decodeString(t, tt.stream), tt.want)
		})
	}
}

// The WebKit/Chromium layout test stream (http/tests/eventsource/resources/event-stream.php),
// written out with its CRLF and CR line endings.
func TestDecodeWebKitEventStream(t *testing.T) {
	stream := ": a comment (ignored)\n" +
		"this line will be ignored since there is no field and the line itself is not a field\n" +
		"field: an unknown field that will be ignored\n" +
		":another commment\n\n" +
		"data : this line will be ignored since there is a space after data\n\n" +
		"data\ndata:\ndata\n: dispatch event with two newlines\n\n" +
		"data: simple\n\n" +
		"data: spanning\ndata:multiple\ndata\ndata: lines\ndata\n\n" +
		"id: 1\ndata: id is 1\n\n" +
		"data: id is still 1\n\n" +
		"id\ndata: no id\n\n" +
		"event: open\ndata: a message event with the name \"open\"\n\n" +
		"da" + "ta: a message event with the name \"message\"\n\n" +
		"data: a line ending with crlf\r\n" +
		"data: a line with a : (colon)\n" +
		"data: a line ending with cr\r\n" +
		"retry: 10000\n: reconnection time set to 10 seconds\n\n" +
		"retry: one thousand\n: ignored invalid reconnection time value\n\n" +
		"retry\n: reset to ua default\n\n"
	want := []got{
		{"", "message", "\n\n", 0},
		{"", "message", "simple", 0},
		{"", "message", "spanning\nmultiple\n\nlines\n", 0},
		{"1", "message", "id is 1", 0},
		{"1", "message", "id is still 1", 0},
		{"", "message", "no id", 0},
		{"", "open", "a message event with the name \"open\"", 0},
		{"", "message", "a message event with the name \"message\"", 0},
		// The CR is followed by an LF, so the block runs on to the retry line and its
		// blank line.
		{"", "message", "a line ending with crlf\na line with a : (colon)\na line ending with cr", 10 * time.Second},
	}
	d, events, err := decodeChunks(Options{}, []byte(stream))
	if err != nil {
		t.Fatal(err)
	}
	wantEvents(t, stream, events, want)
	if d.Retry() != 10*time.Second || !d.RetrySet() {
		t.Errorf("Retry() = %v, %v; want 10s (an invalid or empty retry is ignored)", d.Retry(), d.RetrySet())
	}
}

func TestDecodeLineEndingsAcrossChunks(t *testing.T) {
	// A CR that ends one chunk and an LF that starts the next are one line ending; read
	// as two, the LF would be a blank line dispatching "a" alone.
	_, events, err := decodeChunks(Options{}, []byte("data: a\r"), []byte("\ndata: b\r"), []byte("\n\r"), []byte("\n"))
	if err != nil {
		t.Fatal(err)
	}
	wantEvents(t, "split CRLF", events, []got{{"", "message", "a\nb", 0}})

	// A CR at the end of a chunk followed by something else ends the line by itself.
	_, events, err = decodeChunks(Options{}, []byte("data: a\r"), []byte("data: b\r"), []byte("\r"))
	if err != nil {
		t.Fatal(err)
	}
	wantEvents(t, "CR then CR", events, []got{{"", "message", "a\nb", 0}})
}

func TestDecodeBOM(t *testing.T) {
	tests := []struct {
		stream string
		want   []got
	}{
		{"\xEF\xBB\xBFdata: a\n\n", []got{{"", "message", "a", 0}}},
		// Only one BOM, only at the stream start: the second makes the field "\uFEFFdata".
		{"\xEF\xBB\xBF\xEF\xBB\xBFdata: a\n\ndata: b\n\n", []got{{"", "message", "b", 0}}},
		{"data: a\n\n\xEF\xBB\xBFdata: b\n\n", []got{{"", "message", "a", 0}}},
		{"data: \xEF\xBB\xBFa\n\n", []got{{"", "message", "\uFEFFa", 0}}},
	}
	for _, tt := range tests {
		wantEvents(t, tt.stream, decodeString(t, tt.stream), tt.want)
		_, events, err := decodeChunks(Options{}, bytewise([]byte(tt.stream))...)
		if err != nil {
			t.Fatal(err)
		}
		wantEvents(t, tt.stream+" (bytewise)", events, tt.want)
	}
}

func TestDecodeID(t *testing.T) {
	d := NewDecoder(Options{})
	var events []got
	emit := func(e Event) { events = append(events, got{e.ID, e.Event, string(e.Data), e.Retry}) }
	feed := func(s string) {
		t.Helper()
		if err := d.Feed([]byte(s), emit); err != nil {
			t.Fatal(err)
		}
	}
	feed("id: 7\n")
	if d.LastEventID() != "" {
		t.Fatalf("LastEventID = %q before the blank line; the id only takes effect at dispatch", d.LastEventID())
	}
	feed("\n")
	if d.LastEventID() != "7" || len(events) != 0 {
		t.Fatalf("after an id-only block: LastEventID = %q, events %v; want \"7\" and none", d.LastEventID(), events)
	}
	feed("id: 8\x00\ndata: x\n\n")
	feed("id: 9\nid\x00: 10\ndata: y\n\n")
	wantEvents(t, "ids", events, []got{{"7", "message", "x", 0}, {"9", "message", "y", 0}})
}

func TestDecodeRetry(t *testing.T) {
	tests := []struct {
		stream string
		want   time.Duration
		set    bool
	}{
		{"retry: 1500\n", 1500 * time.Millisecond, true},
		{"retry:0\n", 0, true},
		{"retry: 15a\n", 0, false},
		{"retry: -1\n", 0, false},
		{"retry:  15\n", 0, false},
		{"retry: 1.5\n", 0, false},
		{"retry:\n", 0, false},
		{"retry: 99999999999999999999\n", 0, false},
		{"retry: 1000\nretry: x\n", time.Second, true},
	}
	for _, tt := range tests {
		d, _, err := decodeChunks(Options{}, []byte(tt.stream))
		if err != nil {
			t.Fatal(err)
		}
		if d.Retry() != tt.want || d.RetrySet() != tt.set {
			t.Errorf("%q: Retry() = %v, %v; want %v, %v", tt.stream, d.Retry(), d.RetrySet(), tt.want, tt.set)
		}
	}
	// The event reports a retry from its own block only.
	stream := "retry: 10\n\nretry: 20\ndata: a\n\ndata: b\n\n"
	wantEvents(t, stream, decodeString(t, stream), []got{{"", "message", "a", 20 * time.Millisecond}, {"", "message", "b", 0}})
}

func TestDecodeInvalidUTF8(t *testing.T) {
	tests := []struct{ in, want string }{
		{"\xE2\x82A", "\uFFFDA"},               // truncated sequence: one replacement
		{"\xC0\xAF", "\uFFFD\uFFFD"},           // overlong lead bytes are never valid
		{"\xED\xA0\x80", "\uFFFD\uFFFD\uFFFD"}, // surrogate: ED takes 80..9F only
		{"\xF0\x80\x80", "\uFFFD\uFFFD\uFFFD"}, // F0 takes 90..BF only
		{"\xF4\x90\x80\x80", "\uFFFD\uFFFD\uFFFD\uFFFD"},
		{"\xF0\x9F\x98", "\uFFFD"},
		{"a\xFFb\xF0\x9F\x98\x80", "a\uFFFDb\U0001F600"},
		{"\xE2\x82", "\uFFFD"}, // cut off by the line end
	}
	for _, tt := range tests {
		stream := "event: " + tt.in + "\nid: " + tt.in + "\ndata: " + tt.in + "\r\n\n"
		want := []got{{tt.want, tt.want, tt.want, 0}}
		wantEvents(t, stream, decodeString(t, stream), want)
	}
}

func TestDecodeLimit(t *testing.T) {
	opts := Options{MaxEventBytes: 16}
	tests := []struct {
		name   string
		chunks []string
		before []got
	}{
		{"long line in one chunk", []string{"data: a\n\n:" + strings.Repeat("x", 16) + "\n"}, []got{{"", "message", "a", 0}}},
		{"long unterminated line", []string{"data: a\n\n", strings.Repeat("x", 10), strings.Repeat("x", 7)}, []got{{"", "message", "a", 0}}},
		{"long data over many lines", []string{"data: 12345\ndata: 12345\ndata: 12345\n\n"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			chunks := make([][]byte, len(tt.chunks))
			for i, c := range tt.chunks {
				chunks[i] = []byte(c)
			}
			d, events, err := decodeChunks(opts, chunks...)
			if !errors.Is(err, ErrEventTooLarge) {
				t.Fatalf("err = %v, want ErrEventTooLarge", err)
			}
			wantEvents(t, tt.name, events, tt.before)
			if err := d.Feed([]byte("data: b\n\n"), func(Event) { t.Error("emitted after failing") }); !errors.Is(err, ErrEventTooLarge) {
				t.Fatalf("Feed after failure = %v, want the failure again", err)
			}
			d.Reset()
			var after []got
			if err := d.Feed([]byte("data: b\n\n"), func(e Event) { after = append(after, got{e.ID, e.Event, string(e.Data), e.Retry}) }); err != nil {
				t.Fatal(err)
			}
			wantEvents(t, "after Reset", after, []got{{"", "message", "b", 0}})
		})
	}
	// A line of exactly the limit is fine.
	if _, events, err := decodeChunks(opts, []byte("data:"+strings.Repeat("y", 11)+"\n\n")); err != nil || len(events) != 1 {
		t.Fatalf("line at the limit: %v, %v", events, err)
	}
}

func TestDecoderReset(t *testing.T) {
	d := NewDecoder(Options{})
	var events []got
	emit := func(e Event) { events = append(events, got{e.ID, e.Event, string(e.Data), e.Retry}) }
	for _, s := range []string{"retry: 50\nid: 5\ndata: x\n\n", "id: 6\nevent: cut\ndata: partial\n\ndata: cut off\r"} {
		if err := d.Feed([]byte(s), emit); err != nil {
			t.Fatal(err)
		}
	}
	d.Reset() // the connection dropped mid-event
	if err := d.Feed([]byte("\n\xEF\xBB\xBFdata: y\n\n"), emit); err != nil {
		t.Fatal(err)
	}
	// The pending LF is not carried into the new stream, so the stream's first line is the
	// empty line and the BOM that follows is no longer at the start.
	if err := d.Feed([]byte("data: z\n\n"), emit); err != nil {
		t.Fatal(err)
	}
	wantEvents(t, "reset", events, []got{{"5", "message", "x", 50 * time.Millisecond}, {"6", "cut", "partial", 0}, {"6", "message", "z", 0}})
	if d.LastEventID() != "6" || d.Retry() != 50*time.Millisecond {
		t.Errorf("after Reset: LastEventID %q, Retry %v; want 6, 50ms kept", d.LastEventID(), d.Retry())
	}
}

// Splitting a stream anywhere, or byte by byte, must not change what is decoded.
func TestDecodeSplitAnywhere(t *testing.T) {
	stream := []byte("\xEF\xBB\xBF: hi\r\nretry: 300\r\rid: 1\revent: a b\r\ndata: x\r\ndata:\rdata:  y\n\n" +
		"data: \xE2\x82\xAC \xE2\x82\n\r\nid: 2\x00\ndata: \xF0\x9F\x98\x80\r\n\r\n")
	_, want, err := decodeChunks(Options{}, stream)
	if err != nil {
		t.Fatal(err)
	}
	if len(want) != 3 {
		t.Fatalf("decoded %s, want 3 events", formatEvents(want))
	}
	for i := range stream {
		_, events, err := decodeChunks(Options{}, stream[:i], stream[i:])
		if err != nil {
			t.Fatal(err)
		}
		if !sameEvents(events, want) {
			t.Fatalf("split at %d: %s, want %s", i, formatEvents(events), formatEvents(want))
		}
	}
	_, events, err := decodeChunks(Options{}, bytewise(stream)...)
	if err != nil || !sameEvents(events, want) {
		t.Fatalf("bytewise: %s, %v; want %s", formatEvents(events), err, formatEvents(want))
	}
}

func TestDecoderAllocs(t *testing.T) {
	block, err := AppendEvent(nil, Event{ID: "1", Event: "tick", Data: bytes.Repeat([]byte("x"), 64)})
	if err != nil {
		t.Fatal(err)
	}
	d := NewDecoder(Options{})
	n := 0
	emit := func(Event) { n++ }
	half := len(block) / 2
	feed := func() {
		// Split so the partial-line buffer is exercised too.
		if err := d.Feed(block[:half], emit); err != nil {
			t.Fatal(err)
		}
		if err := d.Feed(block[half:], emit); err != nil {
			t.Fatal(err)
		}
	}
	feed()
	if allocs := testing.AllocsPerRun(100, feed); allocs != 0 {
		t.Errorf("decoding a repeated event allocates %v times, want 0", allocs)
	}
	if n != 102 {
		t.Errorf("emitted %d events, want 102", n)
	}
}
