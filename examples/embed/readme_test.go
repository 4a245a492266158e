package main

import (
	"os"
	"strings"
	"testing"
)

// TestREADMEShowsTheProgram: the README's embedding section shows main.go
// and example_test.go as they are, so the program a reader copies compiles
// (go build ./... builds it) and its test passes.
func TestREADMEShowsTheProgram(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var blocks []string
	rest := string(readme)
	for {
		_, after, ok := strings.Cut(rest, "```go\n")
		if !ok {
			break
		}
		block, after, _ := strings.Cut(after, "```\n")
		blocks = append(blocks, block)
		rest = after
	}
	for _, file := range []string{"main.go", "example_test.go"} {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, b := range blocks {
			found = found || b == string(src)
		}
		if !found {
			t.Errorf("README.md has no go block that is %s verbatim", file)
		}
	}
}
