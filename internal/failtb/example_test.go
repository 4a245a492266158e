package failtb_test

import (
	"testing"

	"github.com/rtd-project/rtd/internal/failtb"
)

func TestFailure(t *testing.T) {
	got := failtb.Failure(t, func(tb testing.TB) { tb.Fatalf("got %d, want %d", 1, 2) })
	if got != "got 1, want 2" {
		t.Fatalf("recorded %q", got)
	}
	if got := failtb.Failure(t, func(testing.TB) {}); got != "" {
		t.Fatalf("recorded %q without a failure", got)
	}
}
