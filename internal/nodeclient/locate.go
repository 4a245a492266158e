package nodeclient

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// ChromiumPath is where Debian's chromium package installs the browser, the one
// browser.mjs launches.
const ChromiumPath = "/usr/bin/chromium"

// Node returns the path of the node executable.
func Node() (string, error) {
	path, err := exec.LookPath("node")
	if err != nil {
		return "", ErrNoNode
	}
	return path, nil
}

// Chromium returns ChromiumPath if it is an executable file, else ErrNoChromium (so the
// caller decides whether a missing browser fails or skips a test).
func Chromium() (string, error) {
	info, err := os.Stat(ChromiumPath)
	if err != nil || info.IsDir() || info.Mode()&0o111 == 0 {
		return "", ErrNoChromium
	}
	return ChromiumPath, nil
}

// ModuleRoot returns the directory holding rtd's go.mod: found by walking up from the
// working directory (a test's package directory), else by asking `go env GOMOD`.
func ModuleRoot() (string, error) {
	if dir, err := os.Getwd(); err == nil {
		for {
			if isRTDModule(filepath.Join(dir, "go.mod")) {
				return dir, nil
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if gomod := strings.TrimSpace(string(out)); err == nil && isRTDModule(gomod) {
		return filepath.Dir(gomod), nil
	}
	return "", ErrNoModuleRoot
}

// isRTDModule reports whether path is a go.mod whose directory has test/node, which tells
// the rtd root from a nested module such as bench's.
func isRTDModule(path string) bool {
	if _, err := os.Stat(path); err != nil {
		return false
	}
	info, err := os.Stat(filepath.Join(filepath.Dir(path), "test", "node", "package.json"))
	return err == nil && !info.IsDir()
}

// Dir returns the absolute path of test/node, after checking that its node_modules is
// installed.
func Dir() (string, error) {
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(root, "test", "node")
	if info, err := os.Stat(filepath.Join(dir, "node_modules")); err != nil || !info.IsDir() {
		return "", fmt.Errorf("%w (looked in %s)", ErrNoModules, dir)
	}
	return dir, nil
}
