package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The proxy tests run real reverse proxies (Debian's nginx, haproxy and
// caddy, installed by scripts/test-deps.sh) on loopback in front of
// `rtd serve` and send WebSocket, SSE and API traffic through them. A proxy
// whose binary is missing skips its test, unless RTD_REQUIRE_PROXIES is set.
//
// Except for the stock nginx location, each configuration is the one
// docs/production.md gives, read from the block after its
// `<!-- proxy-config: NAME -->` marker, with the test's addresses in place
// of the example ones.

// proxyTimeout bounds each request, stream read and WebSocket exchange
// through a proxy.
const proxyTimeout = 10 * time.Second

func TestProxyNginxStock(t *testing.T) {
	p := newProxyTest(t, "/usr/sbin/nginx")
	// Nothing but proxy_pass: nginx speaks HTTP/1.0 to rtd with
	// Connection: close, and buffers responses (proxy_buffering on).
	p.startNginx(`
events {}
http {
` + nginxHTTPPrelude(p.dir) + `
    server {
        listen ` + p.addr + `;
        location / { proxy_pass http://` + p.d.addr + `; }
    }
}
`)
	p.check("sse", "api")
}

func TestProxyNginxProduction(t *testing.T) {
	p := newProxyTest(t, "/usr/sbin/nginx")
	p.startNginx(p.docConfig("nginx", map[string]string{
		"listen 443 ssl http2;": "listen " + p.addr + ";",
		"http {":                "http {\n" + nginxHTTPPrelude(p.dir),
	}))
	p.check("ws", "sse", "api")
}

func TestProxyHAProxy(t *testing.T) {
	p := newProxyTest(t, "/usr/sbin/haproxy")
	file := p.writeConfig("haproxy.cfg", p.docConfig("haproxy", map[string]string{
		"bind :443 ssl crt /etc/haproxy/site.pem alpn h2,http/1.1": "bind " + p.addr,
		// HAProxy wants 2 × maxconn descriptors, more than a test may have.
		"maxconn 200000": "maxconn 2000",
	}))
	// -db: foreground, one process.
	p.start(exec.Command(p.bin, "-db", "-f", file))
	p.check("ws", "sse", "api")
}

func TestProxyCaddy(t *testing.T) {
	p := newProxyTest(t, "/usr/bin/caddy")
	// An http:// site address: no certificate to get. No admin endpoint, its
	// storage and autosaved config in dir, and a short grace period at stop
	// (Caddy lets go of an SSE stream whose client left only when it next
	// writes to it).
	file := p.writeConfig("Caddyfile", p.docConfig("caddy", map[string]string{
		"rtd.example.com {": "http://" + p.addr + " {",
		"grace_period 10s":  "grace_period 1s\n\tadmin off\n\tauto_https off\n\tdefault_bind 127.0.0.1\n\tstorage file_system " + p.dir,
	}))
	cmd := exec.Command(p.bin, "run", "--adapter", "caddyfile", "--config", file)
	cmd.Env = append(os.Environ(), "HOME="+p.dir, "XDG_CONFIG_HOME="+p.dir, "XDG_DATA_HOME="+p.dir)
	p.start(cmd)
	p.check("ws", "sse", "api")
}

// checkSSEThrough: an SSE stream opened through front gets a publication
// made on d directly and one published through front.
func checkSSEThrough(t *testing.T, d, front *daemon) {
	ch := "sse-" + strings.ReplaceAll(t.Name(), "/", "-")
	ctx, cancel := context.WithTimeout(context.Background(), proxyTimeout)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", front.url("/sse?channel="+ch), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("GET /sse through the proxy: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	br := bufio.NewReader(resp.Body)
	// The stream is open on rtd once it has sent its opening (padding and
	// retry hint): publish only then, or the stream could miss it.
	if line, err := br.ReadString('\n'); err != nil || !strings.HasPrefix(line, ":") {
		t.Fatalf("the stream opens with %q (%v), want rtd's padding comment", line, err)
	}
	publishAt(t, d, ch, "direct")
	publishAt(t, front, ch, "proxied")
	for i, want := range []string{"direct", "proxied"} {
		if ev := readSSEEvent(t, br); ev["data"] != `"`+want+`"` || !strings.HasSuffix(ev["id"], fmt.Sprintf(":%d", i+1)) {
			t.Fatalf("event %d: %v, want data %q", i+1, ev, want)
		}
	}
}

// checkWSThrough: a WebSocket through front subscribes and gets a
// publication made on d directly and one published through front.
func checkWSThrough(t *testing.T, d, front *daemon) {
	ch := "ws-" + strings.ReplaceAll(t.Name(), "/", "-")
	ws := dialWS(t, front, "")
	ws.c.SetReadDeadline(time.Now().Add(proxyTimeout))
	if r := ws.call(`{"id":1,"op":"subscribe","channel":"` + ch + `"}`); r["ok"] != true || r["id"] != 1.0 {
		t.Fatalf("subscribe reply %v", r)
	}
	publishAt(t, d, ch, "direct")
	publishAt(t, front, ch, "proxied")
	for i, want := range []string{"direct", "proxied"} {
		if p := ws.read(); p["channel"] != ch || p["data"] != want || p["offset"] != float64(i+1) {
			t.Fatalf("push %d: %v, want data %q", i+1, p, want)
		}
	}
	if r := ws.call(`{"id":2,"op":"ping"}`); r["op"] != "pong" || r["id"] != 2.0 {
		t.Fatalf("ping reply %v", r)
	}
}

// checkAPIThrough: a history of several MB comes through front complete.
func checkAPIThrough(t *testing.T, d, front *daemon) {
	ch := "api-" + strings.ReplaceAll(t.Name(), "/", "-")
	// 100 publications (rtd's default history-size and /api/history limit)
	// of 60 KiB: about 6 MB, published directly in requests under the
	// 1 MiB body limit.
	const pubs, batch = 100, 10
	pad := strings.Repeat("x", 60<<10)
	for i := 1; i <= pubs; i += batch {
		var b strings.Builder
		for j := i; j < i+batch; j++ {
			if j > i {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"channel":%q,"data":"%d %s"}`, ch, j, pad)
		}
		if code, out := d.api(t, "POST", "/api/publish", "", `{"publications":[`+b.String()+`]}`); code != 200 {
			t.Fatalf("publish from %d: %d %v", i, code, out)
		}
	}
	path := fmt.Sprintf("/api/history/%s?limit=%d", ch, pubs)
	want, err := getBody(d, path)
	if err != nil {
		t.Fatalf("history straight from rtd: %v", err)
	}
	got, err := getBody(front, path)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("GET %s through the proxy: %d of %d bytes (%v)", path, len(got), len(want), err)
	}
	var hist struct{ Publications []struct{ Data string } }
	if err := json.Unmarshal(got, &hist); err != nil || len(hist.Publications) != pubs || !strings.HasPrefix(hist.Publications[pubs-1].Data, fmt.Sprint(pubs, " ")) {
		t.Fatalf("history of %d bytes: %d publications (%v)", len(got), len(hist.Publications), err)
	}
}

// publishAt publishes data (a JSON string) on ch through d's /api/publish.
func publishAt(t *testing.T, d *daemon, ch, data string) {
	t.Helper()
	if code, out := d.api(t, "POST", "/api/publish", "", fmt.Sprintf(`{"channel":%q,"data":%q}`, ch, data)); code != 200 {
		t.Fatalf("publish %q at %s: %d %v", data, d.addr, code, out)
	}
}

// getBody GETs path from d and returns the whole body of a 200 answer.
func getBody(d *daemon, path string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), proxyTimeout)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", d.url(path), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != 200 {
		err = fmt.Errorf("status %d", resp.StatusCode)
	}
	return b, err
}

// proxyTest is one proxy's test: rtd, and a proxy in front of it.
type proxyTest struct {
	t     *testing.T
	bin   string  // the proxy's executable
	d     *daemon // rtd
	dir   string  // the proxy's configuration, temporary files and output
	addr  string  // the loopback host:port the proxy listens on
	front *daemon // the proxy, as a daemon: the e2e helpers (url, api, dialWS) go through it
}

// newProxyTest starts rtd for a test of the proxy bin. A missing bin skips
// the test, or fails it when RTD_REQUIRE_PROXIES is set.
func newProxyTest(t *testing.T, bin string) *proxyTest {
	t.Helper()
	if info, err := os.Stat(bin); err != nil || info.IsDir() || info.Mode()&0o111 == 0 {
		if os.Getenv("RTD_REQUIRE_PROXIES") != "" {
			t.Fatalf("%s is missing (RTD_REQUIRE_PROXIES is set): run `make test-deps`", bin)
		}
		t.Skipf("%s is missing: run `make test-deps`", bin)
	}
	// A loopback port that was free a moment ago, for the proxy.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return &proxyTest{t: t, bin: bin, d: startDaemon(t), dir: t.TempDir(), addr: addr}
}

// proxyChecks are the kinds of traffic a test sends through a proxy.
var proxyChecks = map[string]func(t *testing.T, d, front *daemon){
	"ws":  checkWSThrough,
	"sse": checkSSEThrough,
	"api": checkAPIThrough,
}

// check runs the named proxyChecks as subtests.
func (p *proxyTest) check(names ...string) {
	for _, name := range names {
		p.t.Run(name, func(t *testing.T) { proxyChecks[name](t, p.d, p.front) })
	}
}

// writeConfig writes content to the file name in the proxy's directory and
// returns its path.
func (p *proxyTest) writeConfig(name, content string) string {
	p.t.Helper()
	file := filepath.Join(p.dir, name)
	if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
		p.t.Fatal(err)
	}
	return file
}

// docConfig returns the configuration docs/production.md gives for name,
// with each key of subst replaced by its value, the example upstreams by
// rtd, and the example private network by loopback (the test's "backend").
// A string to replace that the block no longer holds fails the test: the
// doc changed in a way the test must follow.
func (p *proxyTest) docConfig(name string, subst map[string]string) string {
	t := p.t
	t.Helper()
	doc, err := os.ReadFile("../../docs/production.md")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile("(?s)<!-- proxy-config: " + regexp.QuoteMeta(name) + " -->\n```[a-z]*\n(.*?\n)```\n")
	m := re.FindSubmatch(doc)
	if m == nil {
		t.Fatalf("docs/production.md has no ``` block after <!-- proxy-config: %s -->", name)
	}
	conf := string(m[1])
	subst["127.0.0.1:8081"] = p.d.addr
	subst["127.0.0.1:8082"] = p.d.addr
	subst["10.0.0.0/8"] = "127.0.0.0/8"
	for old, repl := range subst {
		if !strings.Contains(conf, old) {
			t.Fatalf("docs/production.md's %s config no longer has %q:\n%s", name, old, conf)
		}
		conf = strings.ReplaceAll(conf, old, repl)
	}
	return conf
}

// nginxHTTPPrelude is what the http context of an nginx in dir needs: its
// temporary files in dir (where it buffers large responses), no access log.
func nginxHTTPPrelude(dir string) string {
	s := "    access_log off;\n"
	for _, kind := range []string{"client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		s += fmt.Sprintf("    %s_temp_path %s;\n", kind, filepath.Join(dir, kind))
	}
	return s
}

// startNginx runs nginx in the foreground on conf, after a main context
// for a test: pid file in the proxy's directory, log to stderr, and as root
// workers that run as root too, to use the directory's temporary files.
func (p *proxyTest) startNginx(conf string) {
	main := "pid " + filepath.Join(p.dir, "nginx.pid") + ";\nerror_log stderr notice;\n"
	if os.Geteuid() == 0 {
		main += "user root root;\n"
	}
	file := p.writeConfig("nginx.conf", main+conf)
	p.start(exec.Command(p.bin, "-p", p.dir, "-c", file, "-e", "stderr", "-g", "daemon off;"))
}

// start starts cmd, the proxy, with its output in the proxy's directory, and
// waits until /api/stats answers 200 through it. At cleanup the proxy gets
// SIGTERM, then after 5 s its process group (nginx's workers) SIGKILL.
func (p *proxyTest) start(cmd *exec.Cmd) {
	t := p.t
	t.Helper()
	name := filepath.Base(p.bin)
	logPath := filepath.Join(p.dir, "proxy.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd.Dir = p.dir
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	logs := func() string { b, _ := os.ReadFile(logPath); return string(b) }
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Errorf("%s did not exit on SIGTERM", name)
		}
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		if t.Failed() {
			t.Logf("%s output:\n%s", name, logs())
		}
	})
	p.front = &daemon{addr: p.addr}
	eventually(t, name+" passing /api/stats to rtd", func() bool {
		select {
		case err := <-done:
			done <- err
			t.Fatalf("%s exited: %v\n%s", name, err, logs())
		default:
		}
		_, err := getBody(p.front, "/api/stats")
		return err == nil
	})
}
