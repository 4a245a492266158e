package server

import (
	"testing"
	"time"
)

// TestWSDefaultsProtect: the zero WSOptions ping every 25s, close a socket
// silent for 60s and close a slow client after a 1s grace, as rtd serve
// does; negative durations turn the timers off, and without pings there is
// no default idle timeout (a client that only listens sends nothing).
func TestWSDefaultsProtect(t *testing.T) {
	for _, tc := range []struct {
		name            string
		in              WSOptions
		heartbeat, idle time.Duration
	}{
		{"zero", WSOptions{}, 25 * time.Second, 60 * time.Second},
		{"pings off", WSOptions{HeartbeatInterval: -1}, 0, 0},
		{"idle off", WSOptions{IdleTimeout: -1}, 25 * time.Second, 0},
		{"both off", WSOptions{HeartbeatInterval: -1, IdleTimeout: -1}, 0, 0},
		{"pings off, idle set", WSOptions{HeartbeatInterval: -1, IdleTimeout: time.Minute}, 0, time.Minute},
		{"set", WSOptions{HeartbeatInterval: time.Second, IdleTimeout: 3 * time.Second}, time.Second, 3 * time.Second},
	} {
		o := tc.in.withDefaults()
		if o.HeartbeatInterval != tc.heartbeat || o.IdleTimeout != tc.idle {
			t.Errorf("%s: heartbeat %v idle %v, want %v %v", tc.name, o.HeartbeatInterval, o.IdleTimeout, tc.heartbeat, tc.idle)
		}
	}
	o := WSOptions{}.withDefaults()
	if o.SlowClientPolicy != SlowClientClose || o.SlowClientGrace != time.Second {
		t.Errorf("slow client: %v after %v, want close after 1s", o.SlowClientPolicy, o.SlowClientGrace)
	}
	if s := (SSEOptions{}).withDefaults(); s.SlowClientPolicy != SlowClientClose || s.HeartbeatInterval != 30*time.Second {
		t.Errorf("SSE: policy %v heartbeat %v, want close and 30s", s.SlowClientPolicy, s.HeartbeatInterval)
	}
}
