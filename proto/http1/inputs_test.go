package http1

import (
	"fmt"
	"strconv"
	"strings"
)

// Representative requests shared by the allocation tests, the benchmarks and the fuzz seeds.
var (
	browserGET = "GET /app/channels?room=lobby&since=42 HTTP/1.1\r\n" +
		"Host: rtd.example.com\r\n" +
		"Connection: keep-alive\r\n" +
		"Cache-Control: max-age=0\r\n" +
		"sec-ch-ua: \"Chromium\";v=\"156\", \"Not-A.Brand\";v=\"24\"\r\n" +
		"sec-ch-ua-mobile: ?0\r\n" +
		"sec-ch-ua-platform: \"Linux\"\r\n" +
		"Upgrade-Insecure-Requests: 1\r\n" +
		"User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36\r\n" +
		"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8\r\n" +
		"Sec-Fetch-Mode: navigate\r\n" +
		"Accept-Encoding: gzip, deflate, br, zstd\r\n" +
		"Accept-Language: en-US,en;q=0.9\r\n" +
		"Cookie: session=4f3c2a9b1e; theme=dark\r\n" +
		"\r\n"

	upgradeGET = "GET /ws?channel=news HTTP/1.1\r\n" +
		"Host: rtd.example.com\r\n" +
		"Connection: Upgrade\r\n" +
		"Pragma: no-cache\r\n" +
		"Cache-Control: no-cache\r\n" +
		"User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36\r\n" +
		"Upgrade: websocket\r\n" +
		"Origin: https://rtd.example.com\r\n" +
		"Sec-WebSocket-Version: 13\r\n" +
		"Accept-Encoding: gzip, deflate, br, zstd\r\n" +
		"Accept-Language: en-US,en;q=0.9\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
		"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" +
		"\r\n"

	postJSONBody = `{"channel":"news","data":{"title":"hello","body":"a short publication","tags":["a","b"]}}`
	postJSON     = "POST /api/publish HTTP/1.1\r\n" +
		"Host: rtd.example.com\r\n" +
		"User-Agent: curl/8.5.0\r\n" +
		"Accept: */*\r\n" +
		"Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJwdWIifQ.c2lnbmF0dXJl\r\n" +
		"Content-Type: application/json\r\n" +
		"Content-Length: " + strconv.Itoa(len(postJSONBody)) + "\r\n" +
		"\r\n" + postJSONBody
)

// describe renders everything Parse produced, so two parses can be compared in one step.
func describe(r *Request) string {
	var b strings.Builder
	fmt.Fprintf(&b, "method=%q uri=%q path=%q query=%q v=%d.%d keepalive=%v cl=%d chunked=%v expect=%v headlen=%d body=%q",
		r.Method, r.URI, r.Path, r.RawQuery, r.Major, r.Minor, r.KeepAlive, r.ContentLength, r.Chunked, r.Expect100, r.HeadLen, r.Body)
	r.VisitHeaders(func(name, value []byte) { fmt.Fprintf(&b, "\n%s=%q", name, value) })
	return b.String()
}
