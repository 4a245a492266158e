package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Options configure a Verifier. The zero value holds no key, and NewVerifier
// refuses it with ErrNoKey: a deployment without keys runs anonymous and
// needs no Verifier at all.
type Options struct {
	// Secret is the HS256 key. Use at least 32 random bytes; a short secret
	// can be brute-forced from any token a client holds.
	Secret []byte
	// PublicKeyFile holds the RS256/ES256 verification keys: PEM (PUBLIC KEY,
	// RSA PUBLIC KEY or CERTIFICATE blocks, one or more) or a JWKS document
	// ({"keys":[…]}). A token's kid picks the key with that kid; a key
	// without a kid (every PEM key) answers any kid, and a token without a
	// kid is tried against every key of its algorithm. The file is read once,
	// by NewVerifier.
	PublicKeyFile string
	// Audience, when set, must be one of the token's aud values: a token
	// minted for another service by the same issuer (or with the same key)
	// is refused. Empty: aud is not checked.
	Audience string
	// Issuer, when set, must be the token's iss. Empty: iss is not checked.
	Issuer string
	// Leeway is the clock skew allowed on exp and nbf. Default 0.
	Leeway time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Verifier checks connection tokens. It is immutable once made and safe for
// concurrent use.
type Verifier struct {
	parser *jwt.Parser
	secret []byte
	keys   []publicKey
}

// NewVerifier makes a Verifier that accepts HS256 when Options.Secret is set,
// RS256 when the key file holds an RSA key and ES256 when it holds a P-256
// key, and nothing else.
func NewVerifier(o Options) (*Verifier, error) {
	if len(o.Secret) == 0 && o.PublicKeyFile == "" {
		return nil, ErrNoKey
	}
	v := &Verifier{secret: o.Secret}
	var algs []string
	if len(o.Secret) > 0 {
		algs = append(algs, algHS256)
	}
	if o.PublicKeyFile != "" {
		keys, err := loadKeyFile(o.PublicKeyFile)
		if err != nil {
			return nil, err
		}
		v.keys = keys
		for _, alg := range []string{algRS256, algES256} {
			for _, k := range keys {
				if k.alg == alg {
					algs = append(algs, alg)
					break
				}
			}
		}
	}
	popts := []jwt.ParserOption{jwt.WithValidMethods(algs), jwt.WithLeeway(max(o.Leeway, 0))}
	if o.Audience != "" {
		popts = append(popts, jwt.WithAudience(o.Audience))
	}
	if o.Issuer != "" {
		popts = append(popts, jwt.WithIssuer(o.Issuer))
	}
	if o.Now != nil {
		popts = append(popts, jwt.WithTimeFunc(o.Now))
	}
	v.parser = jwt.NewParser(popts...)
	return v, nil
}

// tokenClaims is the JSON shape of a connection token's payload.
type tokenClaims struct {
	jwt.RegisteredClaims
	Channels []string        `json:"channels"`
	Publish  []string        `json:"publish"`
	Info     json.RawMessage `json:"info"`
}

// Verify checks token's algorithm, signature, exp and nbf (and aud and iss
// when Options names them) and returns its claims. It answers ErrExpired for an expired but otherwise good token and
// ErrInvalidToken, wrapped with the reason, for everything else.
func (v *Verifier) Verify(token string) (*Claims, error) {
	var tc tokenClaims
	keyLooked := false
	_, err := v.parser.ParseWithClaims(token, &tc, func(t *jwt.Token) (any, error) {
		keyLooked = true
		return v.key(t)
	})
	if err != nil {
		return nil, verifyError(err, keyLooked)
	}
	if tc.Subject == "" {
		return nil, fmt.Errorf("%w: %w", ErrInvalidToken, errNoSubject)
	}
	c := &Claims{User: tc.Subject, Channels: tc.Channels, Publish: tc.Publish}
	if tc.ExpiresAt != nil {
		c.Expires = tc.ExpiresAt.Time
	}
	if len(tc.Info) > 0 && string(tc.Info) != "null" {
		c.Info = tc.Info
	}
	return c, nil
}

// key picks the verification key for t; the parser has already refused any
// algorithm that is not configured, so HS256 here means a secret is set.
func (v *Verifier) key(t *jwt.Token) (any, error) {
	alg := t.Method.Alg()
	if alg == algHS256 {
		return v.secret, nil
	}
	var kid string
	if raw, ok := t.Header["kid"]; ok {
		if kid, ok = raw.(string); !ok {
			return nil, errBadKIDHeader
		}
	}
	var set jwt.VerificationKeySet
	for _, k := range v.keys {
		if k.alg == alg && (kid == "" || k.kid == "" || k.kid == kid) {
			set.Keys = append(set.Keys, k.key)
		}
	}
	if len(set.Keys) == 0 {
		return nil, errUnknownKID
	}
	return set, nil
}

// verifyError turns the parser's error into ours. keyLooked tells a refused
// algorithm (the parser stops before asking for a key) from a bad signature.
func verifyError(err error, keyLooked bool) error {
	var reason error
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return ErrExpired
	case errors.Is(err, jwt.ErrTokenMalformed):
		reason = errMalformed
	case errors.Is(err, errUnknownKID):
		reason = errUnknownKID
	case errors.Is(err, errBadKIDHeader):
		reason = errBadKIDHeader
	case !keyLooked:
		reason = errAlgorithm
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		reason = errSignature
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		reason = errNotYetValid
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		reason = errAudience
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		reason = errIssuer
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		// Only aud and iss are ever required, and only when configured.
		reason = errAudIssMissing
	default:
		reason = errBadClaims
	}
	return fmt.Errorf("%w: %w", ErrInvalidToken, reason)
}
