package nodeclient_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/rtd-project/rtd/internal/nodeclient"
)

// A short-lived client: echo two messages through a WebSocket server, then read what the
// npm ws client saw.
func ExampleRun() {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	raw, err := nodeclient.Run(ctx, "ws-client.mjs", "ws://127.0.0.1:8080/ws", "--send", "a", "b")
	if err != nil {
		log.Fatal(err)
	}
	lines, err := nodeclient.ParseLines(raw)
	if err != nil {
		log.Fatal(err)
	}
	for _, l := range lines {
		fmt.Println(l.Type, l.Data, l.Code)
	}
}

// A long-running client: read each event as the EventSource receives it, e.g. to publish
// the next message only after the previous one arrived.
func ExampleStart() {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	p, err := nodeclient.Start(ctx, "sse-client.mjs", "http://127.0.0.1:8080/sse?channel=news", "--count", "3")
	if err != nil {
		log.Fatal(err)
	}
	defer p.Stop()
	for {
		line, err := p.Next(ctx)
		if err != nil {
			break // io.EOF once the client has exited
		}
		fmt.Println(line)
	}
	if err := p.Wait(); err != nil {
		log.Fatal(err)
	}
}

// The browser tests need Debian's Chromium; a missing one is an error, not a skip.
func ExampleChromium() {
	path, err := nodeclient.Chromium()
	if err != nil {
		log.Fatal(err) // nodeclient: /usr/bin/chromium is missing: run `make test-deps` ...
	}
	fmt.Println(path)
}
