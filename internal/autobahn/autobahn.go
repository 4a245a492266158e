package autobahn

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
	"text/tabwriter"
	"time"
)

// Target is the WebSocket endpoint under test.
type Target struct {
	Addr string // TCP address, e.g. "127.0.0.1:8080"
	Path string // request path, e.g. "/echo"; "" means "/"
	Host string // Host header; "" means Addr
}

// Options selects and sizes the cases. The zero value runs groups 1–7, 9, 10
// and X.1 with scaled-down sizes, four cases at a time.
type Options struct {
	// Full runs groups 9, 12 and 13 with Autobahn's own sizes, message
	// counts and time limits (minutes per case). By default sizes are
	// divided by 16, round trips by 10 and deflate message counts by 50,
	// so the whole run takes seconds.
	Full bool
	// Compression adds groups 12 and 13 (permessage-deflate).
	Compression bool
	// Cases filters by case ID: a comma-separated list of patterns where
	// "*" matches anything ("1.*,5.19"), or else a regular expression.
	// Empty selects every case.
	Cases string
	// Parallel is how many cases run at once, each on its own connection;
	// 0 means 4. The 1 s pauses of 5.19, 5.20 and 6.4.x overlap this way.
	Parallel int
}

// Verdict grades one side of a case, with Autobahn's names.
type Verdict string

// Verdicts. Behavior takes OK, NON-STRICT, INFORMATIONAL, FAILED or
// UNIMPLEMENTED; BehaviorClose takes OK, WRONG CODE, UNCLEAN,
// FAILED BY CLIENT, INFORMATIONAL or FAILED.
const (
	OK             Verdict = "OK"
	NonStrict      Verdict = "NON-STRICT"
	Informational  Verdict = "INFORMATIONAL"
	Failed         Verdict = "FAILED"
	Unimplemented  Verdict = "UNIMPLEMENTED"
	WrongCode      Verdict = "WRONG CODE"
	Unclean        Verdict = "UNCLEAN"
	FailedByClient Verdict = "FAILED BY CLIENT"
)

// Result is the outcome of one case.
type Result struct {
	ID            string
	Description   string
	Behavior      Verdict // the data/ping/pong events seen
	BehaviorClose Verdict // the closing handshake
	Detail        string  // why, and the events seen when they matter
	Duration      time.Duration
}

// Overall folds both verdicts into one of OK, NON-STRICT, INFORMATIONAL,
// UNIMPLEMENTED or FAILED: a failed or unclean close fails the case, a wrong
// close code or a client-side drop only makes it non-strict, as in
// Autobahn's report.
func (r Result) Overall() Verdict {
	switch {
	case r.Behavior == Failed || r.BehaviorClose == Failed || r.BehaviorClose == Unclean:
		return Failed
	case r.Behavior == Unimplemented:
		return Unimplemented
	case r.Behavior == Informational:
		return Informational
	case r.Behavior == NonStrict || r.BehaviorClose == WrongCode || r.BehaviorClose == FailedByClient:
		return NonStrict
	}
	return OK
}

// Summarize counts results by Overall verdict.
func Summarize(rs []Result) (ok, nonStrict, info, failed, unimpl int) {
	for _, r := range rs {
		switch r.Overall() {
		case OK:
			ok++
		case NonStrict:
			nonStrict++
		case Informational:
			info++
		case Unimplemented:
			unimpl++
		default:
			failed++
		}
	}
	return
}

// Report writes a table of results followed by the totals.
func Report(w io.Writer, rs []Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "case\tbehavior\tclose\tms\tdetail")
	for _, r := range rs {
		d := r.Detail
		if len(d) > 160 {
			d = d[:160] + "…"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", r.ID, r.Behavior, r.BehaviorClose, r.Duration.Milliseconds(), d)
	}
	tw.Flush()
	ok, ns, info, failed, unimpl := Summarize(rs)
	fmt.Fprintf(w, "%d cases: %d OK, %d NON-STRICT, %d INFORMATIONAL, %d FAILED, %d UNIMPLEMENTED\n",
		len(rs), ok, ns, info, failed, unimpl)
}

// CaseIDs lists the IDs of the cases Run would run with o, in run order.
// An invalid filter selects nothing.
func CaseIDs(o Options) []string {
	defs, err := selectCases(o)
	if err != nil {
		return nil
	}
	ids := make([]string, len(defs))
	for i, d := range defs {
		ids[i] = d.id
	}
	return ids
}

// Run runs the selected cases against t and returns one Result per case in
// case order. Every case stops by itself within its time limit; cancelling
// ctx drops the open connections and returns what was graded so far with
// ctx.Err(). Server misbehaviour, including a failed handshake, is a FAILED
// case, not an error.
func Run(ctx context.Context, t Target, o Options) ([]Result, error) {
	defs, err := selectCases(o)
	if err != nil {
		return nil, err
	}
	if t.Path == "" {
		t.Path = "/"
	}
	if t.Host == "" {
		t.Host = t.Addr
	}
	par := o.Parallel
	if par <= 0 {
		par = 4
	}
	results := make([]Result, len(defs))
	done := make([]bool, len(defs))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(par, len(defs)) {
		wg.Go(func() {
			for i := range next {
				results[i] = runCase(ctx, t, defs[i])
				done[i] = true
			}
		})
	}
feed:
	for i := range defs {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		graded := results[:0]
		for i, r := range results {
			if done[i] {
				graded = append(graded, r)
			}
		}
		return graded, err
	}
	return results, nil
}

// selectCases builds the case list for o and applies the filter.
func selectCases(o Options) ([]caseDef, error) {
	match, err := caseFilter(o.Cases)
	if err != nil {
		return nil, err
	}
	var out []caseDef
	for _, d := range allCases(o) {
		if match(d.id) {
			out = append(out, d)
		}
	}
	if len(out) == 0 {
		return nil, ErrNoCases
	}
	return out, nil
}

var casePattern = regexp.MustCompile(`^[0-9A-Za-z.*]+$`)

// caseFilter compiles Options.Cases: comma-separated glob patterns when every
// item looks like a case ID pattern, else one regular expression.
func caseFilter(spec string) (func(string) bool, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return func(string) bool { return true }, nil
	}
	items := strings.Split(spec, ",")
	globs := make([]string, 0, len(items))
	for _, it := range items {
		it = strings.TrimSpace(it)
		if !casePattern.MatchString(it) {
			globs = nil
			break
		}
		globs = append(globs, strings.ReplaceAll(regexp.QuoteMeta(it), `\*`, `.*`))
	}
	expr := spec
	if globs != nil {
		expr = `^(?:` + strings.Join(globs, `|`) + `)$`
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadFilter, err)
	}
	return re.MatchString, nil
}
