package bench

import (
	"bytes"
	"errors"
	"testing"
)

// serverFrameBytes builds an unmasked frame as a server sends it.
func serverFrameBytes(fin bool, op byte, payload []byte) []byte {
	var b []byte
	b0 := op
	if fin {
		b0 |= 0x80
	}
	b = append(b, b0)
	switch n := len(payload); {
	case n < 126:
		b = append(b, byte(n))
	case n <= 0xFFFF:
		b = append(b, 126, byte(n>>8), byte(n))
	default:
		b = append(b, 127, 0, 0, 0, 0, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(b, payload...)
}

func TestParseServerFrameSplitAnywhere(t *testing.T) {
	for _, size := range []int{0, 1, 125, 126, 65535, 65536, 70000} {
		payload := bytes.Repeat([]byte{'a' + byte(size%26)}, size)
		wire := serverFrameBytes(true, opText, payload)
		for cut := 0; cut < len(wire); cut += max(1, len(wire)/50) {
			var f serverFrame
			n, err := parseServerFrame(wire[:cut], maxMessageBytes, &f)
			if err != nil || n != 0 {
				t.Fatalf("size %d, %d of %d bytes: n=%d err=%v, want need-more", size, cut, len(wire), n, err)
			}
		}
		var f serverFrame
		n, err := parseServerFrame(append(wire, 0x81), maxMessageBytes, &f)
		if err != nil || n != len(wire) || !f.fin || f.op != opText || !bytes.Equal(f.payload, payload) {
			t.Fatalf("size %d: n=%d err=%v fin=%v op=%d len=%d", size, n, err, f.fin, f.op, len(f.payload))
		}
	}
}

func TestParseServerFrameRejects(t *testing.T) {
	for name, wire := range map[string][]byte{
		"masked":            {0x81, 0x81, 1, 2, 3, 4, 'x'},
		"rsv1":              {0xC1, 0x01, 'x'},
		"reserved opcode":   {0x83, 0x00},
		"fragmented ping":   {0x09, 0x00},
		"long control":      append([]byte{0x89, 126, 0, 126}, make([]byte, 126)...),
		"larger than limit": {0x82, 127, 0, 0, 0, 1, 0, 0, 0, 0},
	} {
		var f serverFrame
		if _, err := parseServerFrame(wire, maxMessageBytes, &f); !errors.Is(err, ErrBadFrame) {
			t.Errorf("%s: err %v, want ErrBadFrame", name, err)
		}
	}
}

func TestClientFrameIsMaskedRFC6455(t *testing.T) {
	// Unmask by hand with the key after the header; the echo test runs these
	// frames through gorilla's server too.
	payload := bytes.Repeat([]byte("hello, world "), 20)
	mask := [4]byte{1, 2, 3, 4}
	wire := appendClientFrame(nil, opBinary, payload, mask)
	if wire[0] != 0x80|opBinary || wire[1] != 0x80|126 || int(wire[2])<<8|int(wire[3]) != len(payload) {
		t.Fatalf("header % x", wire[:4])
	}
	if !bytes.Equal(wire[4:8], mask[:]) {
		t.Fatalf("mask % x", wire[4:8])
	}
	body := append([]byte(nil), wire[8:]...)
	for i := range body {
		body[i] ^= mask[i&3]
	}
	if !bytes.Equal(body, payload) {
		t.Fatal("payload does not unmask to the original")
	}
}

func TestChunkDecoderSplitAnywhere(t *testing.T) {
	wire := []byte("5\r\nhello\r\n1;ext=1\r\n \r\n10\r\n0123456789abcdef\r\n0\r\n\r\n")
	want := "hello 0123456789abcdef"
	for cut := 0; cut <= len(wire); cut++ {
		var d chunkDecoder
		var got []byte
		emit := func(p []byte) { got = append(got, p...) }
		n, err := d.feed(wire[:cut], emit)
		if err != nil && cut < len(wire)-2 {
			t.Fatalf("cut %d: %v", cut, err)
		}
		rest := append(append([]byte(nil), wire[n:cut]...), wire[cut:]...)
		if err == nil {
			_, err = d.feed(rest, emit)
		}
		if !errors.Is(err, ErrClosedByServer) || string(got) != want {
			t.Fatalf("cut %d: got %q, err %v", cut, got, err)
		}
	}
	var d chunkDecoder
	if _, err := d.feed([]byte("zz\r\n"), func([]byte) {}); !errors.Is(err, ErrBadChunk) {
		t.Fatalf("bad size: %v", err)
	}
	d = chunkDecoder{}
	if _, err := d.feed([]byte("2\r\nabXY"), func([]byte) {}); !errors.Is(err, ErrBadChunk) {
		t.Fatalf("missing CRLF after data: %v", err)
	}
}

func TestParseResponseHead(t *testing.T) {
	resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nsec-websocket-accept:  " + wsAccept + "\r\n\r\n\x81\x00"
	var h responseHead
	for cut := 0; cut < len(resp)-2; cut++ {
		if n, err := parseResponseHead([]byte(resp[:cut]), &h); n != 0 || err != nil {
			t.Fatalf("cut %d: n=%d err=%v", cut, n, err)
		}
	}
	n, err := parseResponseHead([]byte(resp), &h)
	if err != nil || n != len(resp)-2 || h.status != 101 || string(h.accept) != wsAccept || h.chunked {
		t.Fatalf("n=%d err=%v head=%+v", n, err, h)
	}
	n, err = parseResponseHead([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"), &h)
	if err != nil || n == 0 || h.status != 200 || !h.chunked {
		t.Fatalf("chunked: n=%d err=%v head=%+v", n, err, h)
	}
	if _, err := parseResponseHead([]byte("SSH-2.0-OpenSSH\r\n\r\n"), &h); !errors.Is(err, ErrBadResponse) {
		t.Fatalf("not HTTP: %v", err)
	}
}
