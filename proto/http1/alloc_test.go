package http1

import "testing"

// TestParseAllocs asserts the hot path allocates nothing once a Request has warmed up,
// accessors included.
func TestParseAllocs(t *testing.T) {
	chunkedPost := "POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5\r\npedia\r\n0\r\nX-T: 1\r\n\r\n"
	for _, in := range []struct{ name, in string }{
		{"browser", browserGET}, {"upgrade", upgradeGET}, {"post", postJSON}, {"chunked", chunkedPost},
	} {
		t.Run(in.name, func(t *testing.T) {
			buf := []byte(in.in)
			var r Request
			scratch := make([]byte, 0, 64)
			parse := func() {
				if n, err := Parse(buf, &r, nil); err != nil || n != len(buf) {
					t.Fatalf("Parse = %d, %v", n, err)
				}
				_ = r.Header("Sec-WebSocket-Key")
				_ = r.HasToken("Connection", "upgrade")
				_, _ = r.Query("room", scratch[:0])
				r.VisitHeaders(func(name, value []byte) {})
			}
			parse()
			if allocs := testing.AllocsPerRun(100, parse); allocs != 0 {
				t.Fatalf("Parse allocates %v times per request; want 0", allocs)
			}
		})
	}
}

func TestAppendAllocs(t *testing.T) {
	dst := make([]byte, 0, 512)
	body := []byte("ok\n")
	if allocs := testing.AllocsPerRun(100, func() {
		dst = AppendResponse(dst[:0], 200, "text/plain; charset=utf-8", body, true)
		dst = AppendDate(dst[:0])
		dst = AppendStatusLine(dst[:0], 503)
		dst = AppendHeader(dst[:0], "X-Value", "a\r\nb")
	}); allocs != 0 {
		t.Fatalf("appenders allocate %v times per call; want 0", allocs)
	}
}
