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

// runBlock runs a README block as written (bash, from the repository's
// top) in a network namespace of its own, where :8080 is free, and feeds
// each line it prints to done until done says the block did what the
// README says (or fails the test after 5 minutes: make may have to build).
// The process group is ended at cleanup: blocks leave rtd and subscribers
// in the background.
func runBlock(t *testing.T, block string, done func(line string) bool) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds rtd with make")
	}
	if err := exec.Command("unshare", "-rn", "true").Run(); err != nil {
		t.Skipf("no unprivileged network namespace (unshare -rn): %v", err)
	}
	cmd := exec.Command("unshare", "-rn", "bash", "-c", "ip link set lo up || exit 1\n"+block)
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
	var seen []string
	deadline := time.After(5 * time.Minute)
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("the block ended before doing what the README says:\n%s", strings.Join(seen, "\n"))
			}
			seen = append(seen, line)
			if done(line) {
				return
			}
		case <-deadline:
			t.Fatalf("not done after 5 minutes:\n%s", strings.Join(seen, "\n"))
		}
	}
}

// TestReadmeTour runs the README's 30-second tour as written (make run,
// curl): the publish must answer with the position, and the SSE subscriber
// must print the event with that id. Pasted, the tour used to publish
// before rtd listened and before the subscriber was subscribed.
func TestReadmeTour(t *testing.T) {
	// Matched at the ends of lines: the commands share one output, and
	// curl's progress meter (printed when its output is not a terminal, as
	// here) leaves a line unfinished for the next command's output.
	published := regexp.MustCompile(`\{"channel":"news","offset":1,"epoch":"([0-9a-f]{8})"\}$`)
	eventID := regexp.MustCompile(`(?:^|[^a-z])id: (\S+)$`)
	var epoch, id string
	var seen []string
	data := false
	runBlock(t, readmeBlock(t, "## A 30-second tour"), func(line string) bool {
		seen = append(seen, line)
		if m := published.FindStringSubmatch(line); m != nil {
			epoch = m[1]
		}
		if m := eventID.FindStringSubmatch(line); m != nil {
			id = m[1]
		}
		data = data || strings.HasSuffix(line, `data: {"hello":"world"}`)
		// The publish's answer and the event come in either order.
		if data && epoch != "" {
			if id != epoch+":1" {
				t.Errorf("publish answered epoch %q, the event's id is %q; the block printed:\n%s", epoch, id, strings.Join(seen, "\n"))
			}
			return true
		}
		return false
	})
}

// TestReadmeAuth runs the README's Auth block as written: a token from
// rtd token, checked, opening an SSE stream (Authorization: Bearer) that
// receives a publication, and a 403 that names the channel and the reason.
func TestReadmeAuth(t *testing.T) {
	// Matched at the ends of lines, as in TestReadmeTour.
	want := map[string]*regexp.Regexp{
		"check":   regexp.MustCompile(`valid: user "alice", expires `),
		"publish": regexp.MustCompile(`\{"channel":"chat:1","offset":1,"epoch":"[0-9a-f]{8}"\}$`),
		"event":   regexp.MustCompile(`data: "hi alice"$`),
		"refusal": regexp.MustCompile(`\{"error":"subscribe not permitted","channel":"secret","reason":"channel not in token"\}$`),
	}
	runBlock(t, readmeBlock(t, "## Auth"), func(line string) bool {
		for k, re := range want {
			if re.MatchString(line) {
				delete(want, k)
			}
		}
		return len(want) == 0
	})
}
