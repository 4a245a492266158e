package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// now is the fixed clock every test verifier runs on.
var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func clock() time.Time { return now }

var secret = []byte("0123456789abcdef0123456789abcdef")

// Test keys are made once: RSA generation is the slow part of this package's tests.
var (
	keysOnce           sync.Once
	rsaKey, rsaKey2    *rsa.PrivateKey
	ecKey              *ecdsa.PrivateKey
	ecKeyP384          *ecdsa.PrivateKey
	rsaKey1024         *rsa.PrivateKey
	errKeysUnavailable error
)

func testKeys(t testing.TB) {
	t.Helper()
	keysOnce.Do(func() {
		var errs [5]error
		rsaKey, errs[0] = rsa.GenerateKey(rand.Reader, 2048)
		rsaKey2, errs[1] = rsa.GenerateKey(rand.Reader, 2048)
		ecKey, errs[2] = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		ecKeyP384, errs[3] = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		rsaKey1024, errs[4] = rsa.GenerateKey(rand.Reader, 1024)
		errKeysUnavailable = errors.Join(errs[:]...)
	})
	if errKeysUnavailable != nil {
		t.Fatal(errKeysUnavailable)
	}
}

// claims builds a payload valid at now for one hour.
func claims(sub string, extra map[string]any) jwt.MapClaims {
	c := jwt.MapClaims{"exp": now.Add(time.Hour).Unix()}
	if sub != "" {
		c["sub"] = sub
	}
	for k, v := range extra {
		c[k] = v
	}
	return c
}

func sign(t testing.TB, method jwt.SigningMethod, key any, kid string, c jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func pemPublic(t testing.TB, pub any) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

func writeFile(t testing.TB, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func rsaJWK(kid string, k *rsa.PublicKey) map[string]any {
	return map[string]any{"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
		"n": b64(k.N.Bytes()), "e": b64(big.NewInt(int64(k.E)).Bytes())}
}

func ecJWK(t *testing.T, kid string, k *ecdsa.PublicKey) map[string]any {
	t.Helper()
	raw, err := k.Bytes() // 0x04 || X || Y
	if err != nil {
		t.Fatal(err)
	}
	return map[string]any{"kty": "EC", "kid": kid, "crv": "P-256", "x": b64(raw[1:33]), "y": b64(raw[33:])}
}

func jwksFile(t *testing.T, keys ...map[string]any) string {
	t.Helper()
	data, err := json.Marshal(map[string]any{"keys": keys})
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, "jwks.json", data)
}

func verifier(t testing.TB, o Options) *Verifier {
	t.Helper()
	o.Now = clock
	v, err := NewVerifier(o)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestVerifyValidTokens(t *testing.T) {
	testKeys(t)
	extra := map[string]any{"channels": []string{"news", "chat:*"}, "publish": []string{"chat:42"}, "info": map[string]any{"name": "Ann"}}
	cases := []struct {
		name  string
		opts  Options
		token string
	}{
		{"HS256", Options{Secret: secret}, sign(t, jwt.SigningMethodHS256, secret, "", claims("ann", extra))},
		{"RS256 PEM", Options{PublicKeyFile: writeFile(t, "rsa.pem", pemPublic(t, &rsaKey.PublicKey))},
			sign(t, jwt.SigningMethodRS256, rsaKey, "", claims("ann", extra))},
		{"ES256 PEM", Options{PublicKeyFile: writeFile(t, "ec.pem", pemPublic(t, &ecKey.PublicKey))},
			sign(t, jwt.SigningMethodES256, ecKey, "", claims("ann", extra))},
		{"RS256 JWKS one key, no kid in token", Options{PublicKeyFile: jwksFile(t, rsaJWK("r1", &rsaKey.PublicKey))},
			sign(t, jwt.SigningMethodRS256, rsaKey, "", claims("ann", extra))},
		{"ES256 JWKS", Options{PublicKeyFile: jwksFile(t, ecJWK(t, "e1", &ecKey.PublicKey))},
			sign(t, jwt.SigningMethodES256, ecKey, "e1", claims("ann", extra))},
		{"HS256 beside a key file", Options{Secret: secret, PublicKeyFile: writeFile(t, "rsa.pem", pemPublic(t, &rsaKey.PublicKey))},
			sign(t, jwt.SigningMethodHS256, secret, "", claims("ann", extra))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := verifier(t, tc.opts).Verify(tc.token)
			if err != nil {
				t.Fatal(err)
			}
			if c.User != "ann" || !c.Expires.Equal(now.Add(time.Hour)) || string(c.Info) != `{"name":"Ann"}` {
				t.Fatalf("claims %+v", c)
			}
			if strings.Join(c.Channels, ",") != "news,chat:*" || strings.Join(c.Publish, ",") != "chat:42" {
				t.Fatalf("channels %q publish %q", c.Channels, c.Publish)
			}
		})
	}
}

func TestVerifyOptionalClaims(t *testing.T) {
	v := verifier(t, Options{Secret: secret})
	c, err := v.Verify(sign(t, jwt.SigningMethodHS256, secret, "", jwt.MapClaims{"sub": "bob", "info": nil}))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Expires.IsZero() || c.Info != nil || c.Channels != nil || c.Publish != nil {
		t.Fatalf("claims %+v", c)
	}
}

func TestVerifyTime(t *testing.T) {
	exp := func(d time.Duration) jwt.MapClaims { return jwt.MapClaims{"sub": "ann", "exp": now.Add(d).Unix()} }
	nbf := func(d time.Duration) jwt.MapClaims { return jwt.MapClaims{"sub": "ann", "nbf": now.Add(d).Unix()} }
	cases := []struct {
		name   string
		leeway time.Duration
		claims jwt.MapClaims
		want   error
	}{
		{"expired", 0, exp(-time.Second), ErrExpired},
		{"expired within leeway", 5 * time.Second, exp(-time.Second), nil},
		{"expired beyond leeway", 5 * time.Second, exp(-10 * time.Second), ErrExpired},
		{"not yet valid", 0, nbf(time.Minute), ErrInvalidToken},
		{"not yet valid within leeway", 2 * time.Minute, nbf(time.Minute), nil},
		{"valid from now", 0, nbf(0), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := verifier(t, Options{Secret: secret, Leeway: tc.leeway})
			_, err := v.Verify(sign(t, jwt.SigningMethodHS256, secret, "", tc.claims))
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			if errors.Is(err, ErrExpired) && errors.Is(err, ErrInvalidToken) {
				t.Fatal("ErrExpired must stay distinct from ErrInvalidToken")
			}
		})
	}
}

// algNone hand-crafts an unsigned token, as an attacker would.
func algNone(payload string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + enc([]byte(payload)) + "."
}

func TestVerifyRejects(t *testing.T) {
	testKeys(t)
	rsaPEM := pemPublic(t, &rsaKey.PublicKey)
	rsaFile := writeFile(t, "rsa.pem", rsaPEM)
	jwks := jwksFile(t, rsaJWK("r1", &rsaKey.PublicKey), rsaJWK("r2", &rsaKey2.PublicKey))
	good := claims("ann", nil)
	goodJSON, _ := json.Marshal(good)
	hs := sign(t, jwt.SigningMethodHS256, secret, "", good)
	parts := strings.Split(hs, ".")
	cases := []struct {
		name   string
		opts   Options
		token  string
		reason error
	}{
		{"wrong HS256 secret", Options{Secret: secret},
			sign(t, jwt.SigningMethodHS256, []byte("another secret of enough length!"), "", good), errSignature},
		{"tampered payload", Options{Secret: secret},
			parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"root"}`)) + "." + parts[2], errSignature},
		{"RS256 by another key", Options{PublicKeyFile: rsaFile},
			sign(t, jwt.SigningMethodRS256, rsaKey2, "", good), errSignature},
		{"alg none", Options{Secret: secret}, algNone(string(goodJSON)), errAlgorithm},
		{"alg none with key file", Options{PublicKeyFile: rsaFile}, algNone(string(goodJSON)), errAlgorithm},
		{"alg confusion, no secret configured", Options{PublicKeyFile: rsaFile},
			sign(t, jwt.SigningMethodHS256, rsaPEM, "", good), errAlgorithm},
		{"alg confusion beside a secret", Options{Secret: secret, PublicKeyFile: rsaFile},
			sign(t, jwt.SigningMethodHS256, rsaPEM, "", good), errSignature},
		{"RS256 when only a secret is set", Options{Secret: secret},
			sign(t, jwt.SigningMethodRS256, rsaKey, "", good), errAlgorithm},
		{"ES256 when only RSA keys are set", Options{PublicKeyFile: rsaFile},
			sign(t, jwt.SigningMethodES256, ecKey, "", good), errAlgorithm},
		{"HS384 never", Options{Secret: secret}, sign(t, jwt.SigningMethodHS384, secret, "", good), errAlgorithm},
		{"RS512 never", Options{PublicKeyFile: rsaFile}, sign(t, jwt.SigningMethodRS512, rsaKey, "", good), errAlgorithm},
		{"unknown kid", Options{PublicKeyFile: jwks}, sign(t, jwt.SigningMethodRS256, rsaKey, "r9", good), errUnknownKID},
		{"kid of another key", Options{PublicKeyFile: jwks}, sign(t, jwt.SigningMethodRS256, rsaKey, "r2", good), errSignature},
		{"missing sub", Options{Secret: secret}, sign(t, jwt.SigningMethodHS256, secret, "", claims("", nil)), errNoSubject},
		{"channels not a list", Options{Secret: secret},
			sign(t, jwt.SigningMethodHS256, secret, "", claims("ann", map[string]any{"channels": "news"})), errMalformed},
		{"garbage", Options{Secret: secret}, "not.a.jwt", errMalformed},
		{"empty", Options{Secret: secret}, "", errMalformed},
		{"two parts", Options{Secret: secret}, parts[0] + "." + parts[1], errMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := verifier(t, tc.opts).Verify(tc.token)
			if c != nil || !errors.Is(err, ErrInvalidToken) || !errors.Is(err, tc.reason) {
				t.Fatalf("claims %v err %v, want %v", c, err, tc.reason)
			}
			if tc.token != "" && strings.Contains(err.Error(), tc.token) {
				t.Fatal("error quotes the token")
			}
			for _, part := range strings.Split(tc.token, ".") {
				if len(part) > 8 && strings.Contains(err.Error(), part) {
					t.Fatalf("error %q quotes part of the token", err)
				}
			}
		})
	}
}

func TestJWKSKidSelection(t *testing.T) {
	testKeys(t)
	jwks := jwksFile(t,
		rsaJWK("r1", &rsaKey.PublicKey),
		rsaJWK("r2", &rsaKey2.PublicKey),
		ecJWK(t, "e1", &ecKey.PublicKey),
		map[string]any{"kty": "RSA", "kid": "enc", "use": "enc", "n": "AQAB", "e": "AQAB"}, // passed over
		map[string]any{"kty": "OKP", "kid": "ed", "crv": "Ed25519", "x": "AAAA"},           // passed over
	)
	v := verifier(t, Options{PublicKeyFile: jwks})
	for _, tc := range []struct {
		name   string
		method jwt.SigningMethod
		key    any
		kid    string
		ok     bool
	}{
		{"r1", jwt.SigningMethodRS256, rsaKey, "r1", true},
		{"r2", jwt.SigningMethodRS256, rsaKey2, "r2", true},
		{"e1", jwt.SigningMethodES256, ecKey, "e1", true},
		{"no kid tries every RSA key", jwt.SigningMethodRS256, rsaKey2, "", true},
		{"r1 signed by r2", jwt.SigningMethodRS256, rsaKey2, "r1", false},
		{"kid of an EC key on an RS256 token", jwt.SigningMethodRS256, rsaKey, "e1", false},
		{"kid of a passed-over key", jwt.SigningMethodRS256, rsaKey, "enc", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := v.Verify(sign(t, tc.method, tc.key, tc.kid, claims("ann", nil)))
			if tc.ok != (err == nil) || tc.ok != (c != nil) {
				t.Fatalf("claims %v err %v, want ok=%v", c, err, tc.ok)
			}
		})
	}
}

func TestPEMKeyAnswersAnyKid(t *testing.T) {
	testKeys(t)
	v := verifier(t, Options{PublicKeyFile: writeFile(t, "rsa.pem", pemPublic(t, &rsaKey.PublicKey))})
	if _, err := v.Verify(sign(t, jwt.SigningMethodRS256, rsaKey, "issuer-key-7", claims("ann", nil))); err != nil {
		t.Fatal(err)
	}
}

func TestPEMCertificateAndBundle(t *testing.T) {
	testKeys(t)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "issuer"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &ecKey.PublicKey, ecKey)
	if err != nil {
		t.Fatal(err)
	}
	bundle := append(pemPublic(t, &rsaKey.PublicKey), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	bundle = append(bundle, pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&rsaKey2.PublicKey)})...)
	v := verifier(t, Options{PublicKeyFile: writeFile(t, "bundle.pem", bundle)})
	for _, tok := range []string{
		sign(t, jwt.SigningMethodRS256, rsaKey, "", claims("ann", nil)),
		sign(t, jwt.SigningMethodRS256, rsaKey2, "", claims("ann", nil)),
		sign(t, jwt.SigningMethodES256, ecKey, "", claims("ann", nil)),
	} {
		if _, err := v.Verify(tok); err != nil {
			t.Fatal(err)
		}
	}
}

func TestNewVerifierErrors(t *testing.T) {
	testKeys(t)
	privDER, err := x509.MarshalPKCS8PrivateKey(rsaKey)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		opts Options
		want error
		text string
	}{
		{"zero value", Options{}, ErrNoKey, ""},
		{"missing file", Options{PublicKeyFile: filepath.Join(t.TempDir(), "nope.pem")}, ErrKeyFile, "no such file"},
		{"private key", Options{PublicKeyFile: writeFile(t, "k.pem", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER}))}, ErrKeyFile, "private key"},
		{"not PEM", Options{PublicKeyFile: writeFile(t, "k.pem", []byte("hello"))}, ErrKeyFile, "no PEM block"},
		{"RSA 1024", Options{PublicKeyFile: writeFile(t, "k.pem", pemPublic(t, &rsaKey1024.PublicKey))}, ErrKeyFile, "at least 2048"},
		{"P-384", Options{PublicKeyFile: writeFile(t, "k.pem", pemPublic(t, &ecKeyP384.PublicKey))}, ErrKeyFile, "P-256"},
		{"bad JWKS JSON", Options{PublicKeyFile: writeFile(t, "k.json", []byte(`{"keys":`))}, ErrKeyFile, "JWKS"},
		{"JWKS without usable keys", Options{PublicKeyFile: jwksFile(t, map[string]any{"kty": "oct", "k": "AAAA"})}, ErrKeyFile, "no RS256 or ES256"},
		{"JWKS duplicate kid", Options{PublicKeyFile: jwksFile(t, rsaJWK("a", &rsaKey.PublicKey), rsaJWK("a", &rsaKey2.PublicKey))}, ErrKeyFile, "duplicate kid"},
		{"JWKS bad base64", Options{PublicKeyFile: jwksFile(t, map[string]any{"kty": "RSA", "n": "!!", "e": "AQAB"})}, ErrKeyFile, "illegal base64"},
		{"JWKS RSA key too small", Options{PublicKeyFile: jwksFile(t, map[string]any{"kty": "RSA", "n": b64(make([]byte, 128)), "e": "AQAB"})}, ErrKeyFile, "at least 2048"},
		{"JWKS even exponent", Options{PublicKeyFile: jwksFile(t, map[string]any{"kty": "RSA", "n": "AQAB", "e": "Ag"})}, ErrKeyFile, "exponent"},
		{"JWKS EC point off the curve", Options{PublicKeyFile: jwksFile(t, map[string]any{"kty": "EC", "crv": "P-256",
			"x": b64(make([]byte, 32)), "y": b64(append(make([]byte, 31), 1))})}, ErrKeyFile, "JWKS key 0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v, err := NewVerifier(tc.opts)
			if v != nil || !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("verifier %v err %v, want %v containing %q", v, err, tc.want, tc.text)
			}
		})
	}
}

func TestVerifyConcurrent(t *testing.T) {
	v := verifier(t, Options{Secret: secret})
	tok := sign(t, jwt.SigningMethodHS256, secret, "", claims("ann", nil))
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 50 {
				if _, err := v.Verify(tok); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkVerify(b *testing.B) {
	testKeys(b)
	for _, bc := range []struct {
		name   string
		opts   Options
		method jwt.SigningMethod
		key    any
	}{
		{"HS256", Options{Secret: secret}, jwt.SigningMethodHS256, secret},
		{"RS256", Options{PublicKeyFile: writeFile(b, "rsa.pem", pemPublic(b, &rsaKey.PublicKey))}, jwt.SigningMethodRS256, rsaKey},
		{"ES256", Options{PublicKeyFile: writeFile(b, "ec.pem", pemPublic(b, &ecKey.PublicKey))}, jwt.SigningMethodES256, ecKey},
	} {
		b.Run(bc.name, func(b *testing.B) {
			v := verifier(b, bc.opts)
			tok := sign(b, bc.method, bc.key, "", claims("ann", map[string]any{"channels": []string{"news", "chat:*"}}))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestVerifyAudienceIssuer: with Options.Audience and Options.Issuer set, a
// token minted with the same key for another service or by another issuer is
// refused, and so is one that names neither; without them both are ignored.
func TestVerifyAudienceIssuer(t *testing.T) {
	strict, err := NewVerifier(Options{Secret: secret, Now: clock, Audience: "rtd", Issuer: "https://id.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	lax, err := NewVerifier(Options{Secret: secret, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	iss := "https://id.example.com"
	cases := []struct {
		name   string
		extra  map[string]any
		reason error // from strict; nil: accepted
	}{
		{"both match", map[string]any{"aud": "rtd", "iss": iss}, nil},
		{"aud among several", map[string]any{"aud": []string{"billing", "rtd"}, "iss": iss}, nil},
		{"other audience", map[string]any{"aud": "billing", "iss": iss}, errAudience},
		{"no audience", map[string]any{"iss": iss}, errAudIssMissing},
		{"other issuer", map[string]any{"aud": "rtd", "iss": "https://evil.example"}, errIssuer},
		{"no issuer", map[string]any{"aud": "rtd"}, errAudIssMissing},
	}
	for _, c := range cases {
		tok := sign(t, jwt.SigningMethodHS256, secret, "", claims("ann", c.extra))
		_, err := strict.Verify(tok)
		if c.reason == nil && err != nil || c.reason != nil && (!errors.Is(err, ErrInvalidToken) || !errors.Is(err, c.reason)) {
			t.Errorf("%s: strict Verify = %v, want %v", c.name, err, c.reason)
		}
		if _, err := lax.Verify(tok); err != nil {
			t.Errorf("%s: without Audience and Issuer, Verify = %v", c.name, err)
		}
	}
}
