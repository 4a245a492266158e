package wsframe

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/gobwas/ws"
)

var testMask = [4]byte{0x37, 0xfa, 0x21, 0x3d}

// clientFrame encodes a masked client frame with gobwas/ws's own header
// writer, so the reader is checked against an independent encoder.
func clientFrame(fin bool, rsv byte, op ws.OpCode, payload []byte) []byte {
	var b bytes.Buffer
	h := ws.Header{Fin: fin, Rsv: rsv, OpCode: op, Masked: true, Mask: testMask, Length: int64(len(payload))}
	if err := ws.WriteHeader(&b, h); err != nil {
		panic(err)
	}
	p := bytes.Clone(payload)
	ws.Cipher(p, testMask, 0)
	b.Write(p)
	return b.Bytes()
}

func text(p string) []byte { return clientFrame(true, 0, ws.OpText, []byte(p)) }

const rsv1 = 0x4 // ws.Header.Rsv bit of RSV1

// deflateRaw compresses with compress/flate (not with Compress) and strips the
// sync-flush tail as RFC 7692 §7.2.1 says.
func deflateRaw(t testing.TB, p []byte, level int) []byte {
	var b bytes.Buffer
	w, err := flate.NewWriter(&b, level)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(p)
	w.Flush()
	out := b.Bytes()
	if !bytes.HasSuffix(out, syncFlushTail[:]) {
		t.Fatalf("flush output %x lacks the sync tail", out)
	}
	return out[:len(out)-4]
}

func closePayload(code uint16, reason string) []byte {
	return append([]byte{byte(code >> 8), byte(code)}, reason...)
}

// record is an Event copied out of the reader's buffers.
type record struct {
	Kind    EventKind
	Payload string
	Code    ws.StatusCode
	Reason  string
}

func (r record) String() string {
	return fmt.Sprintf("{%d %q %d %q}", r.Kind, r.Payload, r.Code, r.Reason)
}

// drive feeds chunks the way the server does with gnet: bytes not consumed
// stay at the front of the pending buffer, Next is called until it returns
// n == 0. It returns the events and the first error, and fails the test when
// bytes are left over or Next breaks its contract.
func drive(t testing.TB, r *Reader, chunks ...[]byte) ([]record, error) {
	t.Helper()
	out, rest, err := feed(t, r, chunks...)
	if err == nil && rest != 0 {
		t.Fatalf("%d bytes left unconsumed", rest)
	}
	return out, err
}

// feed is drive without the leftover check: it also returns how many bytes
// were not consumed.
func feed(t testing.TB, r *Reader, chunks ...[]byte) (out []record, rest int, err error) {
	t.Helper()
	// Next only changes the frames it consumes, so the unconsumed bytes must
	// always equal the pristine input at the same offset.
	pristine := bytes.Join(chunks, nil)
	var pending []byte
	consumed := 0
	for _, c := range chunks {
		pending = append(pending, c...)
		for {
			n, ev, err := r.Next(pending)
			if err != nil {
				return out, len(pending), err // buf may be unmasked: the connection is failed
			}
			if n < 0 || n > len(pending) {
				t.Fatalf("Next returned n=%d for %d bytes", n, len(pending))
			}
			if n == 0 {
				if ev.Kind != None {
					t.Fatalf("n == 0 with event %v", ev.Kind)
				}
				if !bytes.Equal(pending, pristine[consumed:consumed+len(pending)]) {
					t.Fatalf("Next changed buf without consuming it")
				}
				break
			}
			if ev.Kind != None {
				out = append(out, record{ev.Kind, string(ev.Payload), ev.Code, string(ev.Reason)})
			}
			pending = pending[n:]
			consumed += n
		}
	}
	return out, len(pending), nil
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

type validCase struct {
	name   string
	opts   ReaderOptions
	stream []byte
	want   []record
}

func validCases(t testing.TB) []validCase {
	big := bytes.Repeat([]byte("0123456789abcdef"), 66000/16) // > 65535: 64-bit length
	euro := []byte("a€b")                                     // the 3-byte code point is split across fragments below
	json := []byte(strings.Repeat(`{"channel":"news","data":{"id":12345,"text":"hello world"}},`, 40))
	compressedJSON := deflateRaw(t, json, flate.BestCompression)
	return []validCase{
		{name: "text", stream: text("hello"), want: []record{{Kind: Text, Payload: "hello"}}},
		{name: "empty text", stream: text(""), want: []record{{Kind: Text}}},
		{name: "binary 16-bit length", stream: clientFrame(true, 0, ws.OpBinary, big[:300]),
			want: []record{{Kind: Binary, Payload: string(big[:300])}}},
		{name: "binary 64-bit length", opts: ReaderOptions{MaxMessageBytes: 1 << 20},
			stream: clientFrame(true, 0, ws.OpBinary, big), want: []record{{Kind: Binary, Payload: string(big)}}},
		{name: "ping pong", stream: cat(clientFrame(true, 0, ws.OpPing, []byte("p")), clientFrame(true, 0, ws.OpPong, nil)),
			want: []record{{Kind: Ping, Payload: "p"}, {Kind: Pong}}},
		{name: "fragments with control frames between", stream: cat(
			clientFrame(false, 0, ws.OpText, euro[:2]),
			clientFrame(true, 0, ws.OpPing, []byte("x")),
			clientFrame(false, 0, ws.OpContinuation, euro[2:3]),
			clientFrame(true, 0, ws.OpPong, []byte("y")),
			clientFrame(true, 0, ws.OpContinuation, euro[3:]),
			text("after"),
		), want: []record{{Kind: Ping, Payload: "x"}, {Kind: Pong, Payload: "y"}, {Kind: Text, Payload: "a€b"}, {Kind: Text, Payload: "after"}}},
		{name: "empty fragments", stream: cat(
			clientFrame(false, 0, ws.OpBinary, nil),
			clientFrame(false, 0, ws.OpContinuation, nil),
			clientFrame(true, 0, ws.OpContinuation, []byte{0xff}),
		), want: []record{{Kind: Binary, Payload: "\xff"}}},
		{name: "close with reason", stream: clientFrame(true, 0, ws.OpClose, closePayload(1000, "bye ✓")),
			want: []record{{Kind: Close, Payload: string(closePayload(1000, "bye ✓")), Code: 1000, Reason: "bye ✓"}}},
		{name: "empty close", stream: clientFrame(true, 0, ws.OpClose, nil),
			want: []record{{Kind: Close, Code: ws.StatusNoStatusRcvd}}},
		{name: "compressed", opts: ReaderOptions{Deflate: true},
			stream: clientFrame(true, rsv1, ws.OpText, compressedJSON), want: []record{{Kind: Text, Payload: string(json)}}},
		{name: "compressed fragmented with ping between", opts: ReaderOptions{Deflate: true}, stream: cat(
			clientFrame(false, rsv1, ws.OpText, compressedJSON[:10]),
			clientFrame(true, 0, ws.OpPing, nil),
			clientFrame(true, 0, ws.OpContinuation, compressedJSON[10:]),
			clientFrame(true, 0, ws.OpBinary, []byte("plain")),
		), want: []record{{Kind: Ping}, {Kind: Text, Payload: string(json)}, {Kind: Binary, Payload: "plain"}}},
		{name: "compressed empty", opts: ReaderOptions{Deflate: true},
			stream: clientFrame(true, rsv1, ws.OpBinary, []byte{0x00}), want: []record{{Kind: Binary}}},
	}
}

func TestReaderValidSplitEverywhere(t *testing.T) {
	for _, tc := range validCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			var r Reader
			r.Init(tc.opts)
			got, err := drive(t, &r, bytes.Clone(tc.stream))
			if err != nil {
				t.Fatalf("unsplit: %v", err)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("unsplit:\n got %v\nwant %v", got, tc.want)
			}
			for k := 0; k <= len(tc.stream); k++ {
				if k == 32 && len(tc.stream) > 4000 {
					k = len(tc.stream) - 32 // the big frame: headers and the end only, for speed under -race
				}
				s := bytes.Clone(tc.stream)
				r.Init(tc.opts)
				got, err := drive(t, &r, s[:k], s[k:])
				if err != nil || !slices.Equal(got, tc.want) {
					t.Fatalf("split at %d: got %v, %v", k, got, err)
				}
			}
			r.Release()
		})
	}
}

// Every strict prefix of a frame is "need more": n == 0, no event, no error.
func TestReaderPrefixNeedsMore(t *testing.T) {
	frames := [][]byte{text("hello"), clientFrame(true, 0, ws.OpBinary, make([]byte, 300)),
		clientFrame(true, 0, ws.OpBinary, make([]byte, 70000))}
	for _, f := range frames {
		var r Reader
		r.Init(ReaderOptions{MaxMessageBytes: 1 << 20})
		for k := range len(f) {
			n, ev, err := r.Next(f[:k])
			if n != 0 || ev.Kind != None || err != nil {
				t.Fatalf("prefix %d of %d: n=%d kind=%d err=%v", k, len(f), n, ev.Kind, err)
			}
		}
		if n, ev, err := r.Next(f); n != len(f) || ev.Kind == None || err != nil {
			t.Fatalf("whole frame: n=%d kind=%d err=%v", n, ev.Kind, err)
		}
	}
}

func unmasked(op ws.OpCode, p []byte) []byte {
	var b bytes.Buffer
	ws.WriteHeader(&b, ws.Header{Fin: true, OpCode: op, Length: int64(len(p))})
	b.Write(p)
	return b.Bytes()
}

func TestReaderViolations(t *testing.T) {
	big := bytes.Repeat([]byte("x"), 40000)
	tests := []struct {
		name    string
		deflate bool
		stream  []byte
		want    error
	}{
		{"unmasked text", false, unmasked(ws.OpText, []byte("hi")), ErrUnmasked},
		{"unmasked close", false, unmasked(ws.OpClose, nil), ErrUnmasked},
		{"rsv1 without deflate", false, clientFrame(true, rsv1, ws.OpText, []byte("x")), ErrReservedBits},
		{"rsv2 with deflate", true, clientFrame(true, 0x2, ws.OpText, []byte("x")), ErrReservedBits},
		{"rsv3", false, clientFrame(true, 0x1, ws.OpBinary, nil), ErrReservedBits},
		{"rsv1 on ping with deflate", true, clientFrame(true, rsv1, ws.OpPing, nil), ErrReservedBits},
		{"rsv1 on continuation", true, cat(clientFrame(false, rsv1, ws.OpText, []byte{0}), clientFrame(true, rsv1, ws.OpContinuation, nil)), ErrReservedBits},
		{"opcode 3", false, clientFrame(true, 0, 3, nil), ErrReservedOpCode},
		{"opcode 7", false, clientFrame(true, 0, 7, nil), ErrReservedOpCode},
		{"opcode B", false, clientFrame(true, 0, 0xB, nil), ErrReservedOpCode},
		{"opcode F", false, clientFrame(true, 0, 0xF, nil), ErrReservedOpCode},
		{"ping 126 bytes", false, clientFrame(true, 0, ws.OpPing, make([]byte, 126)), ErrBadControlFrame},
		{"fragmented ping", false, clientFrame(false, 0, ws.OpPing, nil), ErrBadControlFrame},
		{"fragmented close", false, clientFrame(false, 0, ws.OpClose, nil), ErrBadControlFrame},
		{"continuation first", false, clientFrame(true, 0, ws.OpContinuation, []byte("x")), ErrUnexpectedContinuation},
		{"continuation after complete", false, cat(text("a"), clientFrame(true, 0, ws.OpContinuation, nil)), ErrUnexpectedContinuation},
		{"text inside fragmented", false, cat(clientFrame(false, 0, ws.OpText, []byte("a")), text("b")), ErrContinuationExpected},
		{"binary inside fragmented", false, cat(clientFrame(false, 0, ws.OpBinary, nil), clientFrame(false, 0, ws.OpBinary, nil)), ErrContinuationExpected},
		{"64-bit length msb", false, []byte{0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0}, ErrBadLength},
		{"close 1 byte", false, clientFrame(true, 0, ws.OpClose, []byte{3}), ErrBadClosePayload},
		{"close reason not utf-8", false, clientFrame(true, 0, ws.OpClose, closePayload(1000, "\xff")), ErrInvalidUTF8},
		{"text not utf-8", false, text("a\xc3"), ErrInvalidUTF8},
		{"text surrogate", false, text("\xed\xa0\x80"), ErrInvalidUTF8},
		{"text unfinished at end of message", false, cat(
			clientFrame(false, 0, ws.OpText, []byte("\xe2\x82")), clientFrame(true, 0, ws.OpContinuation, nil)), ErrInvalidUTF8},
		{"message over limit across fragments", false, cat(
			clientFrame(false, 0, ws.OpBinary, big), clientFrame(true, 0, ws.OpContinuation, big)), ErrMessageTooBig},
		{"frame over limit", false, clientFrame(true, 0, ws.OpBinary, make([]byte, DefaultMaxMessageBytes+1)), ErrMessageTooBig},
		{"compressed garbage", true, clientFrame(true, rsv1, ws.OpBinary, []byte{0xff, 0xff, 0xff}), ErrBadCompression},
		{"compressed text not utf-8", true, clientFrame(true, rsv1, ws.OpText, deflateRaw(t, []byte("ok\xff"), 1)), ErrInvalidUTF8},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var r Reader
			r.Init(ReaderOptions{Deflate: tc.deflate})
			defer r.Release()
			_, err := drive(t, &r, tc.stream)
			if err != tc.want {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			var ce *CloseError
			if !errors.As(err, &ce) || ce.Code != tc.want.(*CloseError).Code {
				t.Fatalf("error %v is not the *CloseError with code %d", err, tc.want.(*CloseError).Code)
			}
		})
	}
	if !errors.Is(fmt.Errorf("wrapped: %w", ErrUnmasked), ErrUnmasked) {
		t.Fatal("sentinels must work with errors.Is")
	}
}

func TestReaderCloseCodes(t *testing.T) {
	valid := map[uint16]bool{1000: true, 1001: true, 1002: true, 1003: true, 1007: true, 1008: true,
		1009: true, 1010: true, 1011: true, 1012: true, 1013: true, 1014: true, 3000: true, 3999: true,
		4000: true, 4999: true}
	for _, code := range []uint16{0, 1, 999, 1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009,
		1010, 1011, 1012, 1013, 1014, 1015, 1016, 1100, 2000, 2999, 3000, 3999, 4000, 4999, 5000, 65535} {
		var r Reader
		n, ev, err := r.Next(clientFrame(true, 0, ws.OpClose, closePayload(code, "r")))
		if valid[code] {
			if err != nil || n == 0 || ev.Kind != Close || ev.Code != ws.StatusCode(code) || string(ev.Reason) != "r" {
				t.Errorf("code %d: n=%d ev=%+v err=%v, want accepted", code, n, ev, err)
			}
		} else if err != ErrBadCloseCode {
			t.Errorf("code %d: err=%v, want %v", code, err, ErrBadCloseCode)
		}
	}
}

// Autobahn 6.4.x: invalid text fails at the fragment, and at the byte, where
// it appears, not at the end of the message.
func TestReaderUTF8FailFast(t *testing.T) {
	var r Reader
	f1 := clientFrame(false, 0, ws.OpText, []byte("κόσμε"))
	f2 := clientFrame(false, 0, ws.OpContinuation, []byte("\xce\xba\xf4\x90\x80\x80")) // > U+10FFFF
	f3 := clientFrame(true, 0, ws.OpContinuation, []byte("edited"))
	if n, _, err := r.Next(f1); n != len(f1) || err != nil {
		t.Fatalf("fragment 1: n=%d err=%v", n, err)
	}
	if _, _, err := r.Next(cat(f2, f3)); err != ErrInvalidUTF8 {
		t.Fatalf("fragment 2: err=%v, want %v", err, ErrInvalidUTF8)
	}
	r.Release()

	// Within one frame: the invalid byte fails as soon as it has arrived,
	// though the frame is not complete yet.
	f := clientFrame(true, 0, ws.OpText, append([]byte("hello \xc0\xaf"), make([]byte, 1000)...))
	hdr := 2 + 2 + 4
	var ok Reader
	for k := range hdr + 6 {
		if _, _, err := ok.Next(f[:k]); err != nil {
			t.Fatalf("valid prefix %d: %v", k, err)
		}
	}
	if n, _, err := ok.Next(f[:hdr+7]); n != 0 || err != ErrInvalidUTF8 {
		t.Fatalf("prefix with the invalid byte: n=%d err=%v", n, err)
	}
	// A code point cut by the end of the received bytes is not an error yet.
	var cut Reader
	g := clientFrame(true, 0, ws.OpText, []byte("€€€"))
	for k := range len(g) {
		if _, _, err := cut.Next(g[:k]); err != nil {
			t.Fatalf("prefix %d: %v", k, err)
		}
	}
	if _, ev, err := cut.Next(g); err != nil || string(ev.Payload) != "€€€" {
		t.Fatalf("whole: %q %v", ev.Payload, err)
	}
}

// The limit is enforced from the header alone: a 2^40 byte frame fails with
// the first 10 bytes, before its mask or payload.
func TestReaderTooBigFromHeader(t *testing.T) {
	hdr := []byte{0x82, 0xFF, 0, 0, 0x01, 0, 0, 0, 0, 0} // masked binary, length 2^40
	var r Reader
	if n, _, err := r.Next(hdr[:9]); n != 0 || err != nil {
		t.Fatalf("9 bytes: n=%d err=%v, want need more", n, err)
	}
	if _, _, err := r.Next(hdr); err != ErrMessageTooBig {
		t.Fatalf("10 bytes: err=%v, want %v", err, ErrMessageTooBig)
	}
	// The second fragment's header alone pushes the message over the limit.
	r = Reader{}
	r.Init(ReaderOptions{MaxMessageBytes: 100})
	if _, _, err := r.Next(clientFrame(false, 0, ws.OpBinary, make([]byte, 60))); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.Next(clientFrame(true, 0, ws.OpContinuation, make([]byte, 41))[:4]); err != ErrMessageTooBig {
		t.Fatalf("second fragment header: err=%v", err)
	}
	r.Release()
}

func TestReaderDecompressionBomb(t *testing.T) {
	bomb := deflateRaw(t, make([]byte, 1<<20), flate.BestCompression) // 1 MiB of zeros, about 1 KiB compressed
	if len(bomb) > DefaultMaxMessageBytes {
		t.Fatalf("bomb is %d bytes compressed; the header check would catch it", len(bomb))
	}
	var r Reader
	r.Init(ReaderOptions{Deflate: true})
	defer r.Release()
	if _, _, err := r.Next(clientFrame(true, rsv1, ws.OpBinary, bomb)); err != ErrMessageTooBig {
		t.Fatalf("err=%v, want %v", err, ErrMessageTooBig)
	}
	// Exactly at the limit is fine.
	r.Init(ReaderOptions{Deflate: true, MaxMessageBytes: 1000})
	n, ev, err := r.Next(clientFrame(true, rsv1, ws.OpBinary, deflateRaw(t, make([]byte, 1000), 9)))
	if err != nil || n == 0 || len(ev.Payload) != 1000 {
		t.Fatalf("at the limit: n=%d len=%d err=%v", n, len(ev.Payload), err)
	}
	r.Init(ReaderOptions{Deflate: true, MaxMessageBytes: 999})
	if _, _, err := r.Next(clientFrame(true, rsv1, ws.OpBinary, deflateRaw(t, make([]byte, 1000), 9))); err != ErrMessageTooBig {
		t.Fatalf("one over the limit: err=%v", err)
	}
}

// The reader holds no buffer between messages: reassembly and inflate
// buffers go back to the pool at the next call to Next.
func TestReaderIdleHoldsNoBuffer(t *testing.T) {
	var r Reader
	r.Init(ReaderOptions{Deflate: true})
	stream := cat(clientFrame(false, 0, ws.OpBinary, []byte("ab")), clientFrame(true, 0, ws.OpContinuation, []byte("cd")),
		clientFrame(true, rsv1, ws.OpText, deflateRaw(t, []byte("zip"), 1)))
	got, err := drive(t, &r, stream)
	if err != nil || !slices.Equal(got, []record{{Kind: Binary, Payload: "abcd"}, {Kind: Text, Payload: "zip"}}) {
		t.Fatalf("got %v %v", got, err)
	}
	if r.msg != nil || r.done != nil {
		t.Fatalf("idle reader holds buffers: msg=%v done=%v", r.msg != nil, r.done != nil)
	}
	if size := unsafe.Sizeof(r); size > 56 {
		t.Fatalf("Reader is %d bytes, want <= 56", size)
	} else {
		t.Logf("idle Reader: %d bytes, no buffers", size)
	}
}

func TestReaderNextAllocs(t *testing.T) {
	frame := clientFrame(true, 0, ws.OpText, bytes.Repeat([]byte("a"), 125))
	buf := make([]byte, len(frame))
	var r Reader
	allocs := testing.AllocsPerRun(1000, func() {
		copy(buf, frame) // Next unmasks in place
		if n, ev, err := r.Next(buf); n != len(frame) || ev.Kind != Text || err != nil {
			t.Fatalf("n=%d kind=%d err=%v", n, ev.Kind, err)
		}
	})
	if allocs != 0 {
		t.Fatalf("Next allocates %.1f times per frame", allocs)
	}
	// A partial text frame is validated without allocating either.
	allocs = testing.AllocsPerRun(1000, func() {
		r.partialAt = 0
		if n, _, err := r.Next(frame[:100]); n != 0 || err != nil {
			t.Fatalf("n=%d err=%v", n, err)
		}
	})
	if allocs != 0 {
		t.Fatalf("partial Next allocates %.1f times", allocs)
	}
}

// TestReaderIdle: a Reader is idle between messages only — not inside a
// fragmented message, nor while a text frame is partly received.
func TestReaderIdle(t *testing.T) {
	var r Reader
	r.Init(ReaderOptions{})
	if !r.Idle() {
		t.Fatal("a fresh Reader is not idle")
	}
	first := clientFrame(false, 0, ws.OpText, []byte("hel"))
	if n, _, err := r.Next(first); err != nil || n != len(first) || r.Idle() {
		t.Fatalf("after a first fragment: n=%d err=%v idle=%v, want busy", n, err, r.Idle())
	}
	last := clientFrame(true, 0, ws.OpContinuation, []byte("lo"))
	if n, ev, err := r.Next(last); err != nil || n != len(last) || string(ev.Payload) != "hello" || !r.Idle() {
		t.Fatalf("after the last fragment: n=%d %q err=%v idle=%v, want idle", n, ev.Payload, err, r.Idle())
	}
	text := clientFrame(true, 0, ws.OpText, []byte("héllo wörld"))
	if n, _, err := r.Next(text[:len(text)-3]); err != nil || n != 0 || r.Idle() {
		t.Fatalf("with a text frame partly received: n=%d err=%v idle=%v, want busy", n, err, r.Idle())
	}
	if n, _, err := r.Next(text); err != nil || n != len(text) || !r.Idle() {
		t.Fatalf("once the frame is whole: n=%d err=%v idle=%v, want idle", n, err, r.Idle())
	}
}
