package failtb

import (
	"fmt"
	"runtime"
	"testing"
)

// tb is a testing.TB whose Fatalf records the message and ends the
// goroutine; everything else (Cleanup, Logf, …) is the test's own.
type tb struct {
	testing.TB
	msg chan string
}

func (f *tb) Helper() {}

func (f *tb) Fatalf(format string, args ...any) {
	f.msg <- fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// Failure runs fn on a goroutine of its own with a testing.TB that records
// a Fatalf instead of failing t, and returns the message ("" when fn did
// not fail).
func Failure(t testing.TB, fn func(tb testing.TB)) string {
	f := &tb{TB: t, msg: make(chan string, 1)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(f)
	}()
	<-done
	select {
	case m := <-f.msg:
		return m
	default:
		return ""
	}
}
