package wsframe

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"testing"
)

// headers is a HeaderGetter over a map with canonical-insensitive keys.
type headers map[string]string

func (h headers) Header(name string) []byte {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return []byte(v)
		}
	}
	return nil
}

func goodRequest() headers {
	return headers{
		"Host":                  "example.com",
		"Upgrade":               "websocket",
		"Connection":            "Upgrade",
		"Sec-WebSocket-Key":     "dGhlIHNhbXBsZSBub25jZQ==",
		"Sec-WebSocket-Version": "13",
	}
}

func with(h headers, kv ...string) headers {
	out := headers{}
	for k, v := range h {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == "" {
			delete(out, kv[i])
		} else {
			out[kv[i]] = kv[i+1]
		}
	}
	return out
}

func TestCheckUpgradeRejections(t *testing.T) {
	origins := &UpgradeOptions{Origins: []string{"https://app.example.com"}}
	protocols := &UpgradeOptions{Protocols: []string{"rtd.v2", "rtd.v1"}}
	tests := []struct {
		name         string
		method       string
		major, minor int
		h            headers
		o            *UpgradeOptions
		want         *HandshakeError
		status       int
	}{
		{"POST", "POST", 1, 1, goodRequest(), nil, ErrBadMethod, 405},
		{"lower-case get", "get", 1, 1, goodRequest(), nil, ErrBadMethod, 405},
		{"HTTP/1.0", "GET", 1, 0, goodRequest(), nil, ErrBadHTTPVersion, 505},
		{"HTTP/0.9", "GET", 0, 9, goodRequest(), nil, ErrBadHTTPVersion, 505},
		{"no Upgrade", "GET", 1, 1, with(goodRequest(), "Upgrade", ""), nil, ErrBadUpgrade, 400},
		{"Upgrade h2c", "GET", 1, 1, with(goodRequest(), "Upgrade", "h2c"), nil, ErrBadUpgrade, 400},
		{"Upgrade websocketx", "GET", 1, 1, with(goodRequest(), "Upgrade", "websocketx"), nil, ErrBadUpgrade, 400},
		{"no Connection", "GET", 1, 1, with(goodRequest(), "Connection", ""), nil, ErrBadConnection, 400},
		{"Connection keep-alive", "GET", 1, 1, with(goodRequest(), "Connection", "keep-alive"), nil, ErrBadConnection, 400},
		{"no key", "GET", 1, 1, with(goodRequest(), "Sec-WebSocket-Key", ""), nil, ErrBadKey, 400},
		{"key of 15 bytes", "GET", 1, 1, with(goodRequest(), "Sec-WebSocket-Key", "AAAAAAAAAAAAAAAAAAAA"), nil, ErrBadKey, 400},
		{"key of 17 bytes", "GET", 1, 1, with(goodRequest(), "Sec-WebSocket-Key", "AAAAAAAAAAAAAAAAAAAAAAA="), nil, ErrBadKey, 400},
		{"key not base64", "GET", 1, 1, with(goodRequest(), "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ!="), nil, ErrBadKey, 400},
		{"key with non-canonical padding bits", "GET", 1, 1, with(goodRequest(), "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZR=="), nil, ErrBadKey, 400},
		{"no version", "GET", 1, 1, with(goodRequest(), "Sec-WebSocket-Version", ""), nil, ErrBadVersion, 426},
		{"version 8", "GET", 1, 1, with(goodRequest(), "Sec-WebSocket-Version", "8"), nil, ErrBadVersion, 426},
		{"foreign origin", "GET", 1, 1, with(goodRequest(), "Origin", "https://evil.example"), origins, ErrOriginNotAllowed, 403},
		{"no protocol offered", "GET", 1, 1, goodRequest(), protocols, ErrNoProtocol, 400},
		{"other protocol offered", "GET", 1, 1, with(goodRequest(), "Sec-WebSocket-Protocol", "mqtt, rtd.v3"), protocols, ErrNoProtocol, 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := CheckUpgrade([]byte(tc.method), tc.major, tc.minor, tc.h, tc.o)
			var he *HandshakeError
			if !errors.As(err, &he) || he != tc.want || he.Status != tc.status {
				t.Fatalf("got %v, want %v (status %d)", err, tc.want, tc.status)
			}
		})
	}
}

func TestCheckUpgradeAccepts(t *testing.T) {
	tests := []struct {
		name string
		h    headers
		o    *UpgradeOptions
		want Upgrade
	}{
		{"plain", goodRequest(), nil, Upgrade{}},
		{"token lists and case", with(goodRequest(), "Upgrade", "foo, WebSocket", "Connection", "keep-alive,\tUPGRADE"), nil, Upgrade{}},
		{"HTTP version and key whitespace", with(goodRequest(), "Sec-WebSocket-Key", " dGhlIHNhbXBsZSBub25jZQ== "), nil, Upgrade{}},
		{"no origin with allow-list", goodRequest(), &UpgradeOptions{Origins: []string{"https://a.example"}}, Upgrade{}},
		{"allowed origin", with(goodRequest(), "Origin", "HTTPS://A.example"), &UpgradeOptions{Origins: []string{"https://b.example", "https://a.example"}}, Upgrade{}},
		{"any origin", with(goodRequest(), "Origin", "https://x.example"), &UpgradeOptions{Origins: []string{"*"}}, Upgrade{}},
		{"server preference wins", with(goodRequest(), "Sec-WebSocket-Protocol", "rtd.v1, rtd.v2"),
			&UpgradeOptions{Protocols: []string{"rtd.v2", "rtd.v1"}}, Upgrade{Protocol: "rtd.v2"}},
		{"only common protocol", with(goodRequest(), "Sec-WebSocket-Protocol", "mqtt,rtd.v1"),
			&UpgradeOptions{Protocols: []string{"rtd.v2", "rtd.v1"}}, Upgrade{Protocol: "rtd.v1"}},
		{"protocol offered but none configured", with(goodRequest(), "Sec-WebSocket-Protocol", "mqtt"), nil, Upgrade{}},
		{"deflate", with(goodRequest(), "Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits"),
			&UpgradeOptions{Compression: true}, Upgrade{Deflate: true}},
		{"deflate not enabled", with(goodRequest(), "Sec-WebSocket-Extensions", "permessage-deflate"), nil, Upgrade{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u, err := CheckUpgrade([]byte("GET"), 1, 1, tc.h, tc.o)
			if err != nil || u != tc.want {
				t.Fatalf("got %+v, %v; want %+v", u, err, tc.want)
			}
		})
	}
	if _, err := CheckUpgrade([]byte("GET"), 2, 0, goodRequest(), nil); err != nil {
		t.Fatalf("HTTP/2.0 version numbers: %v", err)
	}
}

func TestDeflateNegotiation(t *testing.T) {
	tests := []struct {
		header string
		want   bool
	}{
		{"permessage-deflate", true},
		{"PerMessage-Deflate", true},
		{"permessage-deflate; client_max_window_bits", true},
		{"permessage-deflate; client_max_window_bits=10", true},
		{`permessage-deflate; client_max_window_bits="12"`, true},
		{"permessage-deflate; server_max_window_bits=15", true},
		{"permessage-deflate;server_no_context_takeover;client_no_context_takeover", true},
		{"permessage-deflate; server_max_window_bits=10", false},
		{"permessage-deflate; server_max_window_bits=10, permessage-deflate; client_max_window_bits", true},
		{"x-webkit-deflate-frame, permessage-deflate", true},
		{"permessage-deflate; server_max_window_bits", false},
		{"permessage-deflate; server_max_window_bits=16", false},
		{"permessage-deflate; server_max_window_bits=015", false},
		{"permessage-deflate; client_max_window_bits=7", false},
		{"permessage-deflate; client_max_window_bits; client_max_window_bits", false},
		{"permessage-deflate; server_no_context_takeover; server_no_context_takeover", false},
		{"permessage-deflate; server_no_context_takeover=1", false},
		{"permessage-deflate; unknown_param", false},
		{"permessage-deflate; unknown_param, permessage-deflate", true},
		{`permessage-deflate; client_max_window_bits="1\5"`, false},
		{`permessage-deflate; client_max_window_bits="15`, false},
		{"permessage-deflate x", false},
		{"permessage-deflate;", false},
		{", ,permessage-deflate", true},
		{"", false},
		{"deflate-stream", false},
	}
	for _, tc := range tests {
		if got := acceptDeflate([]byte(tc.header)); got != tc.want {
			t.Errorf("%q: got %v, want %v", tc.header, got, tc.want)
		}
	}
}

func TestAcceptKey(t *testing.T) {
	// RFC 6455 §1.3.
	got := AppendAcceptKey([]byte("x"), []byte("dGhlIHNhbXBsZSBub25jZQ=="))
	if string(got) != "xs3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf("got %q", got)
	}
	// Keys of other lengths (never accepted) still hash correctly (value from Python hashlib).
	if got := AppendAcceptKey(nil, []byte("abc")); string(got) != "zwKd5BnoWxQ6GxTxxSmBSHGHX9M=" {
		t.Fatalf("short key: got %q", got)
	}
	dst := make([]byte, 0, 64)
	key := []byte("dGhlIHNhbXBsZSBub25jZQ==")
	if a := testing.AllocsPerRun(100, func() { dst = AppendAcceptKey(dst[:0], key) }); a != 0 {
		t.Fatalf("AppendAcceptKey allocates %.1f times", a)
	}
}

func TestAppendUpgradeResponse(t *testing.T) {
	key := []byte("dGhlIHNhbXBsZSBub25jZQ==")
	got := string(AppendUpgradeResponse(nil, key, &Upgrade{Protocol: "rtd.v1", Deflate: true}))
	want := "HTTP/1.1 101 Switching Protocols\r\n" +
		"Upgrade: websocket\r\n" +
		"Connection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" +
		"Sec-WebSocket-Protocol: rtd.v1\r\n" +
		"Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover\r\n" +
		"\r\n"
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	plain := string(AppendUpgradeResponse(nil, key, &Upgrade{}))
	if strings.Contains(plain, "Sec-WebSocket-Protocol") || strings.Contains(plain, "Sec-WebSocket-Extensions") || !strings.HasSuffix(plain, "=\r\n\r\n") {
		t.Fatalf("plain response:\n%s", plain)
	}
}

func TestAppendHandshakeRejection(t *testing.T) {
	tests := []struct {
		err        error
		statusLine string
		extra      string
	}{
		{ErrBadVersion, "HTTP/1.1 426 Upgrade Required\r\n", "Sec-WebSocket-Version: 13\r\n"},
		{ErrBadMethod, "HTTP/1.1 405 Method Not Allowed\r\n", "Allow: GET\r\n"},
		{ErrOriginNotAllowed, "HTTP/1.1 403 Forbidden\r\n", ""},
		{ErrBadHTTPVersion, "HTTP/1.1 505 HTTP Version Not Supported\r\n", ""},
		{ErrBadKey, "HTTP/1.1 400 Bad Request\r\n", ""},
		{errors.New("other"), "HTTP/1.1 400 Bad Request\r\n", ""},
	}
	for _, tc := range tests {
		resp := AppendHandshakeRejection(nil, tc.err)
		head, body, ok := bytes.Cut(resp, []byte("\r\n\r\n"))
		if !ok || !bytes.HasPrefix(resp, []byte(tc.statusLine)) ||
			!bytes.Contains(head, []byte("\r\nConnection: close")) ||
			!bytes.Contains(append(head, "\r\n"...), []byte(tc.extra)) {
			t.Fatalf("%v:\n%s", tc.err, resp)
		}
		if cl := "Content-Length: " + strconv.Itoa(len(body)) + "\r\n"; !bytes.Contains(append(head, "\r\n"...), []byte(cl)) {
			t.Fatalf("%v: body of %d bytes, head:\n%s", tc.err, len(body), head)
		}
		if tc.extra == "" && (bytes.Contains(head, []byte("Sec-WebSocket-Version")) || bytes.Contains(head, []byte("Allow"))) {
			t.Fatalf("%v: unexpected header:\n%s", tc.err, head)
		}
	}
}

func TestCheckUpgradeAllocs(t *testing.T) {
	h := byteHeaders{}
	for k, v := range with(goodRequest(), "Origin", "https://a.example", "Sec-WebSocket-Protocol", "x, rtd.v1",
		"Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits") {
		h[k] = []byte(v)
	}
	o := &UpgradeOptions{Origins: []string{"https://a.example"}, Protocols: []string{"rtd.v1"}, Compression: true}
	dst := make([]byte, 0, 512)
	allocs := testing.AllocsPerRun(100, func() {
		u, err := CheckUpgrade([]byte("GET"), 1, 1, h, o)
		if err != nil || u.Protocol != "rtd.v1" || !u.Deflate {
			t.Fatalf("%+v %v", u, err)
		}
		dst = AppendUpgradeResponse(dst[:0], h.Header("Sec-WebSocket-Key"), &u)
	})
	if allocs != 0 {
		t.Fatalf("upgrade allocates %.1f times", allocs)
	}
}
