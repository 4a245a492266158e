package auth

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"strings"
)

// Algorithms Verify accepts. Each is accepted only when a key for it is
// configured; every other alg, "none" included, is refused.
const (
	algHS256 = "HS256"
	algRS256 = "RS256"
	algES256 = "ES256"
)

// minRSABits refuses RSA keys that can be factored (or soon can); Go's own
// verifier already fails below 1024 bits, at every token instead of at start.
const minRSABits = 2048

// publicKey is one verification key from the public key file.
type publicKey struct {
	kid string // "" for PEM keys and JWKs without one: such a key answers any kid
	alg string // algRS256 or algES256, fixed by the key's type
	key any    // *rsa.PublicKey or *ecdsa.PublicKey on P-256
}

// loadKeyFile reads a PEM file (public keys or certificates, one or more
// blocks) or a JWKS document ({"keys":[…]}, told apart by its leading "{").
func loadKeyFile(path string) ([]publicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKeyFile, err)
	}
	var keys []publicKey
	if trimmed := bytes.TrimSpace(data); len(trimmed) > 0 && trimmed[0] == '{' {
		keys, err = parseJWKS(trimmed)
	} else {
		keys, err = parsePEM(data)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrKeyFile, path, err)
	}
	return keys, nil
}

// parsePEM takes every PUBLIC KEY, RSA PUBLIC KEY and CERTIFICATE block. A
// private key is refused rather than reduced to its public half: the fan-out
// tier has no business holding the issuer's signing key.
func parsePEM(data []byte) ([]publicKey, error) {
	var keys []publicKey
	for n := 1; ; n++ {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		var pub any
		var err error
		switch block.Type {
		case "PUBLIC KEY":
			pub, err = x509.ParsePKIXPublicKey(block.Bytes)
		case "RSA PUBLIC KEY":
			pub, err = x509.ParsePKCS1PublicKey(block.Bytes)
		case "CERTIFICATE":
			var cert *x509.Certificate
			if cert, err = x509.ParseCertificate(block.Bytes); err == nil {
				pub = cert.PublicKey
			}
		default:
			if strings.Contains(block.Type, "PRIVATE KEY") {
				return nil, fmt.Errorf("PEM block %d is a private key; give the public key", n)
			}
			return nil, fmt.Errorf("PEM block %d: unsupported type %q", n, block.Type)
		}
		if err != nil {
			return nil, fmt.Errorf("PEM block %d: %w", n, err)
		}
		k, err := classify(pub)
		if err != nil {
			return nil, fmt.Errorf("PEM block %d: %w", n, err)
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, errors.New("no PEM block found")
	}
	return keys, nil
}

// classify fixes the algorithm a public key verifies.
func classify(pub any) (publicKey, error) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < minRSABits {
			return publicKey{}, fmt.Errorf("RSA key of %d bits: at least %d needed", k.N.BitLen(), minRSABits)
		}
		return publicKey{alg: algRS256, key: k}, nil
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return publicKey{}, fmt.Errorf("EC key on %s: only P-256 (ES256) is supported", k.Curve.Params().Name)
		}
		return publicKey{alg: algES256, key: k}, nil
	}
	return publicKey{}, fmt.Errorf("unsupported key type %T: only RSA (RS256) and EC P-256 (ES256)", pub)
}

// jwk holds the members of an RFC 7517 key that RS256 and ES256 need.
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	N   string `json:"n"`
	E   string `json:"e"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
}

// parseJWKS takes the RSA and P-256 signing keys of a JWK set. Keys an
// identity provider publishes for other purposes (encryption keys, other
// curves or algorithms) are passed over, so its JWKS can be used as it is;
// a key that claims to be usable but does not decode is an error.
func parseJWKS(data []byte) ([]publicKey, error) {
	var set struct {
		Keys []jwk `json:"keys"`
	}
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("JWKS: %w", err)
	}
	var keys []publicKey
	kids := make(map[string]bool)
	for i, j := range set.Keys {
		if !usable(j) {
			continue
		}
		k, err := decodeJWK(j)
		if err != nil {
			return nil, fmt.Errorf("JWKS key %d: %w", i, err)
		}
		if j.Kid != "" {
			if kids[j.Kid] {
				return nil, fmt.Errorf("JWKS key %d: duplicate kid %q", i, j.Kid)
			}
			kids[j.Kid] = true
		}
		k.kid = j.Kid
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, errors.New("JWKS holds no RS256 or ES256 signing key")
	}
	return keys, nil
}

func usable(j jwk) bool {
	if j.Use != "" && j.Use != "sig" {
		return false
	}
	switch j.Kty {
	case "RSA":
		return j.Alg == "" || j.Alg == algRS256
	case "EC":
		return j.Crv == "P-256" && (j.Alg == "" || j.Alg == algES256)
	}
	return false
}

func decodeJWK(j jwk) (publicKey, error) {
	if j.Kty == "EC" {
		x, errX := decodeB64(j.X)
		y, errY := decodeB64(j.Y)
		if err := errors.Join(errX, errY); err != nil {
			return publicKey{}, err
		}
		if len(x) != 32 || len(y) != 32 {
			return publicKey{}, errors.New("P-256 coordinates must be 32 bytes")
		}
		point := append(append([]byte{4}, x...), y...)
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), point)
		if err != nil {
			return publicKey{}, err
		}
		return classify(pub)
	}
	n, errN := decodeB64(j.N)
	e, errE := decodeB64(j.E)
	if err := errors.Join(errN, errE); err != nil {
		return publicKey{}, err
	}
	if len(n) == 0 || len(e) == 0 || len(e) > 4 {
		return publicKey{}, errors.New("RSA key needs n and a 1–4 byte e")
	}
	exp := new(big.Int).SetBytes(e).Int64()
	if exp < 3 || exp%2 == 0 {
		return publicKey{}, errors.New("RSA exponent must be odd and at least 3")
	}
	return classify(&rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(exp)})
}

// decodeB64 reads base64url without padding (RFC 7515 §2), tolerating the
// padding some generators add anyway.
func decodeB64(s string) ([]byte, error) {
	if s == "" {
		return nil, errors.New("missing key member")
	}
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}
