package main

import (
	"io"

	"github.com/rtd-project/rtd/bench"
)

// benchCommand runs `rtd bench SCENARIO [flags]`: the load generator. bench
// re-executes this binary with "bench" for its --procs children.
func benchCommand(args []string, stdout, stderr io.Writer) int {
	return bench.Main(args, stdout, stderr)
}
