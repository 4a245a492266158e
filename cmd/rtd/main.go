// Command rtd is the realtime fan-out daemon: `rtd serve`, `rtd bench`, `rtd version`.
package main

import (
	"fmt"
	"os"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	if len(os.Args) > 1 && os.Args[1] == "version" {
		fmt.Println("rtd", version)
		return
	}
	fmt.Fprintln(os.Stderr, "usage: rtd serve|version")
	os.Exit(2)
}
