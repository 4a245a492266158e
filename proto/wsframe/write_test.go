package wsframe

import (
	"bytes"
	"compress/flate"
	"io"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/gobwas/ws"
)

// readServerFrame decodes a server frame with gobwas/ws, independently of
// this package's encoder.
func readServerFrame(t testing.TB, b []byte) (ws.Header, []byte) {
	t.Helper()
	r := bytes.NewReader(b)
	h, err := ws.ReadHeader(r)
	if err != nil {
		t.Fatalf("ReadHeader(%x): %v", b[:min(len(b), 14)], err)
	}
	if h.Masked {
		t.Fatal("server frame is masked")
	}
	p := make([]byte, h.Length)
	if _, err := io.ReadFull(r, p); err != nil {
		t.Fatalf("payload: %v", err)
	}
	if r.Len() != 0 {
		t.Fatalf("%d trailing bytes", r.Len())
	}
	return h, p
}

func inflateAll(t testing.TB, compressed []byte) []byte {
	t.Helper()
	out, err := io.ReadAll(flate.NewReader(io.MultiReader(bytes.NewReader(compressed), bytes.NewReader(inflateTail))))
	if err != nil {
		t.Fatalf("inflate: %v", err)
	}
	return out
}

func TestAppendFrameHeader(t *testing.T) {
	for _, n := range []int{0, 1, 125, 126, 127, 65535, 65536, 1 << 32} {
		for _, fin := range []bool{true, false} {
			for _, rsv1 := range []bool{true, false} {
				hdr := AppendFrameHeader(nil, fin, ws.OpBinary, rsv1, n)
				h, err := ws.ReadHeader(bytes.NewReader(hdr))
				if err != nil {
					t.Fatalf("len %d: %v", n, err)
				}
				want := ws.Header{Fin: fin, Rsv: ws.Rsv(rsv1, false, false), OpCode: ws.OpBinary, Length: int64(n)}
				if h != want || len(hdr) != ws.HeaderSize(want) {
					t.Fatalf("len %d: got %+v (%d bytes), want %+v", n, h, len(hdr), want)
				}
			}
		}
	}
}

func TestAppendFrame(t *testing.T) {
	for _, n := range []int{0, 5, 200, 70000} {
		payload := bytes.Repeat([]byte{'z'}, n)
		h, p := readServerFrame(t, AppendFrame([]byte{}, ws.OpText, payload))
		if !h.Fin || h.OpCode != ws.OpText || h.Rsv != 0 || !bytes.Equal(p, payload) {
			t.Fatalf("len %d: header %+v", n, h)
		}
	}
}

func TestAppendClose(t *testing.T) {
	h, p := readServerFrame(t, AppendClose(nil, 1013, "try again"))
	code, reason := ws.ParseCloseFrameData(p)
	if h.OpCode != ws.OpClose || code != 1013 || reason != "try again" {
		t.Fatalf("got %+v %d %q", h, code, reason)
	}
	for _, code := range []ws.StatusCode{0, ws.StatusNoStatusRcvd, ws.StatusAbnormalClosure, ws.StatusTLSHandshake} {
		if _, p := readServerFrame(t, AppendClose(nil, code, "x")); len(p) != 0 {
			t.Fatalf("code %d: payload %x, want none", code, p)
		}
	}
	// 122 ASCII bytes then a 3-byte code point: the code point would end at
	// byte 125 of the reason and must go as a whole.
	long := strings.Repeat("a", 122) + "€" + "tail"
	_, p = readServerFrame(t, AppendClose(nil, 1000, long))
	if len(p) != 2+122 || !utf8.Valid(p[2:]) {
		t.Fatalf("cropped to %d bytes, valid=%v", len(p), utf8.Valid(p[2:]))
	}
	_, p = readServerFrame(t, AppendClose(nil, 1000, strings.Repeat("b", 200)))
	if len(p) != ws.MaxControlFramePayloadSize {
		t.Fatalf("ASCII reason cropped to %d bytes", len(p))
	}
}

func TestAppendAllocs(t *testing.T) {
	dst := make([]byte, 0, 512)
	payload := bytes.Repeat([]byte("x"), 300)
	if a := testing.AllocsPerRun(1000, func() { dst = AppendFrame(dst[:0], ws.OpText, payload) }); a != 0 {
		t.Fatalf("AppendFrame allocates %.1f times", a)
	}
	reason := strings.Repeat("r", 200)
	if a := testing.AllocsPerRun(1000, func() { dst = AppendClose(dst[:0], 1001, reason) }); a != 0 {
		t.Fatalf("AppendClose allocates %.1f times", a)
	}
}

func TestCompress(t *testing.T) {
	for _, s := range []string{"", "a", strings.Repeat(`{"k":"value","n":12345},`, 100)} {
		c := Compress([]byte("prefix"), []byte(s))
		if !bytes.HasPrefix(c, []byte("prefix")) {
			t.Fatal("Compress must append")
		}
		c = c[len("prefix"):]
		if bytes.HasSuffix(c, syncFlushTail[:]) {
			t.Fatalf("%q: sync tail not stripped: %x", s, c)
		}
		if got := inflateAll(t, c); string(got) != s {
			t.Fatalf("round trip of %d bytes gave %d bytes", len(s), len(got))
		}
	}
	// RFC 7692 §7.2.3.6: an empty message compresses to a single 0x00.
	if c := Compress(nil, nil); !bytes.Equal(c, []byte{0x00}) {
		t.Fatalf("empty message: %x", c)
	}
	payload := []byte(strings.Repeat(`{"channel":"news","data":"hello"},`, 30))
	dst := make([]byte, 0, 2048)
	Compress(dst, payload) // warm the pool
	if raceEnabled {
		t.Skip("sync.Pool drops items under -race")
	}
	if a := testing.AllocsPerRun(200, func() { dst = Compress(dst[:0], payload) }); a != 0 {
		t.Fatalf("Compress allocates %.1f times", a)
	}
}

// A message compressed here is read back by this package's reader (as a
// client would send it) and by compress/flate.
func TestCompressReaderRoundTrip(t *testing.T) {
	msg := []byte(strings.Repeat("round trip ✓ ", 500))
	c := Compress(nil, msg)
	var r Reader
	r.Init(ReaderOptions{Deflate: true})
	defer r.Release()
	n, ev, err := r.Next(clientFrame(true, rsv1, ws.OpText, c))
	if err != nil || n == 0 || ev.Kind != Text || !bytes.Equal(ev.Payload, msg) {
		t.Fatalf("n=%d kind=%d err=%v", n, ev.Kind, err)
	}
}

func TestPrepared(t *testing.T) {
	payload := []byte(strings.Repeat("fan out ", 100))
	p := NewPrepared(ws.OpText, payload)
	payload[0] = 'X' // the caller may reuse its buffer
	h, got := readServerFrame(t, p.Frame())
	if h.OpCode != ws.OpText || h.Rsv1() || string(got) != strings.Repeat("fan out ", 100) {
		t.Fatalf("plain frame: %+v", h)
	}
	if pl := p.Payload(); string(pl) != string(got) || &pl[len(pl)-1] != &p.Frame()[len(p.Frame())-1] {
		t.Fatalf("Payload %q is not the frame's payload", pl)
	}

	frames := make([][]byte, 8)
	var wg sync.WaitGroup
	for i := range frames {
		wg.Go(func() { frames[i] = p.DeflateFrame() })
	}
	wg.Wait()
	for _, f := range frames[1:] {
		if &f[0] != &frames[0][0] {
			t.Fatal("DeflateFrame computed more than once")
		}
	}
	h, c := readServerFrame(t, frames[0])
	if !h.Rsv1() || !h.Fin || h.OpCode != ws.OpText || len(frames[0]) >= len(p.Frame()) {
		t.Fatalf("deflate frame: %+v, %d bytes vs %d plain", h, len(frames[0]), len(p.Frame()))
	}
	if string(inflateAll(t, c)) != strings.Repeat("fan out ", 100) {
		t.Fatal("deflate frame does not inflate to the payload")
	}

	// Nothing to gain: the plain frame serves both.
	short := NewPrepared(ws.OpText, []byte("hi"))
	if &short.DeflateFrame()[0] != &short.Frame()[0] {
		t.Fatal("a 2-byte message should not be sent compressed")
	}
	ping := NewPrepared(ws.OpPing, bytes.Repeat([]byte("p"), 100))
	if h, _ := readServerFrame(t, ping.DeflateFrame()); h.Rsv1() {
		t.Fatal("control frames must never be compressed")
	}
}
