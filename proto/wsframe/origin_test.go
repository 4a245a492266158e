package wsframe

import (
	"errors"
	"strings"
	"testing"
)

// TestCrossSiteUpgradeRefusedByDefault: with no allowed origins a page of
// another site cannot open a WebSocket (it would ride on its visitors'
// cookies); a page of the server's own site and a non-browser client can.
func TestCrossSiteUpgradeRefusedByDefault(t *testing.T) {
	for _, c := range []struct {
		name   string
		h      headers
		o      *UpgradeOptions
		refuse bool
	}{
		{"other site, zero options", with(goodRequest(), "Origin", "https://evil.example"), nil, true},
		{"other site, empty list", with(goodRequest(), "Origin", "https://evil.example"), &UpgradeOptions{}, true},
		{"other port", with(goodRequest(), "Origin", "https://example.com:8443"), nil, true},
		{"same site", with(goodRequest(), "Origin", "https://EXAMPLE.com"), nil, false},
		{"same site, default port in Host", with(goodRequest(), "Origin", "https://example.com", "Host", "example.com:443"), nil, false},
		{"no Origin", goodRequest(), nil, false},
		{"other site, listed by pattern", with(goodRequest(), "Origin", "https://app.trusted.example"), &UpgradeOptions{Origins: []string{"https://*.trusted.example"}}, false},
	} {
		_, err := CheckUpgrade([]byte("GET"), 1, 1, c.h, c.o)
		if refused := errors.Is(err, ErrOriginNotAllowed); refused != c.refuse {
			t.Errorf("%s: err %v, want refused=%v", c.name, err, c.refuse)
		}
	}
}

func TestMatchOrigin(t *testing.T) {
	list := []string{"https://app.example.com", "https://*.example.org", "http://*.dev.example:8080"}
	for _, c := range []struct {
		origin, host string
		allowed      []string
		want         OriginMatch
	}{
		{"", "rtd.example", nil, OriginRefused}, // an empty Origin header is not absent
		{"null", "rtd.example", nil, OriginRefused},
		{"null", "rtd.example", list, OriginRefused},
		{"null", "rtd.example", []string{"*"}, OriginListed},
		{"https://rtd.example", "rtd.example", nil, OriginSame},
		{"http://rtd.example:80", "rtd.example", nil, OriginSame},
		{"https://rtd.example", "rtd.example:8443", nil, OriginRefused},
		{"https://rtd.example", "", nil, OriginRefused},
		{"https://APP.example.com", "rtd.example", list, OriginListed},
		{"https://app.example.com.evil", "rtd.example", list, OriginRefused},
		{"http://app.example.com", "rtd.example", list, OriginRefused},
		{"https://a.b.example.org", "rtd.example", list, OriginListed},
		{"https://example.org", "rtd.example", list, OriginRefused},
		{"https://.example.org", "rtd.example", list, OriginRefused},
		{"https://evil.com/x.example.org", "rtd.example", list, OriginRefused},
		{"https://evil.com:1@x.example.org", "rtd.example", list, OriginRefused},
		{"https://x.example.org:444", "rtd.example", list, OriginRefused},
		{"http://a.dev.example:8080", "rtd.example", list, OriginListed},
		{"http://a.dev.example", "rtd.example", list, OriginRefused},
		{"https://any.example", "rtd.example", []string{"*"}, OriginListed},
	} {
		if got := MatchOrigin([]byte(c.origin), []byte(c.host), c.allowed); got != c.want {
			t.Errorf("MatchOrigin(%q, %q, %q) = %d, want %d", c.origin, c.host, c.allowed, got, c.want)
		}
	}
	if got := MatchOrigin(nil, []byte("rtd.example"), nil); got != OriginAbsent || !got.Allowed() {
		t.Errorf("no Origin: %d", got)
	}
}

func TestCheckOrigins(t *testing.T) {
	if err := CheckOrigins([]string{"*", "https://a.example", "https://*.example.com", "http://localhost:3000"}); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"a.example", "https://a.example/", "https://", "*://a.example", "https://*.*.example", "https://a.example/path", ""} {
		err := CheckOrigins([]string{"https://ok.example", bad})
		if err == nil || !strings.Contains(err.Error(), "allowed origin") {
			t.Errorf("CheckOrigins accepted %q (%v)", bad, err)
		}
	}
}
