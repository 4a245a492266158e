package server

import (
	"syscall"
	"testing"
)

func TestDefaultMaxConnsFollowsOpenFilesLimit(t *testing.T) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	got := Options{}.withDefaults().MaxConns
	if want := int(lim.Cur) - reservedFDs; got != want {
		t.Fatalf("default MaxConns = %d, want %d (open-files limit %d less %d)", got, want, lim.Cur, reservedFDs)
	}
	if got := (Options{MaxConns: 7}).withDefaults().MaxConns; got != 7 {
		t.Fatalf("MaxConns 7 became %d", got)
	}
}
