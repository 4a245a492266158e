package http1

import (
	"strings"
	"testing"
)

func TestQuery(t *testing.T) {
	var r Request
	in := "GET /s?q=a+b%20c%2B&empty=&flag&&%6Eame=%zz%4&dup=1&dup=2&u=%C3%A9 HTTP/1.1\r\nHost: x\r\n\r\n"
	if _, err := Parse([]byte(in), &r, nil); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, want string
		ok         bool
	}{
		{"q", "a b c+", true},
		{"empty", "", true},
		{"flag", "", true},
		{"name", "%zz%4", true}, // encoded name matched; invalid escapes kept as sent
		{"dup", "1", true},
		{"u", "\u00e9", true},
		{"missing", "", false},
		{"fla", "", false},
		{"", "", false},
	} {
		v, ok := r.Query(c.name, []byte("prefix:"))
		if ok != c.ok || string(v) != "prefix:"+c.want {
			t.Errorf("Query(%q) = %q, %v; want %q, %v", c.name, v, ok, "prefix:"+c.want, c.ok)
		}
	}

	var visited []string
	r.VisitQuery(func(name, value []byte) { visited = append(visited, string(name)+"="+string(value)) })
	want := "q=a+b%20c%2B empty= flag= %6Eame=%zz%4 dup=1 dup=2 u=%C3%A9"
	if got := strings.Join(visited, " "); got != want {
		t.Errorf("VisitQuery: %q; want %q", got, want)
	}
}

func TestHeaderAccessors(t *testing.T) {
	var r Request
	if _, err := Parse([]byte(upgradeGET), &r, nil); err != nil {
		t.Fatal(err)
	}
	if got := string(r.Header("sec-websocket-key")); got != "dGhlIHNhbXBsZSBub25jZQ==" {
		t.Errorf("Header = %q", got)
	}
	for _, c := range []struct {
		name, token string
		want        bool
	}{
		{"Connection", "upgrade", true},
		{"connection", "UPGRADE", true},
		{"Upgrade", "websocket", true},
		{"Upgrade", "websock", false},
		{"Accept-Encoding", "br", true},
		{"Accept-Encoding", "zstd", true},
		{"Accept-Encoding", "gzip, deflate", false},
		{"Sec-WebSocket-Extensions", "permessage-deflate", false}, // parameters are part of the element
		{"Missing", "x", false},
	} {
		if got := r.HasToken(c.name, c.token); got != c.want {
			t.Errorf("HasToken(%q, %q) = %v; want %v", c.name, c.token, got, c.want)
		}
	}
	var names []string
	r.VisitHeaders(func(name, value []byte) { names = append(names, string(name)) })
	if len(names) != 12 || names[0] != "Host" || names[11] != "Sec-WebSocket-Extensions" {
		t.Errorf("VisitHeaders visited %q", names)
	}
	r.Reset()
	if r.Header("Host") != nil || r.Method != nil || r.ContentLength != -1 {
		t.Errorf("Reset left %s", describe(&r))
	}
}

func TestEqualFold(t *testing.T) {
	for _, c := range []struct {
		b, s string
		want bool
	}{
		{"Content-Length", "content-length", true},
		{"CONTENT-LENGTH", "Content-Length", true},
		{"content-lengtH", "content-length", true},
		{"content_length", "content-length", false},
		{"[", "{", false}, // differ only in bit 0x20 but are not letters
		{"@", "`", false},
		{"ab", "abc", false},
	} {
		if got := equalFold([]byte(c.b), c.s); got != c.want {
			t.Errorf("equalFold(%q, %q) = %v", c.b, c.s, got)
		}
	}
}

// TestIndexCTL checks the word-at-a-time scan against the byte-at-a-time rule for every byte
// value at every position of a word and its tail.
func TestIndexCTL(t *testing.T) {
	for n := 1; n <= 19; n++ {
		for pos := 0; pos < n; pos++ {
			for c := 0; c < 256; c++ {
				b := []byte(strings.Repeat("a", n))
				b[pos] = byte(c)
				want := -1
				if isCTL(byte(c)) {
					want = pos
				}
				if got := indexCTL(b); got != want {
					t.Fatalf("indexCTL(%q) = %d; want %d", b, got, want)
				}
				if got, want := validTarget(b), c > ' ' && c != 0x7f; got != want {
					t.Fatalf("validTarget(%q) = %v; want %v", b, got, want)
				}
			}
		}
	}
}
