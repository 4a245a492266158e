package http1_test

import (
	"fmt"

	"github.com/rtd-project/rtd/proto/http1"
)

// Parse is called on whatever has arrived; a request split across reads needs no state of its
// own, and pipelined requests are taken one at a time.
func ExampleParse() {
	received := []byte("GET /chat?room=lobby HTTP/1.1\r\nHost: example.com\r\nConnection: Upgrade\r\n" +
		"Upgrade: websocket\r\n\r\nPOST /publish HTTP/1.1\r\nHost: example.com\r\nContent-Length: 5\r\n\r\nhel")

	var req http1.Request
	var room []byte
	for {
		n, err := http1.Parse(received, &req, nil)
		if err == http1.ErrNeedMore {
			fmt.Printf("need more; head of %d bytes already parsed\n", req.HeadLen)
			break
		}
		if err != nil {
			fmt.Println("answer", http1.StatusOf(err), "and close")
			break
		}
		room, _ = req.Query("room", room[:0])
		fmt.Printf("%s %s room=%q upgrade=%v keep-alive=%v\n",
			req.Method, req.Path, room, req.HasToken("Upgrade", "websocket"), req.KeepAlive)
		received = received[n:] // with gnet: c.Discard(n)
	}
	// Output:
	// GET /chat room="lobby" upgrade=true keep-alive=true
	// need more; head of 64 bytes already parsed
}

// Parse errors carry the status to answer with.
func ExampleStatusOf() {
	var req http1.Request
	_, err := http1.Parse([]byte("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"), &req, nil)
	fmt.Println(http1.StatusOf(err), err)
	// Output: 400 http1: ambiguous message length
}

func ExampleAppendResponse() {
	out := http1.AppendResponse(nil, 404, "text/plain; charset=utf-8", []byte("no such channel\n"), false)
	fmt.Printf("%q\n", out[:len("HTTP/1.1 404 Not Found\r\n")])
	fmt.Printf("%q\n", out[len("HTTP/1.1 404 Not Found\r\nDate: Mon, 02 Jan 2006 15:04:05 GMT\r\n"):])
	// Output:
	// "HTTP/1.1 404 Not Found\r\n"
	// "Content-Type: text/plain; charset=utf-8\r\nContent-Length: 16\r\nConnection: close\r\n\r\nno such channel\n"
}
