package bench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
)

const usage = `usage: rtd bench SCENARIO [flags]

scenarios:
  connect   open and hold --conns connections at --rate per second; handshake
            latency and the server's memory per connection (--pid)
  fanout    --conns subscribers on --channels channels, publications of --size
            bytes at --rate per second (0: as fast as delivery keeps up);
            delivered/s, publish→receive latency, lost and duplicated
  echo      --conns WebSocket connections doing round trips on /echo
  slow      fanout where --slow-fraction of the subscribers never read
  churn     fanout while --churn-rate connections per second open and close
  recover   --conns subscribers disconnect, --recover-pubs publications are made
            on each channel, they resubscribe from their positions; the time
            until every subscriber has caught up

  --protocol centrifuge speaks Centrifuge's JSON protocol (connect, subscribe
  with recovery, pushes; echo as an RPC) to a centrifuge server, such as the
  centrifuge peer in bench/peers

  rtd bench compare A.json B.json …   side by side, as ratios to A

flags:
`

// Main is the rtd bench command: it parses args (the scenario, then flags),
// runs the benchmark and writes the table to stdout, the progress line to
// stderr when it is a terminal, and --json and --html files. It returns the
// process exit code. With the hidden --child flag it is a --procs child,
// talking JSON lines on stdin and stdout.
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fs, _ := newFlagSet(stderr)
		fs.Usage()
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return 0
		}
		return 2
	}
	if args[0] == "compare" {
		if err := Compare(stdout, args[1:]); err != nil {
			fmt.Fprintln(stderr, "rtd bench:", strings.TrimPrefix(err.Error(), "bench: "))
			return 1
		}
		return 0
	}
	fs, o := newFlagSet(stderr)
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "rtd bench: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	o.cfg.Scenario = args[0]
	if o.child {
		if err := runChild(os.Stdin, stdout); err != nil && err != io.EOF {
			fmt.Fprintln(stderr, "rtd bench child:", err)
			return 1
		}
		return 0
	}
	o.cfg.URLs = strings.Split(o.urls, ",")
	if isTerminal(stderr) {
		o.cfg.Live = stderr
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	r, err := Run(ctx, o.cfg)
	if r != nil {
		_ = r.WriteTable(stdout)
		if werr := writeOutputs(r, o.jsonFile, o.htmlFile); werr != nil && err == nil {
			err = werr
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "rtd bench:", strings.TrimPrefix(err.Error(), "bench: "))
		return 1
	}
	return 0
}

type mainOptions struct {
	cfg                Config
	urls               string
	jsonFile, htmlFile string
	child              bool
}

func newFlagSet(stderr io.Writer) (*flag.FlagSet, *mainOptions) {
	o := &mainOptions{}
	c := &o.cfg
	fs := flag.NewFlagSet("rtd bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.urls, "url", "http://127.0.0.1:8080", "server base URL; a comma-separated list spreads the connections over several servers")
	fs.IntVar(&c.Conns, "conns", 1000, "connections (subscribers)")
	fs.IntVar(&c.Channels, "channels", 1, "channels")
	fs.Float64Var(&c.Rate, "rate", 0, "publications/s (fan-out scenarios; 0 = as fast as delivery keeps up) or connections/s (connect; 0 = unpaced)")
	fs.IntVar(&c.Size, "size", 64, "publication data or echo message size in bytes")
	fs.DurationVar(&c.Duration, "duration", 0, "traffic (or holding) time (default 10s)")
	fs.IntVar(&c.Procs, "procs", 1, "client processes")
	fs.StringVar(&c.Src, "src", "", "source addresses: three octets, e.g. 127.0.1 for 127.0.1.1, .2, …")
	fs.IntVar(&c.ConnsPerSrc, "conns-per-src", 4000, "connections per source address")
	fs.StringVar(&c.Transport, "transport", "ws", "ws, sse or both")
	fs.StringVar(&c.Protocol, "protocol", ProtocolRTD, "rtd or centrifuge")
	fs.IntVar(&c.RecoverPubs, "recover-pubs", 50, "recover: publications per channel while the subscribers are away")
	fs.IntVar(&c.PID, "pid", 0, "server process ID, for its memory (/proc/PID/status)")
	fs.IntVar(&c.Publishers, "publishers", 1, "concurrent publishers")
	fs.IntVar(&c.Batch, "batch", 100, "publications per POST at most")
	fs.IntVar(&c.Window, "window", 8, "with --rate 0: undelivered publications per subscriber at most")
	fs.Float64Var(&c.SlowFraction, "slow-fraction", 0.1, "slow: share of subscribers that never read")
	fs.Float64Var(&c.ChurnRate, "churn-rate", 100, "churn: connections opened and closed per second")
	fs.DurationVar(&c.ChurnLife, "churn-life", 0, "churn: lifetime of a churning connection (default 1s)")
	fs.DurationVar(&c.Interval, "interval", 0, "time series sampling period (default 1s)")
	fs.DurationVar(&c.Drain, "drain", 0, "wait for messages in flight after the traffic (default 5s)")
	fs.DurationVar(&c.ReadyTimeout, "ready-timeout", 0, "bound on opening all connections (default 30s + 1ms per connection)")
	fs.StringVar(&o.jsonFile, "json", "", "write the result as JSON to this file")
	fs.StringVar(&o.htmlFile, "html", "", "write an HTML report with charts to this file")
	fs.BoolVar(&o.child, "child", false, "")
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		tw := tabwriter.NewWriter(stderr, 0, 0, 2, ' ', 0)
		fs.VisitAll(func(f *flag.Flag) {
			if f.Name != "child" {
				fmt.Fprintln(tw, flagHelp(f))
			}
		})
		_ = tw.Flush()
	}
	return fs, o
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func writeOutputs(r *Result, jsonFile, htmlFile string) error {
	if jsonFile != "" {
		if err := writeFile(jsonFile, r.WriteJSON); err != nil {
			return err
		}
	}
	if htmlFile != "" {
		return writeFile(htmlFile, r.WriteHTML)
	}
	return nil
}

func writeFile(name string, write func(io.Writer) error) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// flagHelp is one flag's line of rtd bench -h: its name, the kind of value
// and the usage, with the default once (the usage's own "(default …)" when
// it has one, the zero value said by the usage or not at all) and quoted
// only for strings.
func flagHelp(f *flag.Flag) string {
	kind, use := flag.UnquoteUsage(f)
	line := "  --" + f.Name
	if kind != "" {
		line += " " + kind
	}
	line += "\t" + use
	switch f.DefValue {
	case "", "0", "0s", "false":
		return line
	}
	if strings.Contains(use, "(default") {
		return line
	}
	if kind == "string" {
		return line + fmt.Sprintf(" (default %q)", f.DefValue)
	}
	return line + " (default " + f.DefValue + ")"
}
