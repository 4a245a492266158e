// Package auth verifies the JWT connection tokens that clients present to
// rtd's /ws and /sse endpoints, and answers what a verified token allows.
//
// A token is a JWT (RFC 7519) signed with HS256 (a shared secret) or with
// RS256/ES256 (the issuer's private key; rtd holds the public key as PEM or
// as a JWKS file). Only the algorithms for which a key is configured are
// accepted, so "alg":"none" and algorithm confusion (an HS256 token whose
// "secret" is the RSA public key) are refused. exp and nbf are enforced with
// an optional leeway.
//
// Claims rtd reads:
//
//	sub       the user ID (required)
//	channels  channels the user may subscribe to
//	publish   channels the user may publish on
//	exp       expiry; the daemon also closes connections whose token expires
//	info      optional JSON shown to others in presence
//
// A channel pattern is an exact channel name or a prefix pattern ending in
// "*": "chat:*" allows "chat:42" but not "chat" or "chatx:1" (see Match). The
// channel "user:" + sub is always the user's own to subscribe to.
//
// Verify never puts the token, or any part of it, into an error; the errors
// are ErrExpired or ErrInvalidToken wrapped with a fixed reason.
package auth
