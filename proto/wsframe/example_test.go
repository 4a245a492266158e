package wsframe_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/gobwas/ws"
	"github.com/rtd-project/rtd/proto/wsframe"
)

// request is a stand-in for rtd's http1.Request.
type request map[string]string

func (r request) Header(name string) []byte {
	for k, v := range r {
		if strings.EqualFold(k, name) {
			return []byte(v)
		}
	}
	return nil
}

func ExampleCheckUpgrade() {
	req := request{
		"Upgrade":                  "websocket",
		"Connection":               "Upgrade",
		"Sec-WebSocket-Key":        "dGhlIHNhbXBsZSBub25jZQ==",
		"Sec-WebSocket-Version":    "13",
		"Sec-WebSocket-Protocol":   "chat, rtd.v1",
		"Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits",
	}
	o := &wsframe.UpgradeOptions{Protocols: []string{"rtd.v1"}, Compression: true}
	u, err := wsframe.CheckUpgrade([]byte("GET"), 1, 1, req, o)
	if err != nil {
		fmt.Printf("%s", wsframe.AppendHandshakeRejection(nil, err))
		return
	}
	resp := wsframe.AppendUpgradeResponse(nil, req.Header("Sec-WebSocket-Key"), &u)
	fmt.Printf("%s", bytes.ReplaceAll(resp, []byte("\r\n"), []byte("\n")))
	// Output:
	// HTTP/1.1 101 Switching Protocols
	// Upgrade: websocket
	// Connection: Upgrade
	// Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=
	// Sec-WebSocket-Protocol: rtd.v1
	// Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover
}

func ExampleAppendHandshakeRejection() {
	req := request{"Upgrade": "websocket", "Connection": "Upgrade",
		"Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version": "8"}
	_, err := wsframe.CheckUpgrade([]byte("GET"), 1, 1, req, nil)
	fmt.Printf("%s", bytes.ReplaceAll(wsframe.AppendHandshakeRejection(nil, err), []byte("\r\n"), []byte("\n")))
	// Output:
	// HTTP/1.1 426 Upgrade Required
	// Connection: close
	// Content-Type: text/plain; charset=utf-8
	// Content-Length: 34
	// Upgrade: websocket
	// Sec-WebSocket-Version: 13
	//
	// unsupported Sec-WebSocket-Version
}

func ExampleAppendAcceptKey() {
	fmt.Printf("%s\n", wsframe.AppendAcceptKey(nil, []byte("dGhlIHNhbXBsZSBub25jZQ==")))
	// Output: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=
}

// maskedText is what a client sends: a masked text frame.
func maskedText(s string) []byte {
	mask := [4]byte{1, 2, 3, 4}
	var b bytes.Buffer
	ws.WriteHeader(&b, ws.Header{Fin: true, OpCode: ws.OpText, Masked: true, Mask: mask, Length: int64(len(s))})
	p := []byte(s)
	ws.Cipher(p, mask, 0)
	b.Write(p)
	return b.Bytes()
}

// The loop a server runs in OnTraffic: Next until it needs more bytes,
// handling each event before discarding its bytes.
func ExampleReader_Next() {
	var r wsframe.Reader
	r.Init(wsframe.ReaderOptions{MaxMessageBytes: 1 << 20})
	defer r.Release()

	received := append(maskedText("hello"), maskedText("world")[:4]...) // the second frame is incomplete
	for {
		n, ev, err := r.Next(received)
		var ce *wsframe.CloseError
		if errors.As(err, &ce) {
			fmt.Printf("send close %d and close\n", ce.Code)
			return
		}
		if n == 0 {
			fmt.Println("need more bytes")
			break
		}
		if ev.Kind == wsframe.Text {
			fmt.Printf("text %q\n", ev.Payload)
		}
		received = received[n:] // c.Discard(n)
	}
	// Output:
	// text "hello"
	// need more bytes
}

func ExampleAppendClose() {
	frame := wsframe.AppendClose(nil, ws.StatusCode(1013), "try again later")
	fmt.Printf("% x\n", frame[:4])
	// Output: 88 11 03 f5
}

func ExampleAppendFrame() {
	fmt.Printf("% x\n", wsframe.AppendFrame(nil, ws.OpText, []byte("hi")))
	// Output: 81 02 68 69
}

func ExampleAppendFrameHeader() {
	// A header for a message sent in two frames: the first carries RSV1
	// because the message is compressed.
	fmt.Printf("% x\n", wsframe.AppendFrameHeader(nil, false, ws.OpBinary, true, 300))
	fmt.Printf("% x\n", wsframe.AppendFrameHeader(nil, true, ws.OpContinuation, false, 20))
	// Output:
	// 42 7e 01 2c
	// 80 14
}

func ExampleCompress() {
	payload := []byte(strings.Repeat(`{"price":1.0842}`, 64))
	compressed := wsframe.Compress(nil, payload)
	frame := wsframe.AppendFrameHeader(nil, true, ws.OpText, true, len(compressed))
	frame = append(frame, compressed...)
	fmt.Println(len(payload), "bytes sent as a", len(frame), "byte frame")
	// Output: 1024 bytes sent as a 47 byte frame
}

func ExampleNewPrepared() {
	p := wsframe.NewPrepared(ws.OpText, []byte(strings.Repeat("news ", 200)))
	for _, deflate := range []bool{false, true} { // one connection of each kind
		frame := p.Frame()
		if deflate {
			frame = p.DeflateFrame() // compressed once, shared by every deflate connection
		}
		fmt.Println(deflate, len(frame))
	}
	// Output:
	// false 1004
	// true 32
}
