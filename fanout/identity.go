package fanout

import (
	"encoding/json"
	"errors"
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
// the rtd_token cookie. It never logs or echoes the token. A refusal is a
// 401 whose JSON body says why (refusal).
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
		return nil, refusal(401, "token required", "", "no ?token=, Authorization: Bearer or rtd_token cookie, and anonymous clients are not allowed")
	}
	id, err := t.o.Verifier.Verify(tok)
	if err != nil {
		t.authFailures.Add(1)
		return nil, tokenRefusal(err)
	}
	if id.User == "" {
		t.authFailures.Add(1)
		return nil, refusal(401, "token has no subject", "", "")
	}
	return id, nil
}

// tokenRefusal is the 401 for a token Verify refused: "token expired" (the
// client should fetch a new one), or "invalid token" with auth's fixed
// reason (which never quotes the token); a verifier's other errors give no
// reason.
func tokenRefusal(err error) *server.HTTPError {
	if errors.Is(err, auth.ErrExpired) {
		return refusal(401, "token expired", "", "")
	}
	reason := ""
	if errors.Is(err, auth.ErrInvalidToken) {
		reason = strings.TrimPrefix(err.Error(), auth.ErrInvalidToken.Error()+": ")
		if reason == err.Error() {
			reason = ""
		}
	}
	return refusal(401, "invalid token", "", reason)
}

// refusal is an HTTP refusal with a JSON body {"error","channel"?,"reason"?}.
func refusal(status int, msg, channel, reason string) *server.HTTPError {
	b, _ := json.Marshal(struct {
		Error   string `json:"error"`
		Channel string `json:"channel,omitempty"`
		Reason  string `json:"reason,omitempty"`
	}{msg, channel, reason})
	return &server.HTTPError{Status: status, Message: string(b)}
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
	return t.whyNot(id, channel) == ""
}

// whyNot answers why id may not subscribe to channel (or read its presence
// and history), in words for the client, or "" when it may:
//
//   - a personal namespace's channel only for the user it names;
//   - with no Verifier every other channel;
//   - a client with a token, the channels of its channels claim;
//   - an anonymous client (AllowAnonymous), channels in no namespace (the
//     default namespace) and in namespaces marked Anonymous.
func (t *Tier) whyNot(id *Identity, channel string) string {
	ns := t.o.namespace(channel)
	if ns != nil && ns.Personal {
		prefix, _ := strings.CutSuffix(ns.Pattern, "*")
		switch {
		case id.User == "":
			return "personal channel: needs a token whose sub it names"
		case channel != prefix+id.User:
			return "personal channel of another user"
		}
		return ""
	}
	switch {
	case t.o.Verifier == nil:
		return "" // no tokens configured: the zero-config default
	case id.User != "":
		if !id.CanSubscribe(channel) {
			return "channel not in token"
		}
		return ""
	case ns == nil && t.o.AllowAnonymous, ns != nil && ns.Anonymous:
		return ""
	case ns == nil:
		return "anonymous clients not allowed"
	}
	return "anonymous not allowed in namespace " + ns.Pattern
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

// publishRefusal is the message of error 103 for a publish canPublish
// refused.
func publishRefusal(id *Identity) string {
	if id.User == "" {
		return "publish not permitted: anonymous clients publish only in client-publish namespaces"
	}
	return "publish not permitted: channel not in token's publish claim nor in a client-publish namespace"
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
