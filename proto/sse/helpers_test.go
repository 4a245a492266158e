package sse

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// got is a decoded event with Data copied, printable in failures.
type got struct {
	ID, Event, Data string
	Retry           time.Duration
}

func (g got) String() string {
	return fmt.Sprintf("{id=%q event=%q data=%q retry=%v}", g.ID, g.Event, g.Data, g.Retry)
}

// decodeChunks feeds chunks to a fresh decoder with opts and returns the events and the
// first error.
func decodeChunks(opts Options, chunks ...[]byte) (*Decoder, []got, error) {
	d := NewDecoder(opts)
	var events []got
	emit := func(e Event) {
		events = append(events, got{e.ID, e.Event, string(e.Data), e.Retry})
	}
	for _, c := range chunks {
		if err := d.Feed(c, emit); err != nil {
			return d, events, err
		}
	}
	return d, events, nil
}

func decodeString(t *testing.T, stream string) []got {
	t.Helper()
	_, events, err := decodeChunks(Options{}, []byte(stream))
	if err != nil {
		t.Fatalf("Feed(%q): %v", stream, err)
	}
	return events
}

// bytewise splits s into one chunk per byte.
func bytewise(s []byte) [][]byte {
	chunks := make([][]byte, len(s))
	for i := range s {
		chunks[i] = s[i : i+1]
	}
	return chunks
}

func sameEvents(a, b []got) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func formatEvents(events []got) string {
	parts := make([]string, len(events))
	for i, e := range events {
		parts[i] = e.String()
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func wantEvents(t *testing.T, stream string, got, want []got) {
	t.Helper()
	if !sameEvents(got, want) {
		t.Errorf("decode %q:\n got %s\nwant %s", stream, formatEvents(got), formatEvents(want))
	}
}
