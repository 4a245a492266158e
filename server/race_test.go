//go:build race

package server

// raceEnabled: under the race detector sync.Pool drops items on purpose.
const raceEnabled = true
