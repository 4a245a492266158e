package nodeclient

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// maxLineBytes bounds one output line; browser.mjs prints a page's whole results at once.
const maxLineBytes = 16 << 20

// stderrKeep is how much of a script's stderr is kept for error messages.
const stderrKeep = 8 << 10

// Run runs test/node/script with args until it exits or ctx ends, and returns the lines
// it printed. A script that fails (non-zero exit, or killed when ctx ended) returns the
// lines printed so far and an error that quotes the end of its stderr.
func Run(ctx context.Context, script string, args ...string) ([]string, error) {
	p, err := Start(ctx, script, args...)
	if err != nil {
		return nil, err
	}
	var lines []string
	for {
		line, err := p.Next(context.Background()) // ctx kills the process, which ends the lines
		if err == io.EOF {
			break
		}
		lines = append(lines, line)
	}
	return lines, p.Wait()
}

// Process is a running client script whose output lines are read as they come.
type Process struct {
	script string
	cmd    *exec.Cmd
	lines  chan string
	stop   chan struct{}
	done   chan struct{} // closed once the process has exited and been waited for
	stderr tailWriter

	stopOnce sync.Once
	waitErr  error
}

// Start starts test/node/script with args. The process is signalled when ctx ends (SIGTERM
// to its process group, so playwright closes Chromium; SIGKILL 3 s later). Read its lines
// with Next, then call Wait, or Stop to end it early.
func Start(ctx context.Context, script string, args ...string) (*Process, error) {
	node, err := Node()
	if err != nil {
		return nil, err
	}
	dir, err := Dir()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, node, append([]string{filepath.Join(dir, script)}, args...)...)
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = 3 * time.Second
	p := &Process{
		script: script,
		cmd:    cmd,
		lines:  make(chan string),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
		stderr: tailWriter{keep: stderrKeep},
	}
	cmd.Stderr = &p.stderr
	// An io.Pipe rather than StdoutPipe: exec copies into it, so WaitDelay also bounds a
	// grandchild that keeps the script's stdout open.
	stdout, stdoutW := io.Pipe()
	cmd.Stdout = stdoutW
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("nodeclient: start %s: %w", script, err)
	}
	exited := make(chan struct{})
	go func() {
		p.waitErr = cmd.Wait()
		stdoutW.Close()
		close(exited)
	}()
	go p.pump(stdout, exited)
	return p, nil
}

// pump forwards stdout lines until EOF and waits for the process to be reaped. After Stop
// it keeps reading, without forwarding, so the script never blocks on a full pipe.
func (p *Process) pump(stdout io.Reader, exited <-chan struct{}) {
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 0, 64<<10), maxLineBytes)
	forward := true
	for sc.Scan() {
		if !forward {
			continue
		}
		select {
		case p.lines <- sc.Text():
		case <-p.stop:
			forward = false
		}
	}
	if !forward || sc.Err() != nil {
		_, _ = io.Copy(io.Discard, stdout)
	}
	close(p.lines)
	<-exited
	if err := sc.Err(); err != nil && p.waitErr == nil {
		p.waitErr = err
	}
	close(p.done)
}

// Next returns the next line the script printed, io.EOF once its output has ended, or
// ctx's error if ctx ends first.
func (p *Process) Next(ctx context.Context) (string, error) {
	select {
	case line, ok := <-p.lines:
		if !ok {
			return "", io.EOF
		}
		return line, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// Wait waits for the script to exit (its unread lines are dropped) and returns an error
// quoting its stderr if it failed.
func (p *Process) Wait() error {
	p.stopOnce.Do(func() { close(p.stop) })
	<-p.done
	if p.waitErr != nil {
		return fmt.Errorf("nodeclient: %s: %w; stderr:\n%s", p.script, p.waitErr, p.stderr.String())
	}
	return nil
}

// Stop ends the script now (SIGKILL to its process group) unless it has already exited,
// and waits for it. It is safe to call more than once and after Wait.
func (p *Process) Stop() {
	p.stopOnce.Do(func() { close(p.stop) })
	select {
	case <-p.done:
		return
	default:
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
}

// tailWriter keeps the last keep bytes written to it.
type tailWriter struct {
	mu   sync.Mutex
	keep int
	buf  []byte
}

func (w *tailWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, b...)
	if over := len(w.buf) - w.keep; over > 0 {
		w.buf = append(w.buf[:0], w.buf[over:]...)
	}
	return len(b), nil
}

func (w *tailWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(w.buf)
}

// Line is one JSON line printed by ws-client.mjs or sse-client.mjs; the fields a line's
// Type does not use stay zero.
type Line struct {
	Type       string `json:"type"` // open, message, close, event, error, timeout
	Protocol   string `json:"protocol"`
	Extensions string `json:"extensions"`
	Binary     bool   `json:"binary"`
	Data       string `json:"data"` // text, or lowercase hex when Binary
	Code       int    `json:"code"`
	Reason     string `json:"reason"`
	Event      string `json:"event"`
	ID         string `json:"id"`
	Message    string `json:"message"`
}

// ParseLines decodes the JSON lines of a client script.
func ParseLines(lines []string) ([]Line, error) {
	out := make([]Line, 0, len(lines))
	for _, s := range lines {
		var l Line
		if err := json.NewDecoder(strings.NewReader(s)).Decode(&l); err != nil {
			return out, fmt.Errorf("nodeclient: bad output line %q: %w", s, err)
		}
		out = append(out, l)
	}
	return out, nil
}
