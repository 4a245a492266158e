package hub

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestEventNameRule: every entry point that takes an event name applies
// CheckEvent, so a name that would break an SSE "event:" line (CR, LF, NUL)
// or is unbounded never reaches a subscriber.
func TestEventNameRule(t *testing.T) {
	h, _ := newTestHub(t, 1, Options{})
	for _, ok := range []string{"", "update", "chat.message", "é", strings.Repeat("a", MaxEventBytes)} {
		if err := CheckEvent(ok); err != nil {
			t.Errorf("CheckEvent(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"a\r\ndata: x", "a\n", "a\r", "a\x00", "\x7f", "\xff", strings.Repeat("a", MaxEventBytes+1)} {
		if err := CheckEvent(bad); !errors.Is(err, ErrInvalidEvent) {
			t.Errorf("CheckEvent(%q) = %v, want ErrInvalidEvent", bad, err)
		}
		if _, err := h.Publish("news", Publication{Event: bad, Data: []byte("1")}); !errors.Is(err, ErrInvalidEvent) {
			t.Errorf("Publish with event %q: %v, want ErrInvalidEvent", bad, err)
		}
		if err := h.Broadcast(Publication{Event: bad, Data: []byte("1")}); !errors.Is(err, ErrInvalidEvent) {
			t.Errorf("Broadcast with event %q: %v, want ErrInvalidEvent", bad, err)
		}
	}
}

// TestMaxHistoryChannels: publications cannot create channels with history
// past the bound; existing channels keep taking publications, a channel whose
// history expired frees its place, and the refusals are counted.
func TestMaxHistoryChannels(t *testing.T) {
	clock := newFakeClock()
	h, _ := newTestHub(t, 1, Options{MaxHistoryChannels: 2, HistoryTTL: time.Minute, Now: clock.Now})
	publish(t, h, "a", "1")
	publish(t, h, "b", "1")
	if _, err := h.Publish("c", Publication{Data: []byte("1")}); !errors.Is(err, ErrTooManyHistoryChannels) {
		t.Fatalf("third channel with history: %v, want ErrTooManyHistoryChannels", err)
	}
	publish(t, h, "a", "2") // an existing channel is not refused
	st := h.Stats()
	if st.HistoryChannels != 2 || st.HistoryChannelsRefused != 1 {
		t.Fatalf("stats %+v, want 2 history channels and 1 refusal", st)
	}
	clock.Advance(2 * time.Minute)
	h.Sweep()
	publish(t, h, "c", "1")
	if st := h.Stats(); st.HistoryChannels != 1 {
		t.Fatalf("after expiry and a new channel: %d history channels, want 1", st.HistoryChannels)
	}
	// Subscribers are bounded by connections, not by this cap.
	tc := connect(t, h, "x", "", 0)
	subscribe(t, h, tc, "d", nil)
	subscribe(t, h, tc, "e", nil)
}

// TestMaxHistoryBytes: the histories' retained bytes are counted as
// publications come and go (evicted by HistorySize, expired, swept), and past
// MaxHistoryBytes no new channel with history is created, while existing
// ones keep taking publications.
func TestMaxHistoryBytes(t *testing.T) {
	clock := newFakeClock()
	h, _ := newTestHub(t, 1, Options{MaxHistoryBytes: 10_000, HistorySize: 3, HistoryTTL: time.Minute, Now: clock.Now})
	big := strings.Repeat("x", 3000)
	publish(t, h, "a", big)
	one := h.Stats().HistoryBytes
	if one < 3000 {
		t.Fatalf("one publication of 3000 bytes retains %d", one)
	}
	for range 5 {
		publish(t, h, "a", big) // the ring keeps 3: older ones give their bytes back
	}
	if got := h.Stats().HistoryBytes; got != 3*one {
		t.Fatalf("after 6 publications on a ring of 3: %d bytes, want %d", got, 3*one)
	}
	if _, err := h.Publish("b", Publication{Data: []byte(`"small"`)}); !errors.Is(err, ErrTooManyHistoryChannels) {
		t.Fatalf("a new channel past the bytes bound: %v, want ErrTooManyHistoryChannels", err)
	}
	publish(t, h, "a", big) // an existing channel is not refused
	clock.Advance(2 * time.Minute)
	h.Sweep()
	if got := h.Stats().HistoryBytes; got != 0 {
		t.Fatalf("after expiry: %d bytes retained", got)
	}
	publish(t, h, "b", "1")
}
