package wsframe

import (
	"bytes"
	"fmt"
	"strings"
)

// OriginMatch is how a request's Origin header stands against a list of
// allowed origins (MatchOrigin). Both the WebSocket handshake (CheckUpgrade)
// and rtd's SSE route decide with it, so the two transports cannot drift.
type OriginMatch uint8

const (
	// OriginAbsent: no Origin header. Only browsers send one, and the check
	// exists to stop other sites' pages, not non-browser clients (RFC 6455
	// §10.2), so the request is allowed.
	OriginAbsent OriginMatch = iota
	// OriginSame: the Origin names the host the request was sent to (its
	// Host header): a page of this server's own site. Allowed, and needs no
	// CORS headers.
	OriginSame
	// OriginListed: a cross-origin request the allowed origins name (or "*").
	// Allowed; an SSE response carries CORS headers for it.
	OriginListed
	// OriginRefused: a cross-origin request the allowed origins do not name.
	OriginRefused
)

// Allowed reports whether the request may proceed.
func (m OriginMatch) Allowed() bool { return m != OriginRefused }

// MatchOrigin checks origin (the Origin header's value, nil when absent)
// against host (the request's Host header) and allowed. Each entry of allowed
// is "*" (any origin), an origin "scheme://host[:port]" compared
// case-insensitively, or such an origin with one "*" in its host standing for
// one or more characters of a host name ("https://*.example.com" matches
// "https://a.b.example.com", not "https://example.com" nor
// "https://example.com.evil"). Empty allowed: same-origin only.
//
// Same-origin compares the Origin without its scheme with Host, a default
// port (80, 443) ignored on both sides. X-Forwarded-Host is not read: any
// client can send it, and a reverse proxy should pass the Host it was asked
// for (nginx: proxy_set_header Host $host) or name the site in allowed.
func MatchOrigin(origin, host []byte, allowed []string) OriginMatch {
	if origin == nil {
		return OriginAbsent
	}
	origin = trimOWS(origin)
	if sameOrigin(origin, trimOWS(host)) {
		return OriginSame
	}
	for _, a := range allowed {
		if a == "*" || originPattern(origin, a) {
			return OriginListed
		}
	}
	return OriginRefused
}

// CheckOrigins returns an error naming the first entry of allowed that could
// never match a browser's Origin (no scheme, a path, a stray "*"): an
// operator's typo would otherwise lock a site out, or in, silently. Call it
// when a route is configured.
func CheckOrigins(allowed []string) error {
	for _, a := range allowed {
		if a == "*" {
			continue
		}
		scheme, host, ok := strings.Cut(a, "://")
		switch {
		case !ok || scheme == "" || host == "" || strings.Contains(scheme, "*"):
			return fmt.Errorf("allowed origin %q: want scheme://host[:port] (\"https://app.example.com\"), a pattern (\"https://*.example.com\") or \"*\"", a)
		case strings.ContainsAny(host, "/?#@ "):
			return fmt.Errorf("allowed origin %q: an origin is scheme://host[:port], without a path or a trailing slash", a)
		case strings.Count(host, "*") > 1:
			return fmt.Errorf("allowed origin %q: at most one \"*\"", a)
		}
	}
	return nil
}

// sameOrigin reports whether origin ("scheme://host[:port]") names host
// ("host[:port]").
func sameOrigin(origin, host []byte) bool {
	scheme, hp, ok := bytes.Cut(origin, []byte("://"))
	if !ok || len(host) == 0 {
		return false
	}
	return bytes.EqualFold(withoutDefaultPort(scheme, hp), withoutDefaultPort(scheme, host))
}

// withoutDefaultPort drops ":80" (http, ws) or ":443" (https, wss), which
// browsers leave out of Origin and some clients put in Host.
func withoutDefaultPort(scheme, hostport []byte) []byte {
	var port string
	switch strings.ToLower(string(scheme)) {
	case "http", "ws":
		port = ":80"
	case "https", "wss":
		port = ":443"
	}
	if port != "" && bytes.HasSuffix(hostport, []byte(port)) {
		return hostport[:len(hostport)-len(port)]
	}
	return hostport
}

// originPattern matches origin against one allowed entry: exact, or with its
// "*" standing for one or more host-name characters.
func originPattern(origin []byte, pattern string) bool {
	before, after, wild := strings.Cut(pattern, "*")
	if !wild {
		return bytes.EqualFold(origin, []byte(pattern))
	}
	if !strings.Contains(before, "://") || len(origin) <= len(before)+len(after) ||
		!bytes.EqualFold(origin[:len(before)], []byte(before)) ||
		!bytes.EqualFold(origin[len(origin)-len(after):], []byte(after)) {
		return false
	}
	for _, c := range origin[len(before) : len(origin)-len(after)] {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}
