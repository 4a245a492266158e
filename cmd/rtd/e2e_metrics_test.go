package main

import (
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestE2EMetricsHistogramsAndBuildInfo: after WebSocket and SSE clients
// connect and publications reach them, /metrics has rtd_build_info with the
// version `rtd version` prints, and the delivery, handshake (ws and sse) and
// API latency histograms with their sub-millisecond-to-seconds buckets and
// counts that moved; /api/stats does not count the connection asking; health
// checks and scrapes are logged at debug only; the startup line states the
// address, auth mode, origin policy and broker.
func TestE2EMetricsHistogramsAndBuildInfo(t *testing.T) {
	d := startDaemon(t, "--jwt-secret", testSecret, "--allow-anonymous")
	start := d.logs.waitFor(t, `"message":"rtd serving"`)
	for _, want := range []string{`"addr":"` + d.addr + `"`, `"auth":"jwt HS256, anonymous clients allowed"`, `"origins":"same-origin"`, `"broker":"none: one node, history in memory"`, `"api":"loopback clients only (no --api-key)"`} {
		if !strings.Contains(start, want) {
			t.Errorf("startup line %s lacks %s", start, want)
		}
	}

	ws := dialWS(t, d, "")
	ws.call(`{"id":1,"op":"subscribe","channel":"news"}`)
	resp, err := http.Get(d.url("/sse?channel=news"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	for range 3 {
		d.api(t, "POST", "/api/publish", "", `{"channel":"news","data":1}`)
		ws.read()
	}
	_, stats := d.api(t, "GET", "/api/stats", "", "")
	conns, _ := stats["connections"].(map[string]any)
	if conns["total"] != 2.0 || conns["ws"] != 1.0 || conns["sse"] != 1.0 {
		t.Errorf("/api/stats connections %v, want 1 ws + 1 sse = total 2 (not the request's own)", conns)
	}
	status(t, d, "/readyz")
	status(t, d, "/healthz")

	m := scrape(t, d, "")
	out, _ := exec.Command(rtdBinary, "version").Output()
	ver := strings.Fields(string(out))[1]
	var info string
	for k, v := range m {
		if strings.HasPrefix(k, "rtd_build_info{") && v == 1 {
			info = k
		}
	}
	if !strings.Contains(info, `version="`+ver+`"`) || !regexp.MustCompile(`go="go1\.\d+`).MatchString(info) || !strings.Contains(info, `revision="`) {
		t.Errorf("rtd_build_info: %q (rtd version says %q)", info, ver)
	}
	for _, h := range []string{
		"rtd_delivery_latency_seconds",
		`rtd_handshake_seconds{transport="ws"}`,
		`rtd_handshake_seconds{transport="sse"}`,
		"rtd_api_request_duration_seconds",
	} {
		name, labels, _ := strings.Cut(h, "{")
		series := func(suffix, le string) string {
			l := strings.TrimSuffix(labels, "}")
			if le != "" {
				if l != "" {
					l += ","
				}
				l += `le="` + le + `"`
			}
			if l == "" {
				return name + suffix
			}
			return name + suffix + "{" + l + "}"
		}
		count, ok := m[series("_count", "")]
		if !ok || count < 1 {
			t.Errorf("%s: count %v (present %v)", h, count, ok)
		}
		if _, ok := m[series("_bucket", "5e-05")]; !ok {
			t.Errorf("%s: no 50 µs bucket", h)
		}
		if v, ok := m[series("_bucket", "10")]; !ok || v > count {
			t.Errorf("%s: 10 s bucket %v of %v", h, v, count)
		}
		if inf := m[series("_bucket", "+Inf")]; inf != count {
			t.Errorf("%s: +Inf %v != count %v", h, inf, count)
		}
	}
	if c := m["rtd_delivery_latency_seconds_count"]; c < 3 {
		t.Errorf("delivery batches %v, want at least the 3 publications", c)
	}

	// A logged request after the health checks: once its line is there,
	// theirs would be too if they were logged at info.
	d.api(t, "GET", "/api/stats?after=health", "", "")
	d.logs.waitFor(t, `"path":"/api/stats"`, `"message":"http"`)
	for _, p := range []string{"/readyz", "/healthz", "/metrics"} {
		if strings.Contains(d.logs.String(), `"path":"`+p+`"`) {
			t.Errorf("%s logged at info", p)
		}
	}
}

// TestMakeBuildStampsVersion: `make build` stamps `git describe` and the
// revision, which `rtd version` prints (it said "dev").
func TestMakeBuildStampsVersion(t *testing.T) {
	describe, err := exec.Command("git", "describe", "--tags", "--always", "--dirty").Output()
	if err != nil {
		t.Skipf("no git checkout: %v", err)
	}
	bin := t.TempDir() + "/rtd"
	build := exec.Command("make", "-s", "build", "BIN="+bin)
	build.Dir = "../.."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("make build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	want := "rtd " + strings.TrimSpace(string(describe)) + " (revision "
	if !strings.HasPrefix(string(out), want) {
		t.Errorf("rtd version: %q, want it to start %q", out, want)
	}
}

// TestMakeRelease: make release writes static linux/amd64 and linux/arm64
// binaries (ELF of that machine, no interpreter: nothing to link at run
// time), their SHA-256 sums, and the version (git describe) stamped in
// them. It cross-compiles twice: skipped with -short.
func TestMakeRelease(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-compiles rtd twice")
	}
	describe, err := exec.Command("git", "describe", "--tags", "--always", "--dirty").Output()
	if err != nil {
		t.Skipf("no git checkout: %v", err)
	}
	version := strings.TrimSpace(string(describe))
	dist := t.TempDir()
	mk := exec.Command("make", "-s", "release", "DIST="+dist)
	mk.Dir = "../.."
	if out, err := mk.CombinedOutput(); err != nil {
		t.Fatalf("make release: %v\n%s", err, out)
	}
	sums, err := os.ReadFile(filepath.Join(dist, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	for arch, machine := range map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64} {
		name := "rtd-linux-" + arch
		b, err := os.ReadFile(filepath.Join(dist, name))
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("%x  %s", sha256.Sum256(b), name); !strings.Contains(string(sums), want) {
			t.Errorf("SHA256SUMS lacks %q:\n%s", want, sums)
		}
		f, err := elf.NewFile(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if f.Machine != machine {
			t.Errorf("%s: machine %v", name, f.Machine)
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				t.Errorf("%s is dynamically linked", name)
			}
		}
		if !bytes.Contains(b, []byte(version)) {
			t.Errorf("%s: version %s not stamped", name, version)
		}
	}
	// The Dockerfile (docs/production.md §10) copies what make release writes.
	df, err := os.ReadFile("../../Dockerfile")
	if err != nil || !strings.Contains(string(df), "COPY dist/rtd-linux-${TARGETARCH} ") {
		t.Errorf("Dockerfile does not copy dist/rtd-linux-${TARGETARCH}: %v\n%s", err, df)
	}
	out, err := exec.Command(filepath.Join(dist, "rtd-linux-amd64"), "version").Output()
	if err != nil || !strings.HasPrefix(string(out), "rtd "+version+" (revision ") {
		t.Errorf("rtd-linux-amd64 version: %q %v", out, err)
	}
}
