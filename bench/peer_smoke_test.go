//go:build linux

package bench

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// startPeer builds bench/peers' peer command and runs the kind on a free
// loopback port; it returns the base URL. It skips the test when the peer
// cannot be built (bench/peers is its own module, with its own downloads).
func startPeer(t *testing.T, kind string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "peer")
	build := exec.Command("go", "build", "-o", bin, "./cmd/peer")
	build.Dir = "peers"
	if out, err := build.CombinedOutput(); err != nil {
		t.Skipf("the peer does not build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "--kind", kind, "--addr", "127.0.0.1:0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if _, a, ok := strings.Cut(sc.Text(), " listening on "); ok {
				addr <- a
			}
		}
		close(addr)
	}()
	select {
	case a, ok := <-addr:
		if !ok {
			t.Fatal("the peer exited before listening")
		}
		return "http://" + a
	case <-time.After(10 * time.Second):
		t.Fatal("the peer did not say where it listens")
	}
	return ""
}

// TestCentrifugePeer runs `rtd bench --protocol centrifuge` against the
// centrifuge peer (github.com/centrifugal/centrifuge): a second of fan-out
// over WebSocket and SSE, and a recovery, with nothing lost or duplicated.
func TestCentrifugePeer(t *testing.T) {
	t0 := time.Now()
	url := startPeer(t, "centrifuge")
	t.Logf("peer built and started in %s", time.Since(t0).Round(time.Millisecond))
	t1 := time.Now()
	defer func() { t.Logf("the runs took %s", time.Since(t1).Round(time.Millisecond)) }()
	for _, args := range [][]string{
		{"fanout", "--transport", "both", "--conns", "100", "--channels", "2", "--rate", "200", "--duration", "1s"},
		{"recover", "--conns", "100", "--channels", "2", "--recover-pubs", "30"},
	} {
		out := filepath.Join(t.TempDir(), "r.json")
		var stdout, stderr bytes.Buffer
		args = append(args, "--protocol", "centrifuge", "--url", url, "--json", out)
		if code := Main(args, &stdout, &stderr); code != 0 {
			t.Fatalf("rtd bench %s: exit %d\n%s%s", strings.Join(args, " "), code, stdout.String(), stderr.String())
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		var r Result
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatal(err)
		}
		if r.Ready != 100 || r.Delivered == 0 || r.Delivered != r.Expected || r.Lost != 0 || r.Duplicated != 0 || r.Stray != 0 {
			t.Fatalf("rtd bench %s:\n%s", args[0], stdout.String())
		}
		if args[0] == ScenarioRecover && (r.Recovered != 100 || len(r.Errors) > 0) {
			t.Fatalf("rtd bench recover:\n%s", stdout.String())
		}
	}
}
