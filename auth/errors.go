package auth

import "errors"

var (
	// ErrNoKey is returned by NewVerifier when Options names neither a secret
	// nor a public key file: there is nothing to verify a token with.
	ErrNoKey = errors.New("auth: no verification key configured")
	// ErrKeyFile is returned by NewVerifier, wrapped with the reason, when the
	// public key file cannot be read or holds no usable key.
	ErrKeyFile = errors.New("auth: bad public key file")
	// ErrInvalidToken is returned by Verify, wrapped with the reason, for a
	// token that is malformed, unsigned, signed with an algorithm or key that
	// is not configured, not yet valid, for another audience or issuer (when
	// Options names them), or missing its subject. The reason
	// never quotes the token.
	ErrInvalidToken = errors.New("auth: invalid token")
	// ErrExpired is returned by Verify for a well-signed token whose exp has
	// passed (beyond Options.Leeway). It is distinct from ErrInvalidToken so
	// that a client can be told to fetch a new token rather than give up.
	ErrExpired = errors.New("auth: token expired")
)

// Reasons Verify gives, wrapped in ErrInvalidToken. They are fixed words, so
// nothing a client sent ends up in a log line.
var (
	errAlgorithm     = errors.New("algorithm not accepted")
	errSignature     = errors.New("signature does not verify")
	errMalformed     = errors.New("malformed token")
	errNotYetValid   = errors.New("not valid yet (nbf)")
	errAudience      = errors.New("aud does not name this service")
	errIssuer        = errors.New("iss is not the configured issuer")
	errAudIssMissing = errors.New("aud or iss missing")
	errBadClaims     = errors.New("invalid registered claims")
	errNoSubject     = errors.New("missing sub")
	errUnknownKID    = errors.New("no key with the token's kid")
	errBadKIDHeader  = errors.New("kid header is not a string")
)
