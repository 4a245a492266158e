package auth

import (
	"errors"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// FuzzVerify feeds client-controlled tokens to a verifier: it must never
// panic, must answer exactly one of claims or an error, must accept only a
// token signed with the secret, and must not quote the token in the error.
func FuzzVerify(f *testing.F) {
	good := func(c jwt.MapClaims) string {
		s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(secret)
		if err != nil {
			f.Fatal(err)
		}
		return s
	}
	f.Add(good(jwt.MapClaims{"sub": "ann", "channels": []string{"chat:*"}}))
	f.Add(good(jwt.MapClaims{"sub": "ann", "exp": now.Add(-1).Unix()}))
	f.Add(good(jwt.MapClaims{"sub": ""}))
	f.Add(algNone(`{"sub":"ann"}`))
	f.Add("eyJhbGciOiJIUzI1NiJ9.e30.")
	f.Add("..")
	f.Add("a.b.c.d")
	v, err := NewVerifier(Options{Secret: secret, Now: clock})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, token string) {
		c, err := v.Verify(token)
		if (c == nil) == (err == nil) {
			t.Fatalf("claims %v and err %v", c, err)
		}
		if err != nil {
			if !errors.Is(err, ErrInvalidToken) && !errors.Is(err, ErrExpired) {
				t.Fatalf("unexpected error %v", err)
			}
			if len(token) > 8 && strings.Contains(err.Error(), token) {
				t.Fatal("error quotes the token")
			}
			return
		}
		// Accepted: it must really carry an HS256 signature by secret.
		if _, perr := jwt.Parse(token, func(*jwt.Token) (any, error) { return secret, nil },
			jwt.WithValidMethods([]string{"HS256"}), jwt.WithTimeFunc(clock)); perr != nil || c.User == "" {
			t.Fatalf("accepted %q: %v", token, perr)
		}
	})
}

// FuzzKeyFile feeds arbitrary key files to the PEM and JWKS readers: errors
// are fine, panics and keys of an unsupported kind are not.
func FuzzKeyFile(f *testing.F) {
	f.Add([]byte(`{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}]}`))
	f.Add([]byte("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"))
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, parse := range []func([]byte) ([]publicKey, error){parseJWKS, parsePEM} {
			keys, err := parse(data)
			if err == nil && len(keys) == 0 {
				t.Fatal("no error and no keys")
			}
			for _, k := range keys {
				if _, err := classify(k.key); err != nil || (k.alg != algRS256 && k.alg != algES256) {
					t.Fatalf("key %+v: %v", k, err)
				}
			}
		}
	})
}
