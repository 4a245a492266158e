package http1

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestAppendStatusLine(t *testing.T) {
	for status, want := range map[int]string{
		200: "HTTP/1.1 200 OK\r\n",
		101: "HTTP/1.1 101 Switching Protocols\r\n",
		431: "HTTP/1.1 431 Request Header Fields Too Large\r\n",
		599: "HTTP/1.1 599 \r\n",
	} {
		if got := string(AppendStatusLine([]byte("x"), status)); got != "x"+want {
			t.Errorf("AppendStatusLine(%d) = %q; want %q", status, got, "x"+want)
		}
	}
	// Every reason phrase we know matches net/http's, apart from the RFC 9110 renamings.
	renamed := map[int]bool{413: true, 414: true, 416: true, 422: true}
	for code := 100; code < 600; code++ {
		if got := StatusText(code); got != "" && !renamed[code] && got != http.StatusText(code) {
			t.Errorf("StatusText(%d) = %q; net/http says %q", code, got, http.StatusText(code))
		}
	}
}

func TestAppendHeader(t *testing.T) {
	got := string(AppendHeader(nil, "X-Echo", "a\r\nSet-Cookie: x\x00\tb"))
	if want := "X-Echo: a  Set-Cookie: x \tb\r\n"; got != want {
		t.Errorf("AppendHeader = %q; want %q", got, want)
	}
}

// TestAppendResponse reads the responses back with net/http, an independent parser.
func TestAppendResponse(t *testing.T) {
	for _, c := range []struct {
		status      int
		contentType string
		body        string
		keepAlive   bool
	}{
		{200, "text/plain; charset=utf-8", "ok\n", true},
		{404, "", "not found", false},
		{204, "text/plain", "dropped", true},
		{400, "", "", false},
	} {
		raw := AppendResponse(nil, c.status, c.contentType, []byte(c.body), c.keepAlive)
		resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(raw)), nil)
		if err != nil {
			t.Fatalf("%q: %v", raw, err)
		}
		body, _ := io.ReadAll(resp.Body)
		wantBody := c.body
		if c.status == 204 {
			wantBody = ""
			if bytes.Contains(raw, []byte("Content-Length")) {
				t.Errorf("204 response carries Content-Length: %q", raw)
			}
		}
		if resp.StatusCode != c.status || string(body) != wantBody || resp.Header.Get("Content-Type") != c.contentType ||
			resp.Close == c.keepAlive {
			t.Errorf("%q read back as status %d, body %q, type %q, close %v", raw, resp.StatusCode, body, resp.Header.Get("Content-Type"), resp.Close)
		}
		date, err := http.ParseTime(resp.Header.Get("Date"))
		if err != nil || time.Since(date) > 2*time.Second || time.Until(date) > time.Second {
			t.Errorf("Date %q: %v", resp.Header.Get("Date"), err)
		}
	}
}

func TestAppendDate(t *testing.T) {
	got := string(AppendDate(nil))
	before := time.Now().UTC()
	date, err := time.Parse(imfFixdate, strings.TrimSuffix(strings.TrimPrefix(got, "Date: "), "\r\n"))
	if err != nil || !strings.HasPrefix(got, "Date: ") || !strings.HasSuffix(got, " GMT\r\n") {
		t.Fatalf("AppendDate = %q: %v", got, err)
	}
	if d := before.Sub(date); d < 0 || d > 2*time.Second {
		t.Fatalf("AppendDate = %q, now is %v", got, before)
	}

	// A stale cache is refreshed: fake an old second, as if the process had been idle.
	currentDate.sec.Store(1)
	if got := string(AppendDate(nil)); strings.Contains(got, "1970") {
		t.Fatalf("stale date served: %q", got)
	}
}

// TestAppendDateConcurrent is for the race detector: readers and refreshing writers together.
func TestAppendDateConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var dst []byte
			for i := 0; i < 2000; i++ {
				if i%100 == 0 {
					currentDate.sec.Store(int64(i)) // force refreshes while others read
				}
				dst = AppendDate(dst[:0])
				if len(dst) != len("Date: ")+imfFixdateLen+2 || !bytes.HasSuffix(dst, []byte(" GMT\r\n")) {
					t.Errorf("torn date %q", dst)
					return
				}
			}
		}()
	}
	wg.Wait()
}
