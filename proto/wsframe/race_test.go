//go:build race

package wsframe

// raceEnabled: under the race detector sync.Pool drops items on purpose, so
// pooled paths allocate and their AllocsPerRun checks are skipped.
const raceEnabled = true
