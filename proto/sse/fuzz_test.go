package sse

import (
	"errors"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzRoundTrip: for any valid Event, encoding then decoding (with the stream split at an
// arbitrary point) gives the event back, with Data's line endings normalised to LF and
// Retry to whole milliseconds, as the spec makes every client see it.
func FuzzRoundTrip(f *testing.F) {
	f.Add("1", "tick", []byte("hello"), int64(0), uint16(3))
	f.Add("", "", []byte(""), int64(1500), uint16(0))
	f.Add("a b", "x:y", []byte("\n\nevent: fake\ndata: x"), int64(1), uint16(20))
	f.Add(" lead", " e", []byte("a\r\nb\rc\n"), int64(999999), uint16(7))
	f.Add("\uFEFF", "\u00e9", []byte("\xEF\xBB\xBFdata"), int64(-5), uint16(1))
	f.Fuzz(func(t *testing.T, id, event string, data []byte, retryMS int64, split uint16) {
		e := Event{ID: id, Event: event, Data: data, Retry: time.Duration(retryMS) * time.Microsecond}
		b, err := AppendEvent([]byte("pre"), e)
		if !isFieldValue(id) || !isFieldValue(event) {
			if err == nil || string(b) != "pre" {
				t.Fatalf("invalid field accepted: %q, %v", b, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("AppendEvent(%+v): %v", e, err)
		}
		if !utf8.ValidString(id) || !utf8.ValidString(event) || !utf8.Valid(data) {
			return // decoders replace invalid UTF-8; covered by TestDecodeInvalidUTF8
		}
		b = b[len("pre"):]
		at := int(split) % (len(b) + 1)
		d, events, err := decodeChunks(Options{}, b[:at], b[at:])
		if err != nil {
			t.Fatal(err)
		}
		wantType := event
		if wantType == "" {
			wantType = "message"
		}
		var wantRetry time.Duration
		if e.Retry > 0 {
			wantRetry = e.Retry.Truncate(time.Millisecond)
		}
		want := []got{{id, wantType, normalizeNewlines(string(data)), wantRetry}}
		if !sameEvents(events, want) {
			t.Fatalf("%q decoded to %s, want %s", b, formatEvents(events), formatEvents(want))
		}
		if d.LastEventID() != id {
			t.Fatalf("LastEventID = %q, want %q", d.LastEventID(), id)
		}
	})
}

// FuzzDecoder: any input decodes without panicking, and to the same events, state and
// error whether fed whole, in two pieces or byte by byte, with the default and a tiny
// size limit.
func FuzzDecoder(f *testing.F) {
	for _, s := range []string{
		"data: YHOO\ndata: +2\ndata: 10\n\n",
		": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n\n",
		"\xEF\xBB\xBFevent: a\r\nid: 1\x00\rretry: 10\r\ndata\r\r",
		"data: \xE2\x82A\xF0\x9F\x98\n\n",
		"retry: 99999999999999999999\nid: 5\n\ndata: x\r",
	} {
		f.Add([]byte(s), uint16(len(s)/2))
	}
	f.Fuzz(func(t *testing.T, stream []byte, split uint16) {
		for _, opts := range []Options{{}, {MaxEventBytes: 8}} {
			d0, want, err0 := decodeChunks(opts, stream)
			at := int(split) % (len(stream) + 1)
			d1, events1, err1 := decodeChunks(opts, stream[:at], stream[at:])
			d2, events2, err2 := decodeChunks(opts, bytewise(stream)...)
			for i, r := range []struct {
				d      *Decoder
				events []got
				err    error
			}{{d1, events1, err1}, {d2, events2, err2}} {
				if !sameEvents(r.events, want) || !errors.Is(r.err, err0) || !errors.Is(err0, r.err) ||
					r.d.LastEventID() != d0.LastEventID() || r.d.Retry() != d0.Retry() {
					t.Fatalf("opts %+v split %d (%d): %s %v id %q retry %v; whole: %s %v id %q retry %v",
						opts, at, i, formatEvents(r.events), r.err, r.d.LastEventID(), r.d.Retry(),
						formatEvents(want), err0, d0.LastEventID(), d0.Retry())
				}
			}
			for _, e := range want {
				if !utf8.ValidString(e.Data) || !utf8.ValidString(e.ID) || !utf8.ValidString(e.Event) {
					t.Fatalf("decoded invalid UTF-8: %s", e)
				}
			}
		}
	})
}
