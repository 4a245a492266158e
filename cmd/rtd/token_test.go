package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// rtdToken runs `rtd token args…` with env and answers its exit code,
// stdout and stderr.
func rtdToken(env map[string]string, args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := tokenMain(args, func(k string) string { return env[k] }, &out, &errb)
	return code, out.String(), errb.String()
}

// TestTokenMintAndCheck: rtd token signs with the secret from a flag, from
// RTD_JWT_SECRET or from the config file, and rtd token check accepts what
// it minted (claims printed) and refuses another key's, an expired token
// ("token expired", not "invalid") and garbage, exit 1 each.
func TestTokenMintAndCheck(t *testing.T) {
	file := filepath.Join(t.TempDir(), "rtd.yaml")
	os.WriteFile(file, []byte("jwt-secret: "+testSecret+"\njwt-audience: rtd\n"), 0o600)
	for name, src := range map[string]struct {
		env  map[string]string
		args []string
	}{
		"flag":   {nil, []string{"--jwt-secret", testSecret}},
		"env":    {map[string]string{"RTD_JWT_SECRET": testSecret}, nil},
		"config": {map[string]string{"RTD_CONFIG": file}, nil},
	} {
		args := append([]string{"--sub", "alice", "--channels", "news, chat:*", "--publish", "chat:*", "--ttl", "1h"}, src.args...)
		code, tok, errs := rtdToken(src.env, args...)
		if code != 0 {
			t.Fatalf("%s: rtd token: %d %s", name, code, errs)
		}
		tok = strings.TrimSpace(tok)
		code, out, errs := rtdToken(src.env, append([]string{"check", tok}, src.args...)...)
		if code != 0 || !strings.Contains(out, `valid: user "alice"`) || !strings.Contains(out, `"chat:*"`) {
			t.Errorf("%s: check: %d %q %q", name, code, out, errs)
		}
		if name == "config" && !strings.Contains(out, `"aud": "rtd"`) {
			t.Errorf("config: no aud claim from jwt-audience: %s", out)
		}
		code, out, _ = rtdToken(nil, "check", tok, "--jwt-secret", "another-secret-another-secret-12345")
		if code != 1 || !strings.Contains(out, "refused: invalid token: signature does not verify") {
			t.Errorf("%s: check with another key: %d %q", name, code, out)
		}
	}
	_, expired, _ := rtdToken(nil, "--sub", "bob", "--ttl", "-1m", "--jwt-secret", testSecret)
	if code, out, _ := rtdToken(nil, "check", strings.TrimSpace(expired), "--jwt-secret", testSecret); code != 1 || !strings.Contains(out, "refused: token expired") {
		t.Errorf("expired: %d %q", code, out)
	}
	if code, out, _ := rtdToken(nil, "check", "abc.def.ghi", "--jwt-secret", testSecret); code != 1 || !strings.Contains(out, "refused: invalid token: malformed token") {
		t.Errorf("garbage: %d %q", code, out)
	}
	if code, _, errs := rtdToken(nil, "--sub", "alice"); code != 1 || !strings.Contains(errs, "no key: give --jwt-secret") {
		t.Errorf("no key: %d %q", code, errs)
	}
	if code, _, errs := rtdToken(nil, "--jwt-secret", testSecret); code != 1 || !strings.Contains(errs, "--sub is required") {
		t.Errorf("no sub: %d %q", code, errs)
	}
	if code, _, _ := rtdToken(nil, "-h"); code != 0 {
		t.Errorf("rtd token -h: exit %d", code)
	}
}

// TestTokenES256: with --jwt-private-key (EC P-256 PEM) rtd token signs
// ES256, and check verifies with the public key file rtd serve is given.
func TestTokenES256(t *testing.T) {
	dir := t.TempDir()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	priv, _ := x509.MarshalECPrivateKey(k)
	pub, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	privFile, pubFile := filepath.Join(dir, "key.pem"), filepath.Join(dir, "pub.pem")
	os.WriteFile(privFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: priv}), 0o600)
	os.WriteFile(pubFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), 0o600)
	code, tok, errs := rtdToken(map[string]string{"RTD_JWT_PRIVATE_KEY": privFile}, "--sub", "carol", "--channels", "*")
	if code != 0 {
		t.Fatalf("rtd token: %d %s", code, errs)
	}
	if !strings.HasPrefix(tok, "eyJhbGciOiJFUzI1NiIs") { // {"alg":"ES256",
		t.Errorf("not ES256: %s", tok)
	}
	if code, out, errs := rtdToken(nil, "check", strings.TrimSpace(tok), "--jwt-public-key", pubFile); code != 0 {
		t.Errorf("check: %d %q %q", code, out, errs)
	}
}
