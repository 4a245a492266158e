package server

import (
	"context"
	"flag"
	"strings"
	"testing"
	"time"

	"github.com/rtd-project/rtd/internal/autobahn"
)

var autobahnFull = flag.Bool("autobahn.full", false, "run the Autobahn cases with their full sizes (minutes)")

// TestAutobahn runs the in-repo port of the Autobahn fuzzing client against
// rtd's echo route. Every case must be OK — stricter than Autobahn, which
// also passes NON-STRICT — except the cases Autobahn itself only records
// (INFORMATIONAL).
func TestAutobahn(t *testing.T) {
	s := startServer(t, Options{}, echoWS(WSOptions{Compression: true, MaxMessageBytes: 16 << 20, MaxSendQueueBytes: 64 << 20}))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	rs, err := autobahn.Run(ctx, autobahn.Target{Addr: s.Addr(), Path: "/echo"}, autobahn.Options{Compression: true, Full: *autobahnFull})
	if err != nil {
		t.Fatal(err)
	}
	ok, nonStrict, info, failed, unimpl := autobahn.Summarize(rs)
	t.Logf("autobahn: %d cases: %d OK, %d NON-STRICT, %d INFORMATIONAL, %d FAILED, %d UNIMPLEMENTED", len(rs), ok, nonStrict, info, failed, unimpl)
	if ok+info != len(rs) {
		var b strings.Builder
		var bad []autobahn.Result
		for _, r := range rs {
			if v := r.Overall(); v != autobahn.OK && v != autobahn.Informational {
				bad = append(bad, r)
			}
		}
		autobahn.Report(&b, bad)
		t.Fatalf("cases not OK:\n%s", b.String())
	}
	if info > 4 {
		t.Fatalf("%d INFORMATIONAL cases; only 7.1.6 and 7.13.x may be", info)
	}
}
