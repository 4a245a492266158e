// Command rtd is the realtime fan-out daemon.
//
//	rtd serve [flags]      run the server (see rtd serve -h)
//	rtd token [flags]      mint a connection token; rtd token check TOKEN
//	rtd version            print the version
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"syscall"

	"github.com/rtd-project/rtd/bench"
)

// version and revision are set at build time (make build):
// -ldflags "-X main.version=$(git describe …) -X main.revision=$(git rev-parse HEAD)".
// Without them, what the Go toolchain stamped (see init).
var version, revision = "", ""

func init() {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && revision == "" {
				revision = s.Value
			}
		}
		if version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			version = bi.Main.Version
		}
	}
	if version == "" {
		version = "dev"
	}
	if revision == "" {
		revision = "unknown"
	}
}

const usage = `usage: rtd <command> [flags]

commands:
  serve               run the fan-out server (rtd serve -h for flags)
  token               mint a connection token (rtd token -h); rtd token check TOKEN
  bench SCENARIO      load benchmarks: connect, fanout, echo, slow, churn (rtd bench -h)
  config check FILE   validate a YAML config file
  version             print the version
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
		defer stop()
		if err := serve(ctx, args[1:], os.Getenv, stderr); err != nil {
			fmt.Fprintln(stderr, "rtd serve:", err)
			return 1
		}
		return 0
	case "token":
		return tokenMain(args[1:], os.Getenv, stdout, stderr)
	case "bench":
		return bench.Main(args[1:], stdout, stderr)
	case "config":
		if len(args) != 3 || args[1] != "check" {
			fmt.Fprint(stderr, "usage: rtd config check FILE\n")
			return 2
		}
		if err := checkConfigTo(args[2], stderr); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		fmt.Fprintln(stdout, args[2]+": ok")
		return 0
	case "version", "-version", "--version":
		fmt.Fprintf(stdout, "rtd %s (revision %s, %s)\n", version, revision, runtime.Version())
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "rtd: unknown command %q\n\n%s", args[0], usage)
	return 2
}
