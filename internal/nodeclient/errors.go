package nodeclient

import "errors"

var (
	// ErrNoNode means no node executable is on PATH.
	ErrNoNode = errors.New("nodeclient: node not found on PATH (Node.js >= 20 is needed)")

	// ErrNoModules means test/node/node_modules is missing.
	ErrNoModules = errors.New("nodeclient: test/node/node_modules is missing: run `make test-deps`")

	// ErrNoChromium means /usr/bin/chromium is missing.
	ErrNoChromium = errors.New("nodeclient: /usr/bin/chromium is missing: run `make test-deps` (apt-get install chromium)")

	// ErrNoModuleRoot means the rtd module root (go.mod) could not be found.
	ErrNoModuleRoot = errors.New("nodeclient: cannot find the module root (go.mod)")
)
