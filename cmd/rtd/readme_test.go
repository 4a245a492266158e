package main

import (
	"bufio"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// readmeBlock returns the first ```sh block after heading in README.md.
func readmeBlock(t *testing.T, heading string) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "\n"+heading+"\n")
	if !ok {
		t.Fatalf("README has no %q", heading)
	}
	_, rest, ok = strings.Cut(rest, "```sh\n")
	block, _, ok2 := strings.Cut(rest, "\n```")
	if !ok || !ok2 {
		t.Fatalf("no sh block under %q", heading)
	}
	return block
}

// TestReadmeTour runs the README's 30-second tour as written (make run,
// curl) in a network namespace of its own, where :8080 is free: the
// publish must answer with the position, and the SSE subscriber must print
// the event with that id. Pasted, the tour used to publish before rtd
// listened and before the subscriber was subscribed.
func TestReadmeTour(t *testing.T) {
	if testing.Short() {
		t.Skip("builds rtd with make")
	}
	if err := exec.Command("unshare", "-rn", "true").Run(); err != nil {
		t.Skipf("no unprivileged network namespace (unshare -rn): %v", err)
	}
	tour := readmeBlock(t, "## A 30-second tour")
	cmd := exec.Command("unshare", "-rn", "bash", "-c", "ip link set lo up || exit 1\n"+tour)
	cmd.Dir = "../.."
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// The tour leaves make run and the subscriber in the background:
		// end the process group this test started.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		_ = cmd.Wait()
	})
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	published := regexp.MustCompile(`^\{"channel":"news","offset":1,"epoch":"([0-9a-f]{8})"\}$`)
	var epoch, id string
	var seen []string
	data := false
	deadline := time.After(5 * time.Minute) // make run may have to build
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("the tour ended without the event:\n%s", strings.Join(seen, "\n"))
			}
			seen = append(seen, line)
			if m := published.FindStringSubmatch(line); m != nil {
				epoch = m[1]
			}
			if v, ok := strings.CutPrefix(line, "id: "); ok {
				id = v
			}
			if line == `data: {"hello":"world"}` {
				data = true
			}
			// The publish's answer and the subscriber's event come in
			// either order.
			if data && epoch != "" {
				if id != epoch+":1" {
					t.Fatalf("publish answered epoch %q, the event's id is %q:\n%s", epoch, id, strings.Join(seen, "\n"))
				}
				return
			}
		case <-deadline:
			t.Fatalf("no event after 5 minutes:\n%s", strings.Join(seen, "\n"))
		}
	}
}
