package http1

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

// BenchmarkParse compares Parse with fasthttp and net/http on the same inputs. The peers read
// from a reused bufio.Reader over a reused bytes.Reader, as in fasthttp's own
// header_timing_test.go. For the POST, fasthttp parses a whole fasthttp.Request (head and body)
// and net/http drains the body, since Parse delivers the body too; for the GETs fasthttp parses
// a RequestHeader, which is all those requests carry.
func BenchmarkParse(b *testing.B) {
	for _, in := range []struct {
		name, req string
		hasBody   bool
	}{
		{"browser", browserGET, false},
		{"upgrade", upgradeGET, false},
		{"post", postJSON, true},
	} {
		data := []byte(in.req)
		b.Run(in.name+"/rtd", func(b *testing.B) {
			var r Request
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if n, err := Parse(data, &r, nil); err != nil || n != len(data) {
					b.Fatalf("Parse = %d, %v", n, err)
				}
			}
		})
		b.Run(in.name+"/fasthttp", func(b *testing.B) {
			rd := bytes.NewReader(data)
			br := bufio.NewReader(rd)
			var h fasthttp.RequestHeader
			var req fasthttp.Request
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				rd.Reset(data)
				br.Reset(rd)
				var err error
				if in.hasBody {
					req.Reset()
					err = req.Read(br)
				} else {
					h.Reset()
					err = h.Read(br)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(in.name+"/nethttp", func(b *testing.B) {
			rd := bytes.NewReader(data)
			br := bufio.NewReader(rd)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				rd.Reset(data)
				br.Reset(rd)
				req, err := http.ReadRequest(br)
				if err != nil {
					b.Fatal(err)
				}
				if in.hasBody {
					if _, err := io.Copy(io.Discard, req.Body); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// BenchmarkChunked parses a POST whose 4 KiB body comes in 256 chunks of 16 bytes: at once
// with Parse, and with a Pending fed 64-byte pieces as they would arrive.
func BenchmarkChunked(b *testing.B) {
	head := "POST /api/publish HTTP/1.1\r\nHost: rtd.example.com\r\nTransfer-Encoding: chunked\r\n\r\n"
	body := strings.Repeat("10\r\n0123456789abcdef\r\n", 256) + "0\r\n\r\n"
	data := []byte(head + body)
	b.Run("parse", func(b *testing.B) {
		var r Request
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			if n, err := Parse(data, &r, nil); err != nil || n != len(data) {
				b.Fatalf("Parse = %d, %v", n, err)
			}
		}
	})
	b.Run("pending", func(b *testing.B) {
		var p Pending
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			n, _ := p.Start(data, nil)
			in := data[n:]
			for len(in) > 0 {
				k, err := p.Feed(in[:min(64, len(in))])
				if err != nil && err != ErrNeedMore {
					b.Fatal(err)
				}
				in = in[k:]
			}
		}
	})
}
