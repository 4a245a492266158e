package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rtd-project/rtd/internal/nodeclient"
)

// The tests of rtd.js (clients/js), the JavaScript client: `node --test` suites in
// test/node/rtdjs run against a real rtd serve started here. Between the client and the
// server sits a TCP relay that the suites drive through a small control server (cut
// every connection and refuse new ones, restore, kill the node the client is on), so a
// network failure is a real one. See test/node/rtdjs/*.test.mjs for what each checks.

// relay forwards TCP connections to the first of its backends that accepts, starting
// with the one after the last used. While cut it closes every connection it holds and
// each new one as soon as it is accepted.
type relay struct {
	ln       net.Listener
	backends []string

	mu    sync.Mutex
	cut   bool
	next  int
	conns map[net.Conn]int // client side → backend index
}

func newRelay(t *testing.T, backends ...string) *relay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &relay{ln: ln, backends: backends, conns: map[net.Conn]int{}}
	go r.serve()
	t.Cleanup(func() { ln.Close(); r.setCut(true) })
	return r
}

func (r *relay) addr() string { return r.ln.Addr().String() }

func (r *relay) serve() {
	for {
		c, err := r.ln.Accept()
		if err != nil {
			return
		}
		go r.forward(c)
	}
}

func (r *relay) forward(c net.Conn) {
	r.mu.Lock()
	cut, start := r.cut, r.next
	r.mu.Unlock()
	if cut {
		c.Close()
		return
	}
	var up net.Conn
	idx := -1
	for k := range r.backends {
		i := (start + k) % len(r.backends)
		var err error
		if up, err = net.DialTimeout("tcp", r.backends[i], time.Second); err == nil {
			idx = i
			break
		}
	}
	if up == nil {
		c.Close()
		return
	}
	r.mu.Lock()
	if r.cut {
		r.mu.Unlock()
		c.Close()
		up.Close()
		return
	}
	r.next = (idx + 1) % len(r.backends)
	r.conns[c] = idx
	r.mu.Unlock()
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		done <- struct{}{}
	}
	go pipe(up, c)
	go pipe(c, up)
	<-done
	c.Close()
	up.Close()
	r.mu.Lock()
	delete(r.conns, c)
	r.mu.Unlock()
}

// setCut starts (true) or ends a cut: starting one closes every relayed connection.
func (r *relay) setCut(cut bool) {
	r.mu.Lock()
	r.cut = cut
	var drop []net.Conn
	if cut {
		for c := range r.conns {
			drop = append(drop, c)
		}
	}
	r.mu.Unlock()
	for _, c := range drop {
		c.Close()
	}
}

// backendsInUse returns the backends the relay's connections go to.
func (r *relay) backendsInUse() map[int]bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	in := map[int]bool{}
	for _, i := range r.conns {
		in[i] = true
	}
	return in
}

// control serves the suites' requests: POST /cut, /restore, and (with nodes) /kill,
// which SIGKILLs the node the relayed connections are on and answers its index.
func control(t *testing.T, r *relay, nodes []*daemon) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /cut", func(w http.ResponseWriter, _ *http.Request) { r.setCut(true) })
	mux.HandleFunc("POST /restore", func(w http.ResponseWriter, _ *http.Request) { r.setCut(false) })
	mux.HandleFunc("POST /kill", func(w http.ResponseWriter, _ *http.Request) {
		in := r.backendsInUse()
		if len(in) != 1 {
			http.Error(w, fmt.Sprintf("relayed connections go to nodes %v, want exactly one", in), http.StatusConflict)
			return
		}
		for i := range in {
			if err := nodes[i].cmd.Process.Kill(); err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			<-nodes[i].done
			fmt.Fprint(w, i)
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

// refuseWS is a reverse proxy to d that refuses /ws (as a proxy that does not pass
// WebSocket upgrades) and passes the rest, SSE streams included.
func refuseWS(t *testing.T, d *daemon) string {
	t.Helper()
	target, _ := url.Parse(d.url("/"))
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.FlushInterval = -1
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path == "/ws" {
			http.Error(w, "WebSocket not allowed here", http.StatusForbidden)
			return
		}
		proxy.ServeHTTP(w, req)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// runNodeTests runs `node --test` over files (in test/node/rtdjs) with env added, and
// fails t with the suites' output when any fails.
func runNodeTests(t *testing.T, timeout time.Duration, env []string, files ...string) {
	t.Helper()
	node, err := nodeclient.Node()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := nodeclient.Dir()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	args := []string{"--test", "--test-reporter=spec"}
	for _, f := range files {
		args = append(args, filepath.Join("rtdjs", f))
	}
	cmd := exec.CommandContext(ctx, node, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 3 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err = cmd.Run()
	t.Logf("node --test %s: %v", strings.Join(files, " "), time.Since(start).Round(time.Millisecond))
	if err != nil {
		t.Fatalf("node --test: %v\n%s", err, out.String())
	}
	if testing.Verbose() {
		t.Log(out.String())
	}
}

// TestE2ERtdJS runs the rtd.js suites against one rtd serve (JWT auth, an anonymous
// "news" and namespaces for the error cases, another site's origin allowed, the console
// on): delivery, reconnect and resume through a relay cut, token refresh, one typed error
// per protocol code, SSE fallback through a proxy that refuses /ws, GET /rtd.js, the
// declarations under tsc, /console in Chromium, and the README's examples as pasted.
func TestE2ERtdJS(t *testing.T) {
	if _, err := nodeclient.Chromium(); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(t.TempDir(), "rtd.yaml")
	err := os.WriteFile(conf, []byte(`allowed-origins: ["http://localhost:8000"]
namespaces:
  - pattern: "news"
    anonymous: true
  - pattern: "nohistory:*"
    history_size: -1
  - pattern: "nopresence:*"
    presence: false
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, "--jwt-secret", testSecret, "--allow-anonymous", "--config", conf, "--console")
	r := newRelay(t, d.addr)
	env := []string{
		"RTD_URL=" + d.url(""),
		"RTD_RELAY=" + r.addr(),
		"RTD_CONTROL=" + control(t, r, nil),
		"RTD_NOWS=" + refuseWS(t, d),
		"RTD_SECRET=" + testSecret,
	}
	runNodeTests(t, 2*time.Minute, env,
		"client.test.mjs", "errors.test.mjs", "served.test.mjs", "browser.test.mjs", "readme.test.mjs")
}

// TestE2ERtdJSCluster: a client connected through a relay to one node of three on NATS
// reconnects to another when its node is killed, and resumes with no gap and no
// duplicate. The nodes run without --console: /console is not served.
func TestE2ERtdJSCluster(t *testing.T) {
	_, nodes, _ := startCluster(t, t.TempDir(), 3)
	var addrs, urls []string
	for _, n := range nodes {
		addrs = append(addrs, n.addr)
		urls = append(urls, n.url(""))
	}
	if code, _ := get(t, nodes[0].url("/console")); code != 404 {
		t.Fatalf("GET /console without --console: %d, want 404", code)
	}
	r := newRelay(t, addrs...)
	env := []string{
		"RTD_NODES=" + strings.Join(urls, ","),
		"RTD_RELAY=" + r.addr(),
		"RTD_CONTROL=" + control(t, r, nodes),
	}
	runNodeTests(t, time.Minute, env, "cluster.test.mjs")
}

// get answers a GET's status and body.
func get(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
