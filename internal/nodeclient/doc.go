// Package nodeclient runs the real non-Go clients in test/node (npm ws, npm eventsource,
// and headless Chromium through playwright-core) from Go tests, so that rtd's server is
// checked against the clients its users run, not only against its own codec.
//
// It is a test helper with no production use. Every client script prints one JSON line
// per event on stdout and ends by itself within its --timeout; Run collects the lines of a
// script that runs to its end, Start streams them from a long-running one. `make
// test-deps` (scripts/test-deps.sh) installs node_modules and Chromium.
package nodeclient
