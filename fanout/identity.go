package fanout

import (
	"net"
	"slices"
	"strings"

	"github.com/rtd-project/rtd/auth"
	"github.com/rtd-project/rtd/server"
)

// Identity is what a connection token says about its client; anonymous
// clients have the zero Identity (no user, no claims).
type Identity = auth.Claims

// TokenVerifier checks a connection token; *auth.Verifier is one.
type TokenVerifier interface {
	Verify(token string) (*auth.Claims, error)
}

var anonymous = &Identity{}

// identify finds and verifies the request's token: ?token=, the
// Authorization header (Bearer), or, unless the route's origins include "*",
// the rtd_token cookie. It never logs or echoes the token.
//
// The browser attaches a cookie to any site's request, so with "*" (every
// site's pages admitted) a cookie would let any page act as its visitor; a
// token in the query or a header was put there by the page itself.
func (t *Tier) identify(r *server.Request, origins []string) (*Identity, error) {
	if t.o.Verifier == nil {
		return anonymous, nil
	}
	tok := tokenOf(r, !slices.Contains(origins, "*"))
	if tok == "" {
		if t.o.AllowAnonymous {
			return anonymous, nil
		}
		t.authFailures.Add(1)
		return nil, &server.HTTPError{Status: 401, Message: `{"error":"token required"}`}
	}
	id, err := t.o.Verifier.Verify(tok)
	if err != nil {
		t.authFailures.Add(1)
		return nil, &server.HTTPError{Status: 401, Message: `{"error":"invalid token"}`}
	}
	if id.User == "" {
		t.authFailures.Add(1)
		return nil, &server.HTTPError{Status: 401, Message: `{"error":"token has no subject"}`}
	}
	return id, nil
}

func tokenOf(r *server.Request, cookie bool) string {
	if v := r.Query("token"); v != "" {
		return v
	}
	if v, ok := strings.CutPrefix(r.Header("Authorization"), "Bearer "); ok {
		return strings.TrimSpace(v)
	}
	if !cookie {
		return ""
	}
	for _, part := range strings.Split(r.Header("Cookie"), ";") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(part), "rtd_token="); ok {
			return v
		}
	}
	return ""
}

// canSubscribe applies the token's claims and the namespace rules.
func (t *Tier) canSubscribe(id *Identity, channel string) bool {
	ns := t.o.namespace(channel)
	if ns != nil && ns.Personal {
		prefix, _ := strings.CutSuffix(ns.Pattern, "*")
		return id.User != "" && channel == prefix+id.User
	}
	if t.o.Verifier == nil {
		return true // no tokens configured: the zero-config default
	}
	if id.User == "" {
		return ns != nil && ns.Anonymous
	}
	return id.CanSubscribe(channel)
}

// canPublish: the token's publish claim, or a namespace that lets
// subscribers publish.
func (t *Tier) canPublish(id *Identity, channel string) bool {
	if id.User != "" && id.CanPublish(channel) {
		return true
	}
	ns := t.o.namespace(channel)
	return ns != nil && ns.ClientPublish && t.canSubscribe(id, channel)
}

// isLoopback reports whether addr ("ip:port") is on a loopback address.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
