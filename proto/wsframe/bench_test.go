package wsframe

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"github.com/gobwas/ws"
)

func benchSizes() []int { return []int{16, 1 << 10, 64 << 10} }

func sizeName(n int) string {
	if n >= 1<<10 {
		return strconv.Itoa(n>>10) + "KiB"
	}
	return strconv.Itoa(n) + "B"
}

// Parse and unmask one masked binary frame. Unmasking twice restores the
// masked bytes, so the same buffer serves every iteration.
func BenchmarkReaderNext(b *testing.B) {
	for _, size := range benchSizes() {
		b.Run(sizeName(size), func(b *testing.B) {
			frame := clientFrame(true, 0, ws.OpBinary, bytes.Repeat([]byte{'a'}, size))
			var r Reader
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if n, _, err := r.Next(frame); n != len(frame) || err != nil {
					b.Fatalf("n=%d err=%v", n, err)
				}
			}
		})
	}
}

// Text adds UTF-8 validation; the frame is copied back in every iteration.
func BenchmarkReaderNextText(b *testing.B) {
	for _, size := range benchSizes() {
		b.Run(sizeName(size), func(b *testing.B) {
			frame := clientFrame(true, 0, ws.OpText, bytes.Repeat([]byte("ab€"), size/5+1)[:size/5*5])
			buf := make([]byte, len(frame))
			var r Reader
			b.SetBytes(int64(len(frame)))
			b.ReportAllocs()
			for b.Loop() {
				copy(buf, frame)
				if n, _, err := r.Next(buf); n != len(frame) || err != nil {
					b.Fatalf("n=%d err=%v", n, err)
				}
			}
		})
	}
}

func BenchmarkAppendFrame(b *testing.B) {
	for _, size := range benchSizes() {
		b.Run(sizeName(size), func(b *testing.B) {
			payload := bytes.Repeat([]byte{'a'}, size)
			dst := make([]byte, 0, size+ws.MaxHeaderSize)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				dst = AppendFrame(dst[:0], ws.OpText, payload)
			}
		})
	}
}

func benchJSON() []byte {
	var s strings.Builder
	for i := 0; s.Len() < 1<<10; i++ {
		s.WriteString(`{"channel":"prices:EURUSD","offset":` + strconv.Itoa(1000+i) + `,"data":{"bid":1.0842,"ask":1.0844}},`)
	}
	return []byte(s.String()[:1<<10])
}

func BenchmarkCompress(b *testing.B) {
	payload := benchJSON()
	dst := Compress(nil, payload)
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		dst = Compress(dst[:0], payload)
	}
	b.ReportMetric(float64(len(dst))/float64(len(payload)), "ratio")
}

// Inflate a compressed 1 KiB JSON message, as a client would send it.
func BenchmarkReaderNextCompressed(b *testing.B) {
	payload := benchJSON()
	frame := clientFrame(true, rsv1, ws.OpText, Compress(nil, payload))
	buf := make([]byte, len(frame))
	var r Reader
	r.Init(ReaderOptions{Deflate: true})
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		copy(buf, frame)
		if n, ev, err := r.Next(buf); n != len(frame) || len(ev.Payload) != len(payload) || err != nil {
			b.Fatalf("n=%d err=%v", n, err)
		}
	}
}

// byteHeaders is a HeaderGetter that does not convert on lookup, like
// http1.Request.
type byteHeaders map[string][]byte

func (h byteHeaders) Header(name string) []byte {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return nil
}

func BenchmarkCheckUpgrade(b *testing.B) {
	h := byteHeaders{}
	for k, v := range with(goodRequest(), "Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits") {
		h[k] = []byte(v)
	}
	o := &UpgradeOptions{Compression: true}
	key := h.Header("Sec-WebSocket-Key")
	dst := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		u, err := CheckUpgrade([]byte("GET"), 1, 1, h, o)
		if err != nil {
			b.Fatal(err)
		}
		dst = AppendUpgradeResponse(dst[:0], key, &u)
	}
}
