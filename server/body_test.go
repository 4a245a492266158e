package server

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/panjf2000/gnet/v2"
)

// processCPU returns the CPU time (user and system) the test process has used.
func processCPU(t *testing.T) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// uploadRoutes answers /healthz and, for POST /upload, the size of the body received.
func uploadRoutes(s *Server) {
	must := func(err error) {
		if err != nil {
			panic(err)
		}
	}
	must(s.HandleFunc("GET", "/healthz", func(w *ResponseWriter, _ *Request) { w.WriteString("ok\n") }))
	must(s.HandleFunc("POST", "/upload", func(w *ResponseWriter, r *Request) {
		w.WriteString(strconv.Itoa(len(r.Body())))
	}))
}

// TestMillionOneByteChunksCostLinearTime has a child process send a body of 1,000,000
// one-byte chunks in a thousand pieces, then an 8 MB Content-Length body in as many, and
// bounds the CPU this process (the server, without the client) spends on each. Parsing the
// request again, and gnet copying the buffered input, on each piece took 0.5 s to 0.8 s per
// body; taken once, a body costs a small fraction of that. A client on the same loop
// polls /healthz throughout and its latency is bounded too. The bounds are generous, for a
// noisy shared machine.
func TestMillionOneByteChunksCostLinearTime(t *testing.T) {
	if testing.Short() {
		t.Skip("sends 14 MB")
	}
	for _, mode := range []string{"chunked", "length"} {
		t.Run(mode, func(t *testing.T) { uploadInPieces(t, mode) })
	}
}

// uploadInPieces runs TestUploadSender in a child process with mode and checks the server's
// CPU and /healthz latency meanwhile.
func uploadInPieces(t *testing.T, mode string) {
	s := startServer(t, Options{Loops: 1, MaxBodyBytes: 8 << 20, MaxChunks: 2 * senderChunks, HeaderTimeout: time.Minute}, uploadRoutes)

	probe := dial(t, s)
	_ = probe.SetDeadline(time.Now().Add(time.Minute))
	probeR := bufio.NewReader(probe)
	stop := make(chan struct{})
	latencies := make(chan []time.Duration, 1)
	go func() {
		var lat []time.Duration
		defer func() { latencies <- lat }()
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			start := time.Now()
			if _, err := probe.Write([]byte("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
				return
			}
			if resp, _ := readResponse(t, probeR, "GET"); resp.StatusCode != 200 {
				return
			}
			lat = append(lat, time.Since(start))
		}
	}()

	cmd := exec.Command(os.Args[0], "-test.run=^TestUploadSender$", "-test.v")
	cmd.Env = append(os.Environ(), "RTD_UPLOAD_SENDER="+mode+" "+s.Addr())
	before := processCPU(t)
	out, err := cmd.CombinedOutput()
	cpu := processCPU(t) - before
	close(stop)
	lat := <-latencies
	if err != nil {
		t.Fatalf("sender: %v\n%s", err, out)
	}
	if want := fmt.Sprintf("answer 200 %q", strconv.Itoa(senderBody[mode])); !bytes.Contains(out, []byte(want)) {
		t.Fatalf("sender output lacks %s:\n%s", want, out)
	}
	if len(lat) == 0 {
		t.Fatal("no /healthz answer while the body was uploaded")
	}
	slices.Sort(lat)
	p99 := lat[len(lat)*99/100]
	t.Logf("%s body in 1000 pieces: server process CPU %v; /healthz p50 %v p99 %v max %v over %d probes",
		mode, cpu, lat[len(lat)/2], p99, lat[len(lat)-1], len(lat))
	// About 0.1 s and a few milliseconds are usual, against 0.5 s to 0.8 s and up to half a
	// second when each piece cost a pass over what was buffered; the race detector slows
	// everything down about fourfold.
	limit, latency := 300*time.Millisecond, 100*time.Millisecond
	if raceEnabled {
		limit, latency = 4*limit, 4*latency
	}
	if cpu > limit {
		t.Errorf("the upload cost %v of CPU; want under %v", cpu, limit)
	}
	if p99 > latency {
		t.Errorf("/healthz p99 %v on the same loop during the upload; want under %v", p99, latency)
	}
}

// senderChunks is the number of one-byte chunks TestUploadSender sends.
const senderChunks = 1_000_000

// senderBody is the body TestUploadSender sends, by mode, as the handler counts it: a
// Content-Length body a little longer than the chunked one is on the wire.
var senderBody = map[string]int{"chunked": senderChunks, "length": 8_000_000}

// TestUploadSender is the client of TestMillionOneByteChunksCostLinearTime, run in a child
// process so that its CPU is not counted as the server's.
func TestUploadSender(t *testing.T) {
	mode, addr, ok := strings.Cut(os.Getenv("RTD_UPLOAD_SENDER"), " ")
	if !ok {
		t.Skip("run by TestMillionOneByteChunksCostLinearTime")
	}
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Minute))
	head, end := "Transfer-Encoding: chunked", "0\r\n\r\n"
	// Paced as over a real network: a thousand writes a millisecond apart, so the server sees
	// the body in about as many pieces as a remote client's would.
	piece := bytes.Repeat([]byte("1\r\nx\r\n"), senderChunks/1000)
	if mode == "length" {
		head, end = "Content-Length: "+strconv.Itoa(senderBody[mode]), ""
		piece = bytes.Repeat([]byte("x"), senderBody[mode]/1000)
	}
	if _, err := fmt.Fprintf(c, "POST /upload HTTP/1.1\r\nHost: x\r\n%s\r\n\r\n", head); err != nil {
		t.Fatal(err)
	}
	for range 1000 {
		if _, err := c.Write(piece); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
	}
	if _, err := c.Write([]byte(end)); err != nil {
		t.Fatal(err)
	}
	resp, got := readResponse(t, bufio.NewReader(c), "POST")
	fmt.Printf("answer %d %q\n", resp.StatusCode, got)
}

// chunkedPost sends a POST /upload with a chunked body and returns the response.
func chunkedPost(t *testing.T, s *Server, body string) (int, string) {
	t.Helper()
	c := dial(t, s)
	if _, err := fmt.Fprintf(c, "POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n%s", body); err != nil {
		t.Fatal(err)
	}
	resp, got := readResponse(t, bufio.NewReader(c), "POST")
	return resp.StatusCode, got
}

// TestChunkedBodyLimits: a body of more chunks than MaxChunks is refused, and so is one whose
// data fits MaxBodyBytes but whose framing takes it over.
func TestChunkedBodyLimits(t *testing.T) {
	s := startServer(t, Options{MaxBodyBytes: 64, MaxChunks: 3}, uploadRoutes)
	for _, c := range []struct {
		name, body string
		status     int
	}{
		{"at the limits", "1\r\na\r\n1\r\nb\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n", 200},
		{"one chunk too many", strings.Repeat("1\r\nx\r\n", 4) + "0\r\n\r\n", 413},
		{"framing over the body limit", "1;" + strings.Repeat("e", 60) + "\r\nx\r\n0\r\n\r\n", 413},
	} {
		if status, _ := chunkedPost(t, s, c.body); status != c.status {
			t.Errorf("%s: %d, want %d", c.name, status, c.status)
		}
	}
	s = startServer(t, Options{MaxBodyBytes: 64}, uploadRoutes)
	if status, _ := chunkedPost(t, s, strings.Repeat("1\r\nx\r\n", 20)+"0\r\n\r\n"); status != 413 {
		t.Errorf("20 data bytes in 125 bytes of chunks under a 64-byte limit: %d, want 413", status)
	}
}

// TestExpectContinueAfterChecks: "100 Continue" is sent only once the route is known and
// its guards have passed on the head; otherwise the final status comes at once, with no 100
// before it, and the connection is closed.
func TestExpectContinueAfterChecks(t *testing.T) {
	s := startServer(t, Options{}, func(s *Server) {
		uploadRoutes(s)
		key := func(r *Request) error {
			if r.Header("X-Key") != "k" {
				return &HTTPError{Status: 401, Message: `{"error":"invalid key"}`}
			}
			return nil
		}
		if err := s.Group("/api", key).HandleFunc("POST", "/upload", func(w *ResponseWriter, r *Request) {
			w.WriteString("got " + string(r.Body()))
		}); err != nil {
			t.Fatal(err)
		}
	})
	for _, c := range []struct {
		name, path, key string
		status          int
		body            string
	}{
		{"no such route", "/nowhere", "k", 404, ""},
		{"wrong method", "/healthz", "k", 405, ""},
		{"guard refuses", "/api/upload", "nope", 401, ""},
		{"guard lets through", "/api/upload", "k", 200, "got hello"},
		{"no guard", "/upload", "", 200, "5"},
	} {
		t.Run(c.name, func(t *testing.T) {
			conn := dial(t, s)
			_, _ = fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nX-Key: %s\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n", c.path, c.key)
			br := bufio.NewReader(conn)
			line, err := br.ReadString('\n')
			if err != nil {
				t.Fatal(err)
			}
			if c.status != 200 {
				if want := "HTTP/1.1 " + strconv.Itoa(c.status) + " "; !strings.HasPrefix(line, want) {
					t.Fatalf("first line %q, want %q…: the body was asked for before the request was refused", line, want)
				}
				_, _ = br.Discard(br.Buffered())
				expectEOF(t, br)
				return
			}
			if line != "HTTP/1.1 100 Continue\r\n" {
				t.Fatalf("first line %q, want 100 Continue", line)
			}
			if line, _ = br.ReadString('\n'); line != "\r\n" {
				t.Fatalf("100 Continue followed by %q", line)
			}
			if _, err := conn.Write([]byte("hello")); err != nil {
				t.Fatal(err)
			}
			if resp, body := readResponse(t, br, "POST"); resp.StatusCode != 200 || body != c.body {
				t.Fatalf("after 100: %d %q, want 200 %q", resp.StatusCode, body, c.body)
			}
		})
	}
}

// bodyCounts reads, on the loop, how many bodies are under way and how many Pendings are free
// (-1 and -1 before the loop is known).
func bodyCounts(t *testing.T, s *Server) (busy, free int) {
	t.Helper()
	loops := *s.loops.Load()
	if len(loops) == 0 {
		return -1, -1
	}
	l := loops[0]
	res := make(chan [2]int, 1)
	if err := l.el.Execute(context.Background(), gnet.RunnableFunc(func(context.Context) error {
		res <- [2]int{len(l.bodies.busy), len(l.bodies.free)}
		return nil
	})); err != nil {
		t.Fatal(err)
	}
	r := <-res
	return r[0], r[1]
}

// TestBodyStateOnlyWhileUnderWay: a connection holds a Pending while its chunked body is
// incomplete, gives it up when it closes mid-body, and a served request's Pending goes back to
// the loop's free list.
func TestBodyStateOnlyWhileUnderWay(t *testing.T) {
	s := startServer(t, Options{Loops: 1}, uploadRoutes)
	waitCounts := func(busy, free int) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			b, f := bodyCounts(t, s)
			if b == busy && f == free {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d bodies under way and %d free; want %d and %d", b, f, busy, free)
			}
			time.Sleep(time.Millisecond)
		}
	}
	a := dial(t, s)
	if _, err := a.Write([]byte("POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n")); err != nil {
		t.Fatal(err)
	}
	waitCounts(1, 0)
	a.Close()
	waitCounts(0, 0)

	b := dial(t, s)
	if _, err := b.Write([]byte("POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n")); err != nil {
		t.Fatal(err)
	}
	waitCounts(1, 0)
	if _, err := b.Write([]byte("0\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	if resp, body := readResponse(t, bufio.NewReader(b), "POST"); resp.StatusCode != 200 || body != "1" {
		t.Fatalf("upload: %d %q", resp.StatusCode, body)
	}
	c := dial(t, s)
	if _, err := c.Write([]byte("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	readResponse(t, bufio.NewReader(c), "GET")
	waitCounts(0, 1)
}
