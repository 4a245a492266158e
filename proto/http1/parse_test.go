package http1

import (
	"bytes"
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
)

// small limits keep the limit cases short.
var smallLimits = &Limits{MaxRequestLine: 64, MaxHeaderBytes: 256, MaxHeaders: 4, MaxBodyBytes: 32}

// headerLimits bounds the head alone, for the extension and trailer allowance it leaves.
var headerLimits = &Limits{MaxHeaderBytes: 256}

type parseCase struct {
	name   string
	in     string
	lim    *Limits
	status int   // 0: parses
	is     error // sentinel the error must match, when status != 0
	want   map[string]string
	n      int // bytes consumed when not len(in)
}

// want keys: "method", "uri", "path", "query", "version", "keepalive", "cl", "chunked",
// "expect", "body", and "h:<Name>" for a header value.
var parseCases = []parseCase{
	// RFC 9112 §3.2.1 (origin-form) and §3.2 examples.
	{name: "origin-form", in: "GET /where?q=now HTTP/1.1\r\nHost: www.example.org\r\n\r\n",
		want: map[string]string{"method": "GET", "uri": "/where?q=now", "path": "/where", "query": "q=now", "version": "1.1", "keepalive": "true", "cl": "-1", "h:host": "www.example.org"}},
	{name: "origin-form no query", in: "GET /pub/WWW/TheProject.html HTTP/1.1\r\nHost: www.example.org\r\n\r\n",
		want: map[string]string{"path": "/pub/WWW/TheProject.html", "query": "<nil>"}},
	{name: "empty query", in: "GET /a? HTTP/1.1\r\nHost: x\r\n\r\n", want: map[string]string{"path": "/a", "query": ""}},
	// §3.2.2 absolute-form.
	{name: "absolute-form", in: "GET http://www.example.org/pub/WWW/TheProject.html HTTP/1.1\r\nHost: www.example.org\r\n\r\n",
		want: map[string]string{"uri": "http://www.example.org/pub/WWW/TheProject.html", "path": "/pub/WWW/TheProject.html"}},
	{name: "absolute-form empty path", in: "GET HTTPS://example.org?x=1 HTTP/1.1\r\nHost: example.org\r\n\r\n",
		want: map[string]string{"path": "/", "query": "x=1"}},
	{name: "absolute-form no path no query", in: "GET http://example.org HTTP/1.1\r\nHost: example.org\r\n\r\n",
		want: map[string]string{"path": "/", "query": "<nil>"}},
	{name: "absolute-form other scheme", in: "GET ftp://example.org/ HTTP/1.1\r\nHost: x\r\n\r\n", status: 400},
	{name: "absolute-form empty authority", in: "GET http:///a HTTP/1.1\r\nHost: x\r\n\r\n", status: 400},
	// §3.2.4 asterisk-form.
	{name: "asterisk-form", in: "OPTIONS * HTTP/1.1\r\nHost: www.example.org:8001\r\n\r\n",
		want: map[string]string{"method": "OPTIONS", "uri": "*", "path": "*"}},
	{name: "asterisk-form not OPTIONS", in: "GET * HTTP/1.1\r\nHost: x\r\n\r\n", status: 400},
	// §3.2.3 authority-form is for CONNECT, which is not served.
	{name: "authority-form", in: "CONNECT www.example.com:80 HTTP/1.1\r\nHost: www.example.com\r\n\r\n", status: 400},

	// Request line grammar.
	{name: "empty lines before request line", in: "\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", want: map[string]string{"method": "GET"}},
	{name: "extension method", in: "PURGE-ALL /x HTTP/1.1\r\nHost: x\r\n\r\n", want: map[string]string{"method": "PURGE-ALL"}},
	{name: "method not a token", in: "GE\"T / HTTP/1.1\r\nHost: x\r\n\r\n", status: 400},
	{name: "TLS handshake refused at once", in: "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", status: 400},
	{name: "empty method", in: " / HTTP/1.1\r\nHost: x\r\n\r\n", status: 400},
	{name: "double space", in: "GET  / HTTP/1.1\r\nHost: x\r\n\r\n", status: 400},
	{name: "space in target", in: "GET /a b HTTP/1.1\r\nHost: x\r\n\r\n", status: 400},
	{name: "tab in target", in: "GET /a\tb HTTP/1.1\r\nHost: x\r\n\r\n", status: 400},
	{name: "control in target", in: "GET /a\x01b HTTP/1.1\r\nHost: x\r\n\r\n", status: 400},
	{name: "DEL in target", in: "GET /abcdefghij\x7f HTTP/1.1\r\nHost: x\r\n\r\n", status: 400},
	{name: "UTF-8 in target", in: "GET /caf\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n", want: map[string]string{"path": "/caf\xc3\xa9"}},
	{name: "relative target", in: "GET a/b HTTP/1.1\r\nHost: x\r\n\r\n", status: 400},
	{name: "HTTP/0.9 request line", in: "GET /\r\n\r\n", status: 400},
	{name: "trailing space after version", in: "GET / HTTP/1.1 \r\nHost: x\r\n\r\n", status: 400},
	{name: "lower-case version", in: "GET / http/1.1\r\nHost: x\r\n\r\n", status: 400},
	{name: "two-digit minor", in: "GET / HTTP/1.10\r\nHost: x\r\n\r\n", status: 400},
	{name: "HTTP/1.0", in: "GET / HTTP/1.0\r\n\r\n", want: map[string]string{"version": "1.0", "keepalive": "false"}},
	{name: "HTTP/1.2", in: "GET / HTTP/1.2\r\nHost: x\r\n\r\n", status: 505, is: ErrVersion},
	{name: "HTTP/2.0", in: "GET / HTTP/2.0\r\nHost: x\r\n\r\n", status: 505, is: ErrVersion},
	{name: "HTTP/0.9", in: "GET / HTTP/0.9\r\n\r\n", status: 505, is: ErrVersion},
	{name: "bare LF request line", in: "GET / HTTP/1.1\nHost: x\r\n\r\n", status: 400, is: errBareLF},
	{name: "bare LF first byte", in: "\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", status: 400, is: errBareLF},
	{name: "request line too long", in: "GET /" + strings.Repeat("a", 80) + " HTTP/1.1\r\nHost: x\r\n\r\n", lim: smallLimits, status: 414, is: ErrURITooLong},
	{name: "request line too long, no CRLF yet", in: "GET /" + strings.Repeat("a", 59), lim: smallLimits, status: 414},
	{name: "request line too long, still in method", in: strings.Repeat("G", 64), lim: smallLimits, status: 414},
	{name: "request line at limit", in: "GET /" + strings.Repeat("a", 48) + " HTTP/1.1\r\nHost: x\r\n\r\n", lim: smallLimits,
		want: map[string]string{"method": "GET"}},
	{name: "request line one over limit", in: "GET /" + strings.Repeat("a", 49) + " HTTP/1.1\r\nHost: x\r\n\r\n", lim: smallLimits, status: 414},

	// Header field syntax (RFC 9112 §5).
	{name: "OWS trimmed", in: "GET / HTTP/1.1\r\nHost:\t x \t\r\nX-Empty:\r\nX-Inner: a \t b\r\n\r\n",
		want: map[string]string{"h:host": "x", "h:x-empty": "", "h:X-INNER": "a \t b", "h:missing": "<nil>"}},
	{name: "obs-text in value", in: "GET / HTTP/1.1\r\nHost: x\r\nX-Name: caf\xc3\xa9\xff\r\n\r\n", want: map[string]string{"h:x-name": "caf\xc3\xa9\xff"}},
	{name: "space before colon", in: "GET / HTTP/1.1\r\nHost : x\r\n\r\n", status: 400, is: ErrMalformed},
	{name: "tab before colon", in: "GET / HTTP/1.1\r\nHost: x\r\nX-A\t: 1\r\n\r\n", status: 400},
	{name: "obs-fold", in: "GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  continued\r\n\r\n", status: 400, is: ErrMalformed},
	{name: "whitespace before first field", in: "GET / HTTP/1.1\r\n Host: x\r\n\r\n", status: 400},
	{name: "empty field name", in: "GET / HTTP/1.1\r\nHost: x\r\n: v\r\n\r\n", status: 400},
	{name: "field name not a token", in: "GET / HTTP/1.1\r\nHost: x\r\nX(A): v\r\n\r\n", status: 400},
	{name: "no colon", in: "GET / HTTP/1.1\r\nHost: x\r\nX-A\r\n\r\n", status: 400},
	{name: "NUL in value", in: "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n", status: 400},
	{name: "NUL late in long value", in: "GET / HTTP/1.1\r\nHost: x\r\nX-A: abcdefghijklmnop\x00q\r\n\r\n", status: 400},
	{name: "DEL in value", in: "GET / HTTP/1.1\r\nHost: x\r\nX-A: abcdefghijklmnop\x7fq\r\n\r\n", status: 400},
	{name: "bare CR in value", in: "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n", status: 400},
	{name: "bare LF in value", in: "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\nb\r\n\r\n", status: 400},
	{name: "bare LF line ends", in: "GET / HTTP/1.1\r\nHost: x\n\n", status: 400, is: errBareLF},
	{name: "bare LF final line", in: "GET / HTTP/1.1\r\nHost: x\r\n\n", status: 400, is: errBareLF},
	{name: "bare CR final line", in: "GET / HTTP/1.1\r\nHost: x\r\n\rX", status: 400, is: errBareCR},
	{name: "missing Host", in: "GET / HTTP/1.1\r\n\r\n", status: 400},
	{name: "two Hosts", in: "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", status: 400},
	{name: "two Hosts in HTTP/1.0", in: "GET / HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n", status: 400},
	{name: "head too large", in: "GET / HTTP/1.1\r\nHost: x\r\nX-A: " + strings.Repeat("a", 300) + "\r\n\r\n", lim: smallLimits, status: 431, is: ErrHeadersTooLarge},
	{name: "head too large, no end yet", in: "GET / HTTP/1.1\r\nHost: x\r\nX-A: " + strings.Repeat("a", 240), lim: smallLimits, status: 431},
	{name: "head too large, final CRLF", in: "GET / HTTP/1.1\r\nHost: x\r\nX-A: " + strings.Repeat("a", 223) + "\r\n\r\n", lim: smallLimits, status: 431},
	{name: "head at limit", in: "GET / HTTP/1.1\r\nHost: x\r\nX-A: " + strings.Repeat("a", 222) + "\r\n\r\n", lim: smallLimits,
		want: map[string]string{"method": "GET"}},
	{name: "too many fields", in: "GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", lim: smallLimits, status: 431},
	{name: "fields at limit", in: "GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", lim: smallLimits, want: map[string]string{"h:c": "3"}},

	// Connection management (RFC 9112 §9.3).
	{name: "1.1 close", in: "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", want: map[string]string{"keepalive": "false"}},
	{name: "1.1 close in list", in: "GET / HTTP/1.1\r\nHost: x\r\nConnection: foo , CLOSE\r\n\r\n", want: map[string]string{"keepalive": "false"}},
	{name: "1.1 second Connection line", in: "GET / HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nConnection: close\r\n\r\n", want: map[string]string{"keepalive": "false"}},
	{name: "1.0 keep-alive", in: "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", want: map[string]string{"keepalive": "true"}},
	{name: "1.0 keep-alive and close", in: "GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", want: map[string]string{"keepalive": "false"}},
	{name: "not a keep-alive token", in: "GET / HTTP/1.0\r\nConnection: keep-alived\r\n\r\n", want: map[string]string{"keepalive": "false"}},
	{name: "expect 100-continue", in: "PUT /r HTTP/1.1\r\nHost: x\r\nExpect: 100-Continue\r\nContent-Length: 2\r\n\r\nhi",
		want: map[string]string{"expect": "true", "body": "hi"}},
	{name: "expect ignored in 1.0", in: "PUT /r HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi", want: map[string]string{"expect": "false"}},

	// Content-Length (RFC 9112 §6.3, RFC 9110 §8.6).
	{name: "content-length", in: "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
		want: map[string]string{"cl": "5", "body": "hello"}},
	{name: "content-length zero", in: "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", want: map[string]string{"cl": "0", "body": ""}},
	{name: "content-length leading zeros", in: "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 0000000000000000000000003\r\n\r\nabc", want: map[string]string{"cl": "3"}},
	{name: "body followed by next request", in: "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nokGET", n: 50, want: map[string]string{"body": "ok"}},
	{name: "content-length sign", in: "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\nhello", status: 400},
	{name: "content-length negative", in: "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", status: 400},
	{name: "content-length empty", in: "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length:\r\n\r\n", status: 400},
	{name: "content-length list", in: "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\n\r\nhello", status: 400},
	{name: "content-length hex", in: "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 0x5\r\n\r\nhello", status: 400},
	{name: "content-length overflow", in: "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 9223372036854775808\r\n\r\n", status: 400},
	{name: "content-length max int64", in: "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 9223372036854775807\r\n\r\n", status: 413},
	{name: "content-length duplicate equal", in: "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello", status: 400, is: ErrAmbiguousLength},
	{name: "content-length duplicate conflict", in: "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\ncontent-length: 6\r\n\r\nhello!", status: 400, is: ErrAmbiguousLength},
	{name: "body too large before it arrives", in: "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 33\r\n\r\n", lim: smallLimits, status: 413, is: ErrBodyTooLarge},
	{name: "body at limit", in: "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 32\r\n\r\n" + strings.Repeat("b", 32), lim: smallLimits, want: map[string]string{"cl": "32"}},
	{name: "default body limit", in: "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 1048577\r\n\r\n", status: 413},

	// Transfer-Encoding (RFC 9112 §6.1, §7.1).
	{name: "chunked", in: "POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\n\r\n",
		want: map[string]string{"chunked": "true", "cl": "-1", "body": "Wikipedia in\r\n\r\nchunks."}},
	{name: "chunked case-insensitive", in: "POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked \r\n\r\n0\r\n\r\n", want: map[string]string{"chunked": "true", "body": ""}},
	{name: "chunk extensions and trailers", in: "POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
		"3;name=value;flag\r\nabc\r\n1 ; q=\"x\"\r\nd\r\n0;last\r\nX-Checksum: 1234\r\nX-Other: y\r\n\r\n",
		want: map[string]string{"body": "abcd", "h:x-checksum": "<nil>"}},
	{name: "chunk size upper hex", in: "POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n", want: map[string]string{"body": "0123456789"}},
	{name: "chunked in HTTP/1.0", in: "POST /p HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", status: 400},
	{name: "chunked with content-length", in: "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", status: 400, is: ErrAmbiguousLength},
	{name: "content-length after chunked", in: "POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", status: 400, is: ErrAmbiguousLength},
	{name: "gzip coding", in: "POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", status: 501, is: ErrUnsupportedTransferCoding},
	{name: "gzip then chunked", in: "POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", status: 501},
	{name: "chunked twice", in: "POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", status: 501},
	{name: "chunked misspelt", in: "POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked-ish\r\n\r\n0\r\n\r\n", status: 501},
	{name: "chunk size not hex", in: "POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n", status: 400},
	{name: "chunk size junk suffix", in: "POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5x\r\nhello\r\n0\r\n\r\n", status: 400},
	{name: "chunk size empty", in: "POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\r\n", status: 400},
	{name: "chunk size bare LF", in: "POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n", status: 400},
	{name: "chunk data too long", in: "POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n", status: 400},
	{name: "chunk size overflow", in: "POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n", status: 413, is: ErrBodyTooLarge},
	{name: "chunk size over a huge limit", in: "POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n",
		lim: &Limits{MaxBodyBytes: math.MaxInt64}, status: 413},
	{name: "chunk size too many digits", in: "POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n00000000000000001\r\nx\r\n0\r\n\r\n", status: 400},
	{name: "chunk size 16 digits", in: "POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0000000000000001\r\nx\r\n0\r\n\r\n", want: map[string]string{"body": "x"}},
	{name: "chunked body too large", in: "POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0123456789abcdef\r\n11\r\n", lim: smallLimits, status: 413},
	// Framing counts against MaxBodyBytes: 2+2+21+2 bytes of chunk and 5 of last chunk make 32.
	{name: "chunked body at limit", in: "POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n15\r\n0123456789abcdef01234\r\n0\r\n\r\n", lim: smallLimits,
		want: map[string]string{"body": "0123456789abcdef01234"}},
	{name: "chunked body framing over limit", in: "POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n16\r\n0123456789abcdef012345\r\n0\r\n\r\n", lim: smallLimits, status: 413, is: ErrBodyTooLarge},
	{name: "one-byte chunks framing over limit", in: "POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + strings.Repeat("1\r\nx\r\n", 6), lim: smallLimits, status: 413, is: ErrBodyTooLarge},
	{name: "chunks at limit", in: "POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n1;x\r\nb\r\n0\r\n\r\n", lim: &Limits{MaxChunks: 2},
		want: map[string]string{"body": "ab"}},
	{name: "too many chunks", in: "POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n1\r\nb\r\n1\r\n", lim: &Limits{MaxChunks: 2}, status: 413, is: errTooManyChunks},
	{name: "trailer bytes count against the body", in: "POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA: " + strings.Repeat("t", 40) + "\r\n\r\n", lim: &Limits{MaxBodyBytes: 40}, status: 413},
	{name: "extension bytes count against the body", in: "POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1;" + strings.Repeat("e", 40) + "\r\nx\r\n0\r\n\r\n", lim: &Limits{MaxBodyBytes: 40}, status: 413},
	{name: "chunk extension too large", in: "POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1;" + strings.Repeat("e", 200), lim: headerLimits, status: 431},
	{name: "trailers too large", in: "POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: " + strings.Repeat("t", 200), lim: headerLimits, status: 431},
	{name: "too many trailers", in: "POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", lim: smallLimits, status: 431},
	{name: "trailer obs-fold", in: "POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA: 1\r\n 2\r\n\r\n", status: 400},
}

// check asserts one parse of c.in against the table entry.
func (c *parseCase) check(t *testing.T, r *Request, n int, err error) {
	t.Helper()
	if c.status != 0 {
		if err == nil || err == ErrNeedMore {
			t.Fatalf("Parse = %d, %v; want status %d", n, err, c.status)
		}
		if got := StatusOf(err); got != c.status {
			t.Fatalf("Parse error %v has status %d; want %d", err, got, c.status)
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("Parse error %v (%T) is not an *Error", err, err)
		}
		if c.is != nil && !errors.Is(err, c.is) {
			t.Fatalf("Parse error %v does not match %v", err, c.is)
		}
		if n != 0 {
			t.Fatalf("Parse returned n = %d with an error", n)
		}
		return
	}
	wantN := c.n
	if wantN == 0 {
		wantN = len(c.in)
	}
	if err != nil || n != wantN {
		t.Fatalf("Parse = %d, %v; want %d, nil", n, err, wantN)
	}
	for k, want := range c.want {
		var got string
		switch {
		case strings.HasPrefix(k, "h:"):
			got = bytesOrNil(r.Header(k[2:]))
		case k == "method":
			got = string(r.Method)
		case k == "uri":
			got = string(r.URI)
		case k == "path":
			got = string(r.Path)
		case k == "query":
			got = bytesOrNil(r.RawQuery)
		case k == "version":
			got = string(rune('0'+r.Major)) + "." + string(rune('0'+r.Minor))
		case k == "keepalive":
			got = boolString(r.KeepAlive)
		case k == "chunked":
			got = boolString(r.Chunked)
		case k == "expect":
			got = boolString(r.Expect100)
		case k == "cl":
			got = itoa(r.ContentLength)
		case k == "body":
			got = bytesOrNil(r.Body)
		default:
			t.Fatalf("bad want key %q", k)
		}
		if got != want {
			t.Errorf("%s = %q; want %q", k, got, want)
		}
	}
}

func bytesOrNil(b []byte) string {
	if b == nil {
		return "<nil>"
	}
	return string(b)
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestParse(t *testing.T) {
	for _, c := range parseCases {
		t.Run(c.name, func(t *testing.T) {
			var r Request
			n, err := Parse([]byte(c.in), &r, c.lim)
			c.check(t, &r, n, err)
		})
	}
}

// TestParseSplit feeds every proper prefix of every table input: a prefix must ask for more
// (or, for an invalid input, may fail already with the same error), must leave the bytes as
// they were, and the whole input must then give the same result as in one piece.
func TestParseSplit(t *testing.T) {
	for _, c := range parseCases {
		t.Run(c.name, func(t *testing.T) {
			whole := []byte(c.in)
			var want Request
			wantN, wantErr := Parse(whole, &want, c.lim)
			var r Request
			for i := 0; i < len(whole); i++ {
				prefix := bytes.Clone(whole[:i])
				n, err := Parse(prefix, &r, c.lim)
				if !bytes.Equal(prefix, whole[:i]) {
					t.Fatalf("Parse(buf[:%d]) modified buf", i)
				}
				switch {
				case err == ErrNeedMore:
					if n != 0 {
						t.Fatalf("Parse(buf[:%d]) = %d, ErrNeedMore; want 0", i, n)
					}
				case c.status == 0 && i < wantN:
					t.Fatalf("Parse(buf[:%d]) = %d, %v; want ErrNeedMore", i, n, err)
				case c.status == 0:
					// With bytes after the request, a long enough prefix holds all of it.
					if n != wantN || err != nil {
						t.Fatalf("Parse(buf[:%d]) = %d, %v; want %d, nil", i, n, err, wantN)
					}
				case err != wantErr:
					t.Fatalf("Parse(buf[:%d]) = %v; whole input gives %v", i, err, wantErr)
				}
			}
			n, err := Parse(whole, &r, c.lim)
			c.check(t, &r, n, err)
			if err == nil && describe(&r) != describe(&want) {
				t.Fatalf("after split parses:\n%s\nwant\n%s", describe(&r), describe(&want))
			}
		})
	}
}

// TestParsePipelined parses two and three valid requests sent back to back in one buffer.
func TestParsePipelined(t *testing.T) {
	var valid []parseCase
	for _, c := range parseCases {
		if c.status == 0 && c.n == 0 && c.lim == nil {
			valid = append(valid, c)
		}
	}
	for i, a := range valid {
		b, c := valid[(i+1)%len(valid)], valid[(i+7)%len(valid)]
		for _, seq := range [][]parseCase{{a, b}, {a, b, c}} {
			var buf []byte
			for _, x := range seq {
				buf = append(buf, x.in...)
			}
			var r Request
			for _, x := range seq {
				n, err := Parse(buf, &r, nil)
				if err != nil || n != len(x.in) {
					t.Fatalf("%s in a pipeline: Parse = %d, %v; want %d", x.name, n, err, len(x.in))
				}
				var alone Request
				Parse([]byte(x.in), &alone, nil)
				if describe(&r) != describe(&alone) {
					t.Fatalf("%s in a pipeline:\n%s\nalone:\n%s", x.name, describe(&r), describe(&alone))
				}
				buf = buf[n:]
			}
			if len(buf) != 0 {
				t.Fatalf("%d bytes left over", len(buf))
			}
		}
	}
}

// TestHeadLenBeforeBody checks what a server needs while the body is on its way: the head is
// parsed, HeadLen is set and Expect100 known, with ErrNeedMore.
func TestHeadLenBeforeBody(t *testing.T) {
	for _, in := range []string{
		"POST /p HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 10\r\n\r\n",
		"POST /p HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 10\r\n\r\n12345",
		"POST /p HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n",
		"POST /p HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
	} {
		var r Request
		n, err := Parse([]byte(in), &r, nil)
		if err != ErrNeedMore || n != 0 {
			t.Fatalf("Parse(%q) = %d, %v; want 0, ErrNeedMore", in, n, err)
		}
		if want := strings.Index(in, "\r\n\r\n") + 4; r.HeadLen != want || !r.Expect100 {
			t.Fatalf("Parse(%q): HeadLen %d, Expect100 %v; want %d, true", in, r.HeadLen, r.Expect100, want)
		}
		if string(r.Header("Host")) != "x" {
			t.Fatalf("Parse(%q): Host = %q", in, r.Header("Host"))
		}
	}
	var r Request
	if _, err := Parse([]byte("POST /p HTTP/1.1\r\nHost: x\r\n"), &r, nil); err != ErrNeedMore || r.HeadLen != 0 {
		t.Fatalf("incomplete head: err %v, HeadLen %d; want ErrNeedMore, 0", err, r.HeadLen)
	}
	if r.Header("Host") == nil {
		t.Fatalf("fields scanned before ErrNeedMore should still be readable")
	}
}

// TestParseResetsRequest reuses one Request across different requests: nothing of the first may
// leak into the second.
func TestParseResetsRequest(t *testing.T) {
	var r Request
	if _, err := Parse([]byte(postJSON), &r, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := Parse([]byte("GET / HTTP/1.0\r\n\r\n"), &r, nil); err != nil {
		t.Fatal(err)
	}
	if r.Body != nil || r.ContentLength != -1 || r.Header("Content-Type") != nil || r.RawQuery != nil || r.KeepAlive {
		t.Fatalf("state left over from the previous request: %s", describe(&r))
	}
}

func TestErrors(t *testing.T) {
	if got := StatusOf(errors.New("other")); got != 400 {
		t.Errorf("StatusOf(other) = %d; want 400", got)
	}
	if got := StatusOf(errObsFold); got != 400 || !errors.Is(errObsFold, ErrMalformed) || errors.Is(errObsFold, ErrAmbiguousLength) {
		t.Errorf("errObsFold: status %d, is ErrMalformed %v", got, errors.Is(errObsFold, ErrMalformed))
	}
	if !errors.Is(errDuplicateLength, ErrAmbiguousLength) {
		t.Errorf("errDuplicateLength does not match ErrAmbiguousLength")
	}
	if errors.Is(ErrURITooLong, ErrMalformed) {
		t.Errorf("ErrURITooLong matches ErrMalformed")
	}
	if got := ErrBodyTooLarge.Error(); got != "http1: request body too large" {
		t.Errorf("Error() = %q", got)
	}
}
