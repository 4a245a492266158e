package main

import (
	"crypto"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/rtd-project/rtd/auth"
)

const tokenUsage = `usage: rtd token --sub USER [--channels LIST] [--publish LIST] [--ttl 1h] [key flags]
       rtd token check TOKEN [key flags]

rtd token prints a connection token signed with the key rtd serve verifies:
--jwt-secret (HS256) or --jwt-private-key (RS256/ES256, PEM; serve holds the
public half in --jwt-public-key). The key flags, --jwt-audience and
--jwt-issuer are read as rtd serve reads them: flag, RTD_* variable, or the
--config file (RTD_CONFIG).

rtd token check verifies TOKEN with those settings (--jwt-secret or
--jwt-public-key) and prints its claims; it exits 1 when the token would be
refused, saying why.

flags:
`

// tokenFlags are the settings of rtd token and rtd token check.
type tokenFlags struct {
	cfg        config // the jwt-* keys, as rtd serve resolves them
	privateKey string
	sub        string
	channels   string
	publish    string
	ttl        time.Duration
	info       string
}

// tokenMain runs `rtd token …`.
func tokenMain(args []string, env func(string) string, stdout, stderr io.Writer) int {
	check := len(args) > 0 && args[0] == "check"
	if check {
		args = args[1:]
	}
	var tf tokenFlags
	fs := flag.NewFlagSet("rtd token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, tokenUsage)
		fs.PrintDefaults()
	}
	path := fs.String("config", "", "YAML config file of rtd serve, for its jwt-* keys")
	fs.StringVar(&tf.cfg.JWTSecret, "jwt-secret", "", "HS256 secret (as rtd serve --jwt-secret)")
	fs.StringVar(&tf.privateKey, "jwt-private-key", "", "RS256/ES256 private key file (PEM) to sign with")
	fs.StringVar(&tf.cfg.JWTPublicKey, "jwt-public-key", "", "RS256/ES256 public key file (PEM or JWKS) to check with")
	fs.StringVar(&tf.cfg.JWTAudience, "jwt-audience", "", "aud claim (rtd serve --jwt-audience)")
	fs.StringVar(&tf.cfg.JWTIssuer, "jwt-issuer", "", "iss claim (rtd serve --jwt-issuer)")
	if !check {
		fs.StringVar(&tf.sub, "sub", "", "the user ID (sub claim; required)")
		fs.StringVar(&tf.channels, "channels", "", "channels the user may subscribe to, comma-separated: names or prefix patterns ending in * (news,chat:*)")
		fs.StringVar(&tf.publish, "publish", "", "channels the user may publish on, same form")
		fs.DurationVar(&tf.ttl, "ttl", time.Hour, "lifetime (exp claim; 0 = never expires, negative = already expired, for tests)")
		fs.StringVar(&tf.info, "info", "", "info claim, JSON shown in presence ({\"name\":\"Alice\"})")
	}
	// Flags may follow the token: rtd token check TOKEN --jwt-secret S.
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return 0
			}
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		rest = append(rest, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if err := tf.resolve(*path, fs, env); err != nil {
		fmt.Fprintln(stderr, "rtd token:", err)
		return 1
	}
	if check {
		if len(rest) != 1 {
			fmt.Fprint(stderr, "usage: rtd token check TOKEN [key flags]\n")
			return 2
		}
		return tf.check(rest[0], stdout, stderr)
	}
	if len(rest) > 0 {
		fmt.Fprintf(stderr, "rtd token: unexpected argument %q (rtd token -h)\n", rest[0])
		return 2
	}
	tok, err := tf.mint(time.Now())
	if err != nil {
		fmt.Fprintln(stderr, "rtd token:", err)
		return 1
	}
	fmt.Fprintln(stdout, tok)
	return 0
}

// resolve fills the key settings the flags left empty from the environment
// (RTD_JWT_SECRET, RTD_JWT_PRIVATE_KEY, …) and then the config file, as rtd
// serve does: flags > env > file.
func (tf *tokenFlags) resolve(path string, fs *flag.FlagSet, env func(string) string) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if path == "" {
		path = env("RTD_CONFIG")
	}
	var file config
	if path != "" {
		if err := file.loadFile(path); err != nil {
			return err
		}
	}
	for _, k := range []struct {
		name string
		v    *string
		file string
	}{
		{"jwt-secret", &tf.cfg.JWTSecret, file.JWTSecret},
		{"jwt-private-key", &tf.privateKey, ""},
		{"jwt-public-key", &tf.cfg.JWTPublicKey, file.JWTPublicKey},
		{"jwt-audience", &tf.cfg.JWTAudience, file.JWTAudience},
		{"jwt-issuer", &tf.cfg.JWTIssuer, file.JWTIssuer},
	} {
		if set[k.name] {
			continue
		}
		if v := env(envName(k.name)); v != "" {
			*k.v = v
		} else if k.file != "" {
			*k.v = k.file
		}
	}
	return nil
}

// envName is the RTD_* variable of a flag: RTD_ and the name upper-cased,
// '-' as '_'.
func envName(flag string) string {
	return "RTD_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// list splits a comma-separated flag value, dropping empty items.
func list(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// mint signs the token's claims with the private key, or the secret.
func (tf *tokenFlags) mint(now time.Time) (string, error) {
	if tf.sub == "" {
		return "", errors.New("--sub is required: the user the token is for")
	}
	claims := jwt.MapClaims{"sub": tf.sub, "iat": now.Unix()}
	if ch := list(tf.channels); ch != nil {
		claims["channels"] = ch
	}
	if p := list(tf.publish); p != nil {
		claims["publish"] = p
	}
	if tf.ttl != 0 {
		claims["exp"] = now.Add(tf.ttl).Unix()
	}
	if tf.cfg.JWTAudience != "" {
		claims["aud"] = tf.cfg.JWTAudience
	}
	if tf.cfg.JWTIssuer != "" {
		claims["iss"] = tf.cfg.JWTIssuer
	}
	if tf.info != "" {
		if !json.Valid([]byte(tf.info)) {
			return "", errors.New("--info is not JSON")
		}
		claims["info"] = json.RawMessage(tf.info)
	}
	method, key, err := tf.signingKey()
	if err != nil {
		return "", err
	}
	return jwt.NewWithClaims(method, claims).SignedString(key)
}

// signingKey is the private key file's (RS256 or ES256 by its type) or the
// secret (HS256).
func (tf *tokenFlags) signingKey() (jwt.SigningMethod, crypto.PrivateKey, error) {
	if tf.privateKey == "" {
		if tf.cfg.JWTSecret == "" {
			return nil, nil, errors.New("no key: give --jwt-secret (or RTD_JWT_SECRET, or jwt-secret in --config) or --jwt-private-key")
		}
		return jwt.SigningMethodHS256, []byte(tf.cfg.JWTSecret), nil
	}
	pem, err := os.ReadFile(tf.privateKey)
	if err != nil {
		return nil, nil, fmt.Errorf("--jwt-private-key: %w", err)
	}
	if k, err := jwt.ParseRSAPrivateKeyFromPEM(pem); err == nil {
		return jwt.SigningMethodRS256, k, nil
	}
	if k, err := jwt.ParseECPrivateKeyFromPEM(pem); err == nil {
		if k.Curve.Params().Name != "P-256" {
			return nil, nil, fmt.Errorf("--jwt-private-key %s: EC curve %s, rtd accepts P-256 (ES256)", tf.privateKey, k.Curve.Params().Name)
		}
		return jwt.SigningMethodES256, k, nil
	}
	return nil, nil, fmt.Errorf("--jwt-private-key %s: no RSA or EC P-256 private key in PEM", tf.privateKey)
}

// check verifies tok as rtd serve would and prints its claims and the
// verdict.
func (tf *tokenFlags) check(tok string, stdout, stderr io.Writer) int {
	if payload, ok := claimsOf(tok); ok {
		fmt.Fprintln(stdout, payload)
	}
	v, err := newVerifier(&tf.cfg)
	if err != nil {
		fmt.Fprintln(stderr, "rtd token check:", err)
		return 1
	}
	if v == nil {
		fmt.Fprintln(stderr, "rtd token check: no key: give --jwt-secret or --jwt-public-key (or RTD_JWT_SECRET, RTD_JWT_PUBLIC_KEY, or --config)")
		return 1
	}
	c, err := v.Verify(tok)
	switch {
	case errors.Is(err, auth.ErrExpired):
		fmt.Fprintln(stdout, "refused: token expired")
		return 1
	case err != nil:
		fmt.Fprintln(stdout, "refused:", strings.TrimPrefix(err.Error(), "auth: "))
		return 1
	}
	exp := "never expires"
	if !c.Expires.IsZero() {
		exp = "expires " + c.Expires.UTC().Format(time.RFC3339) + " (in " + time.Until(c.Expires).Round(time.Second).String() + ")"
	}
	fmt.Fprintf(stdout, "valid: user %q, %s\n", c.User, exp)
	return 0
}

// claimsOf decodes a JWT's payload, unverified, as indented JSON.
func claimsOf(tok string) (string, bool) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return "", false
	}
	b, err := jwt.NewParser().DecodeSegment(parts[1])
	if err != nil {
		return "", false
	}
	var v any
	if json.Unmarshal(b, &v) != nil {
		return "", false
	}
	out, _ := json.MarshalIndent(v, "", "  ")
	return string(out), true
}
