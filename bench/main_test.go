package bench

import (
	"bytes"
	"net"
	"regexp"
	"strings"
	"testing"
)

// TestHelpOneDefaultPerFlag: rtd bench -h says each default once, quotes
// only strings, and `rtd bench fanout --help` exits 0 (it exited 2).
func TestHelpOneDefaultPerFlag(t *testing.T) {
	var out, errb bytes.Buffer
	if code := Main([]string{"-h"}, &out, &errb); code != 0 {
		t.Fatalf("rtd bench -h: exit %d", code)
	}
	help := errb.String()
	for _, line := range strings.Split(help, "\n") {
		if n := strings.Count(line, "(default"); n > 1 {
			t.Errorf("two defaults: %s", line)
		}
		if regexp.MustCompile(`\(default "[0-9.]+[a-z]*"\)`).MatchString(line) {
			t.Errorf("a quoted number: %s", line)
		}
	}
	for _, want := range []string{"(default 10s)", "(default 1000)", `(default "ws")`} {
		if !strings.Contains(help, want) {
			t.Errorf("help lacks %s:\n%s", want, help)
		}
	}
	errb.Reset()
	if code := Main([]string{"fanout", "--help"}, &out, &errb); code != 0 || !strings.Contains(errb.String(), "--conns") {
		t.Errorf("rtd bench fanout --help: exit %d\n%s", code, errb.String())
	}
}

// TestErrorSaysWhy: connections that all fail say why ("connection
// refused"), once prefixed ("rtd bench: bench: …" before).
func TestErrorSaysWhy(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	var out, errb bytes.Buffer
	code := Main([]string{"connect", "--conns", "3", "--duration", "1s", "--url", "http://" + addr}, &out, &errb)
	msg := errb.String()
	if code != 1 || !strings.Contains(msg, "all 3 connections failed: ") || !strings.Contains(msg, "refused") || strings.Contains(msg, "bench: bench:") {
		t.Errorf("exit %d: %q", code, msg)
	}
}
