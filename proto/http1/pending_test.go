package http1

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"net/http/httputil"
	"strings"
	"testing"
)

// receive reads one request the way a server on an event loop does: Parse on what has
// arrived, then, once the head of a request with a body is complete, a Pending fed each new
// piece while the bytes fed are dropped. pieces splits in; receive returns the request, the bytes
// it took from in, and the error, as Parse does for the whole input at once.
func receive(p *Pending, in []byte, pieces [][]byte, lim *Limits) (*Request, int, error) {
	var r Request
	var buf []byte // what has arrived and is not yet dropped
	used := 0
	started := false
	for _, piece := range pieces {
		buf = append(buf, piece...)
		if !started {
			n, err := Parse(buf, &r, lim)
			if err != ErrNeedMore {
				return &r, n, err
			}
			if r.HeadLen == 0 {
				continue
			}
			if n, err = p.Start(buf, lim); err != nil {
				return p.Request(), 0, err
			}
			started = true
			used, buf = n, buf[n:]
		}
		n, err := p.Feed(buf)
		if err == ErrNeedMore {
			if n != len(buf) {
				return p.Request(), 0, errors.New("Feed used part of its input and asked for more")
			}
			used, buf = used+n, buf[:0]
			continue
		}
		if err != nil {
			return p.Request(), 0, err
		}
		return p.Request(), used + n, nil
	}
	if started {
		return p.Request(), 0, ErrNeedMore
	}
	return &r, 0, ErrNeedMore
}

// splitAt cuts in into pieces of sizes drawn by next (each at least 1).
func splitAt(in []byte, next func() int) [][]byte {
	var pieces [][]byte
	for len(in) > 0 {
		k := min(max(next(), 1), len(in))
		pieces = append(pieces, in[:k])
		in = in[k:]
	}
	return pieces
}

// checkPieces compares receiving in whole with receiving it in pieces.
func checkPieces(t *testing.T, in []byte, pieces [][]byte, lim *Limits) {
	t.Helper()
	var wr Request
	wn, werr := Parse(in, &wr, lim)
	var p Pending
	r, n, err := receive(&p, in, pieces, lim)
	if err != werr || n != wn {
		t.Fatalf("in %d pieces: %d, %v; at once: %d, %v", len(pieces), n, err, wn, werr)
	}
	if err == nil && describe(r) != describe(&wr) {
		t.Fatalf("in %d pieces:\n%s\nat once:\n%s", len(pieces), describe(r), describe(&wr))
	}
}

// bodyInputs are the requests of the parse table with a body, chunked or not, plus a few made
// for the splits.
func bodyInputs() []parseCase {
	var cs []parseCase
	for _, c := range parseCases {
		if in := strings.ToLower(c.in); strings.Contains(in, "transfer-encoding") || strings.Contains(in, "content-length") {
			cs = append(cs, c)
		}
	}
	cs = append(cs, parseCase{name: "post", in: postJSON + "GET / HTTP/1.1\r\nHost: x\r\n\r\n"})
	head := "POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
	for _, body := range []string{
		"1\r\na\r\n2 ; x=\"y\"\r\nbc\r\n10\r\n0123456789abcdef\r\n0\r\nA: 1\r\nB:\t2 \r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n",
		strings.Repeat("1\r\nx\r\n", 100) + "0\r\n\r\n",
		"3\r\nabc\r\n0\r\n\r",
		"3\r\nabc\r\n0\r\nA: 1\r",
		"3\r\nabcd\r\n",
		"3\r\nabc\r\r",
	} {
		cs = append(cs, parseCase{name: "split " + body, in: head + body})
	}
	return cs
}

// TestPendingAnySplit receives every input with a body one byte at a time, at every single cut,
// and in random pieces, and expects what Parse gives for the whole input.
func TestPendingAnySplit(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range bodyInputs() {
		in := []byte(c.in)
		checkPieces(t, in, splitAt(in, func() int { return 1 }), c.lim)
		for i := 1; i < len(in); i++ {
			checkPieces(t, in, [][]byte{in[:i], in[i:]}, c.lim)
		}
		for range 50 {
			checkPieces(t, in, splitAt(in, func() int { return rng.IntN(12) }), c.lim)
		}
	}
}

// TestPendingReuse receives requests of different sizes with one Pending: nothing of one may
// show in the next.
func TestPendingReuse(t *testing.T) {
	var p Pending
	head := "POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
	for _, body := range []string{"10\r\n0123456789abcdef\r\n0\r\n\r\n", "1\r\nz\r\n0\r\n\r\n", "0\r\n\r\n"} {
		in := []byte(head + body)
		r, _, err := receive(&p, in, splitAt(in, func() int { return 7 }), nil)
		var want Request
		if _, werr := Parse(in, &want, nil); err != nil || werr != nil || describe(r) != describe(&want) {
			t.Fatalf("reused Pending: %v\n%s\nwant\n%s", err, describe(r), describe(&want))
		}
	}
}

// TestPendingLinear feeds 100,000 one-byte chunks in pieces of 6 bytes and checks the work
// done is linear: Feed takes the bytes in order and never looks back at them.
func TestPendingLinear(t *testing.T) {
	const chunks = 100_000
	head := []byte("POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
	lim := &Limits{MaxBodyBytes: 1 << 20, MaxChunks: chunks}
	var r Request
	if _, err := Parse(head, &r, lim); err != ErrNeedMore || !r.Chunked {
		t.Fatalf("head: %v", err)
	}
	var p Pending
	if _, err := p.Start(head, lim); err != nil {
		t.Fatal(err)
	}
	chunk := []byte("1\r\nx\r\n")
	for range chunks {
		if n, err := p.Feed(chunk); err != ErrNeedMore || n != len(chunk) {
			t.Fatalf("Feed = %d, %v", n, err)
		}
	}
	if n, err := p.Feed([]byte("0\r\n\r\n")); err != nil || n != 5 || len(p.Request().Body) != chunks {
		t.Fatalf("last chunk: %d, %v, body %d bytes", n, err, len(p.Request().Body))
	}
}

// TestPendingAllocs asserts a warmed-up Pending receives a request without allocating.
func TestPendingAllocs(t *testing.T) {
	for _, c := range []struct {
		head   string
		pieces []string
	}{
		{"Transfer-Encoding: chunked", []string{"4\r\nWi", "ki\r\n5\r\npedia\r\n0\r\nX-T", ": 1\r\n\r\n"}},
		{"Content-Length: 9", []string{"Wi", "kipe", "dia"}},
	} {
		head := []byte("POST /p HTTP/1.1\r\nHost: x\r\n" + c.head + "\r\n\r\n")
		var p Pending
		run := func() {
			if _, err := p.Start(head, nil); err != nil {
				t.Fatal(err)
			}
			for i, piece := range c.pieces {
				if _, err := p.Feed([]byte(piece)); (err == nil) != (i == len(c.pieces)-1) {
					t.Fatalf("%s, piece %d: %v", c.head, i, err)
				}
			}
		}
		run()
		if allocs := testing.AllocsPerRun(100, run); allocs != 0 {
			t.Fatalf("%s: Pending allocates %v times per request; want 0", c.head, allocs)
		}
	}
}

// FuzzChunked receives a chunked body, under the default limits and small ones, at once with
// Parse and in pieces with a Pending (piece sizes drawn from seed), and expects the same
// result. Whatever it accepts, net/http's chunked reader must read as the same data, and the
// input it takes for the body stays within MaxBodyBytes.
func FuzzChunked(f *testing.F) {
	for _, c := range bodyInputs() {
		if i := strings.Index(c.in, "\r\n\r\n"); i >= 0 {
			f.Add([]byte(c.in[i+4:]), uint64(len(c.in)))
		}
	}
	head := "POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
	small := &Limits{MaxHeaderBytes: len(head) + 64, MaxHeaders: 3, MaxBodyBytes: 64, MaxChunks: 4}
	f.Fuzz(func(t *testing.T, body []byte, seed uint64) {
		in := append([]byte(head), body...)
		for _, lim := range []*Limits{nil, small} {
			rng := rand.New(rand.NewPCG(seed, uint64(len(in))))
			checkPieces(t, in, splitAt(in, func() int { return rng.IntN(16) }), lim)

			var r Request
			n, err := Parse(in, &r, lim)
			if err != nil {
				continue
			}
			l := lim.withDefaults()
			if int64(n-len(head)) > l.MaxBodyBytes {
				t.Fatalf("took %d body bytes, over MaxBodyBytes %d", n-len(head), l.MaxBodyBytes)
			}
			got, rerr := io.ReadAll(httputil.NewChunkedReader(bytes.NewReader(in[len(head):n])))
			if rerr == nil && !bytes.Equal(got, r.Body) {
				t.Fatalf("decoded %q; net/http reads %q", r.Body, got)
			}
		}
	})
}
