package main

import (
	"strings"
	"sync"
	"testing"
	"time"
)

// logBuffer holds a daemon's log lines; safe for the reading goroutine and
// the test at once, and waitFor wakes on each new line (no polling).
type logBuffer struct {
	mu      sync.Mutex
	b       strings.Builder
	changed chan struct{} // closed and replaced on every write
}

func newLogBuffer() *logBuffer { return &logBuffer{changed: make(chan struct{})} }

func (l *logBuffer) WriteString(s string) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	close(l.changed)
	l.changed = make(chan struct{})
	return l.b.WriteString(s)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// waitFor waits until the log holds a line containing every one of parts,
// and answers that line.
func (l *logBuffer) waitFor(t *testing.T, parts ...string) string {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		l.mu.Lock()
		text, changed := l.b.String(), l.changed
		l.mu.Unlock()
	lines:
		for _, line := range strings.Split(text, "\n") {
			for _, p := range parts {
				if !strings.Contains(line, p) {
					continue lines
				}
			}
			return line
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("no log line with %q in:\n%s", parts, text)
		}
	}
}
