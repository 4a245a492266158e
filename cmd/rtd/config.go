package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"gopkg.in/yaml.v3"

	"github.com/rtd-project/rtd/fanout"
	"github.com/rtd-project/rtd/hub"
	"github.com/rtd-project/rtd/proto/wsframe"
	"github.com/rtd-project/rtd/server"
)

// config is everything `rtd serve` can be told. Each field is a flag, an
// RTD_* environment variable (the flag name upper-cased, '-' as '_') and a
// key of the YAML config file, with that precedence: flags > env > file >
// defaults.
type config struct {
	Addr            string        `yaml:"addr"`
	LogLevel        string        `yaml:"log-level"`
	Echo            bool          `yaml:"echo"`
	Console         bool          `yaml:"console"`
	SharePort       bool          `yaml:"share-port"`
	Loops           int           `yaml:"loops"`
	MaxConns        int           `yaml:"max-conns"`
	HeaderTimeout   time.Duration `yaml:"header-timeout"`
	IdleTimeout     time.Duration `yaml:"idle-timeout"`
	ShutdownTimeout time.Duration `yaml:"shutdown-timeout"`
	DrainDelay      time.Duration `yaml:"drain-delay"`
	APIKey          string        `yaml:"api-key"`
	JWTSecret       string        `yaml:"jwt-secret"`
	JWTPublicKey    string        `yaml:"jwt-public-key"`
	JWTAudience     string        `yaml:"jwt-audience"`
	JWTIssuer       string        `yaml:"jwt-issuer"`
	AllowAnonymous  bool          `yaml:"allow-anonymous"`
	Broker          string        `yaml:"broker"`
	BrokerCreds     string        `yaml:"broker-creds"`
	BrokerTLSCA     string        `yaml:"broker-tls-ca"`
	BrokerTLSCert   string        `yaml:"broker-tls-cert"`
	BrokerTLSKey    string        `yaml:"broker-tls-key"`
	BrokerReplicas  int           `yaml:"broker-replicas"`

	SlowClientPolicy string        `yaml:"slow-client-policy"`
	SlowClientGrace  time.Duration `yaml:"slow-client-grace"`
	WSHeartbeat      time.Duration `yaml:"ws-heartbeat"`
	WSIdleTimeout    time.Duration `yaml:"ws-idle-timeout"`
	SSERetry         time.Duration `yaml:"sse-retry"`
	SSECredentials   bool          `yaml:"sse-allow-credentials"`
	UserLimitPolicy  string        `yaml:"user-limit-policy"`
	HistoryMetaTTL   time.Duration `yaml:"history-meta-ttl"`

	Namespaces        []fanout.Namespace `yaml:"namespaces"`
	HistorySize       int                `yaml:"history-size"`
	HistoryTTL        time.Duration      `yaml:"history-ttl"`
	MaxHistoryChans   int                `yaml:"max-history-channels"`
	MaxHistoryBytes   int64              `yaml:"max-history-bytes"`
	MaxConnsPerUser   int                `yaml:"max-conns-per-user"`
	WSCompression     bool               `yaml:"ws-compression"`
	SSEHeartbeat      time.Duration      `yaml:"sse-heartbeat"`
	AllowedOrigins    []string           `yaml:"allowed-origins"`
	MaxSendQueueBytes int                `yaml:"max-send-queue-bytes"`

	// Resolved from the fields above by resolve.
	slowClient server.SlowClientPolicy
	userLimit  hub.UserLimitPolicy

	// warnings are what loading found worth saying but not refusing
	// (deprecated spellings, unknown RTD_* variables); rtd serve logs them.
	warnings []string
}

// flags binds every config field to a flag of fs; the flags' defaults are
// the embedded defaults.
func (c *config) flags(fs *flag.FlagSet) *string {
	path := fs.String("config", "", "YAML config file (optional)")
	fs.StringVar(&c.Addr, "addr", ":8080", "listen address host:port")
	fs.StringVar(&c.LogLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.BoolVar(&c.Echo, "echo", false, "mount the test routes GET /echo (WebSocket) and GET /echo/sse")
	fs.BoolVar(&c.Console, "console", false, "serve the admin console page at GET /console (it uses /ws and /api/*, so the API key guards what it can do)")
	fs.BoolVar(&c.SharePort, "share-port", false, "let other rtd processes of this user listen on --addr too (SO_REUSEPORT; the kernel spreads connections)")
	fs.IntVar(&c.Loops, "loops", 0, "event loops (0 = one per CPU)")
	fs.IntVar(&c.MaxConns, "max-conns", 0, "maximum concurrent connections (0 = the open-files limit less 100)")
	fs.DurationVar(&c.HeaderTimeout, "header-timeout", 10*time.Second, "time allowed to send a request head")
	fs.DurationVar(&c.IdleTimeout, "idle-timeout", 60*time.Second, "keep-alive idle timeout")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 10*time.Second, "graceful shutdown deadline")
	fs.DurationVar(&c.DrainDelay, "drain-delay", 0, "on SIGTERM, answer /readyz with 503 at once but keep serving everything this long before the graceful shutdown (load balancers stop sending new clients; 5s behind a Kubernetes Service; a second signal ends it)")
	fs.StringVar(&c.APIKey, "api-key", "", "API key for /api/* (empty: loopback clients only)")
	fs.StringVar(&c.JWTSecret, "jwt-secret", "", "HS256 secret for connection tokens")
	fs.StringVar(&c.JWTPublicKey, "jwt-public-key", "", "RS256/ES256 public key file (PEM or JWKS)")
	fs.StringVar(&c.JWTAudience, "jwt-audience", "", "when set, a connection token's aud must name it")
	fs.StringVar(&c.JWTIssuer, "jwt-issuer", "", "when set, a connection token's iss must be it")
	fs.BoolVar(&c.AllowAnonymous, "allow-anonymous", false, "with a JWT key set, also admit clients without a token: they may subscribe to (and read presence and history of) channels in no namespace and in namespaces with anonymous: true, never personal ones, and publish only in client-publish namespaces")
	fs.StringVar(&c.Broker, "broker", "", "NATS URL(s) joining several nodes: nats://[user:pass@]host:port, comma-separated for a NATS cluster")
	fs.StringVar(&c.BrokerCreds, "broker-creds", "", "NATS credentials file (user JWT and nkey seed)")
	fs.StringVar(&c.BrokerTLSCA, "broker-tls-ca", "", "PEM CA file to verify the NATS server (implies TLS)")
	fs.StringVar(&c.BrokerTLSCert, "broker-tls-cert", "", "PEM client certificate for NATS (with --broker-tls-key)")
	fs.StringVar(&c.BrokerTLSKey, "broker-tls-key", "", "PEM client key for NATS")
	fs.IntVar(&c.BrokerReplicas, "broker-replicas", 1, "NATS servers holding the history stream (1 to 5; 3 in a NATS cluster)")
	fs.StringVar(&c.SlowClientPolicy, "slow-client-policy", "close", "a /ws or /sse client whose send queue is full: close (WebSocket 1013, SSE stream ended; it reconnects and recovers from history), error or drop (it misses that publication)")
	fs.DurationVar(&c.SlowClientGrace, "slow-client-grace", time.Second, "time a WebSocket closed as a slow client gets to read its 1013 close frame")
	fs.DurationVar(&c.WSHeartbeat, "ws-heartbeat", 25*time.Second, "WebSocket ping interval (0 = no pings)")
	fs.DurationVar(&c.WSIdleTimeout, "ws-idle-timeout", 60*time.Second, "close (1001) a WebSocket that sent nothing, not even a pong, this long: reclaims dead peers (0 = never; must exceed ws-heartbeat)")
	fs.DurationVar(&c.SSERetry, "sse-retry", 3*time.Second, "reconnection delay hinted to SSE clients (retry:); at shutdown it is jittered up to 5 times")
	fs.BoolVar(&c.SSECredentials, "sse-allow-credentials", false, "let cross-origin EventSource send cookies (withCredentials) from the allowed-origins")
	fs.StringVar(&c.UserLimitPolicy, "user-limit-policy", "reject", "a user at max-conns-per-user connects again: reject (429) or evict-oldest (its oldest connection is closed, 1008)")
	fs.IntVar(&c.HistorySize, "history-size", hub.DefaultHistorySize, "publications each channel keeps for recovery (namespaces may say otherwise; -1 = none)")
	fs.DurationVar(&c.HistoryTTL, "history-ttl", hub.DefaultHistoryTTL, "how long a kept publication lives")
	fs.IntVar(&c.MaxHistoryChans, "max-history-channels", hub.DefaultMaxHistoryChannels, "channels with history a publication may create; past it 429 (API) or error 107 (/ws); negative = unlimited")
	fs.Int64Var(&c.MaxHistoryBytes, "max-history-bytes", hub.DefaultMaxHistoryBytes, "bytes every history may retain before a publication may no longer create a channel with history (429 / error 107); negative = unlimited")
	fs.IntVar(&c.MaxConnsPerUser, "max-conns-per-user", 0, "connections one user (token sub) may hold (0 = unlimited)")
	fs.BoolVar(&c.WSCompression, "ws-compression", false, "offer permessage-deflate (no context takeover) to WebSocket clients")
	fs.DurationVar(&c.SSEHeartbeat, "sse-heartbeat", 30*time.Second, "SSE comment line this often, so proxies do not time out an idle stream")
	fs.Var(listFlag{&c.AllowedOrigins}, "allowed-origins", `other sites whose pages may use /ws and /sse: https://app.example.com, https://*.example.com or "*"; comma-separated or a JSON list (empty: same-origin only)`)
	fs.IntVar(&c.MaxSendQueueBytes, "max-send-queue-bytes", 1<<20, "bytes queued per socket before the slow-client policy acts")
	fs.Var(namespacesFlag{&c.Namespaces}, "namespaces", `channel namespaces as a JSON list with the file's keys: [{"pattern":"chat:*","history-size":500,"client-publish":true}]`)
	fs.DurationVar(&c.HistoryMetaTTL, "history-meta-ttl", hub.DefaultHistoryMetaTTL, "how long a channel with neither subscribers nor history keeps its epoch and last offset, so that clients coming back resume their positions (negative: forgotten at once; lost on restart without --broker, which keeps them on the bus)")
	return path
}

// defaultConfig returns the embedded defaults (the flags' defaults).
func defaultConfig() *config {
	c := &config{}
	c.flags(flag.NewFlagSet("", flag.ContinueOnError))
	return c
}

// slowClientPolicies are the values of slow-client-policy.
var slowClientPolicies = map[string]server.SlowClientPolicy{
	"close": server.SlowClientClose,
	"error": server.SlowClientError,
	"drop":  server.SlowClientDrop,
}

// logLevels are the values of log-level.
var logLevels = map[string]zerolog.Level{"debug": zerolog.DebugLevel, "info": zerolog.InfoLevel, "warn": zerolog.WarnLevel, "error": zerolog.ErrorLevel}

// userLimitPolicies are the values of user-limit-policy.
var userLimitPolicies = map[string]hub.UserLimitPolicy{
	"reject":       hub.UserLimitReject,
	"evict-oldest": hub.UserLimitEvictOldest,
}

// choice looks name up among the values of key (def when name is empty);
// the error starts with the key and lists the values.
func choice[T any](key, name, def string, values map[string]T) (T, error) {
	if name == "" {
		name = def
	}
	v, ok := values[name]
	if !ok {
		names := slices.Sorted(maps.Keys(values))
		hint := ""
		if s := suggest(name, names); s != "" {
			hint = fmt.Sprintf(" (did you mean %q?)", s)
		}
		return v, fmt.Errorf("%s %q: want one of %s%s", key, name, strings.Join(names, ", "), hint)
	}
	return v, nil
}

// resolve checks what both rtd serve and rtd config check refuse and turns
// names into values; each error starts with its key.
func (c *config) resolve() []error {
	var errs []error
	var err error
	if c.slowClient, err = choice("slow-client-policy", c.SlowClientPolicy, "close", slowClientPolicies); err != nil {
		errs = append(errs, err)
	}
	if c.userLimit, err = choice("user-limit-policy", c.UserLimitPolicy, "reject", userLimitPolicies); err != nil {
		errs = append(errs, err)
	}
	if _, err := choice("log-level", c.LogLevel, "info", logLevels); err != nil {
		errs = append(errs, err)
	}
	if c.SSERetry <= 0 {
		errs = append(errs, fmt.Errorf("sse-retry must be positive (%v)", c.SSERetry))
	}
	if err := wsframe.CheckOrigins(c.AllowedOrigins); err != nil {
		errs = append(errs, fmt.Errorf("allowed-origins: %w", err))
	}
	switch {
	case c.SSECredentials && len(c.AllowedOrigins) == 0:
		errs = append(errs, errors.New("sse-allow-credentials needs allowed-origins: without them no cross-origin page may read a stream"))
	case c.SSECredentials && slices.Contains(c.AllowedOrigins, "*"):
		errs = append(errs, errors.New(`sse-allow-credentials with allowed-origins "*" lets any site read streams with its visitors' cookies: list the origins`))
	}
	for _, d := range []struct {
		key string
		v   time.Duration
	}{{"drain-delay", c.DrainDelay}, {"slow-client-grace", c.SlowClientGrace}, {"ws-heartbeat", c.WSHeartbeat}, {"ws-idle-timeout", c.WSIdleTimeout}} {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("%s must not be negative (%v)", d.key, d.v))
		}
	}
	// A client that only listens sends nothing but its pongs: without
	// pings, or with pings further apart than the idle timeout, it would be
	// closed as idle.
	switch {
	case c.WSIdleTimeout > 0 && c.WSHeartbeat <= 0:
		errs = append(errs, fmt.Errorf("ws-idle-timeout %v needs ws-heartbeat: without pings a client that only listens is closed as idle (set ws-idle-timeout: 0 too)", c.WSIdleTimeout))
	case c.WSIdleTimeout > 0 && c.WSIdleTimeout <= c.WSHeartbeat:
		errs = append(errs, fmt.Errorf("ws-idle-timeout %v must exceed ws-heartbeat %v (twice it allows for a lost pong)", c.WSIdleTimeout, c.WSHeartbeat))
	}
	return errs
}

// load resolves the configuration from args, the environment and the file.
func load(args []string, env func(string) string, stderr io.Writer) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("rtd serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c.flags(fs)
	// First pass: only to learn --config; flags are applied again last.
	probe := flag.NewFlagSet("", flag.ContinueOnError)
	probe.SetOutput(io.Discard)
	var probeCfg config
	probePath := probeCfg.flags(probe)
	_ = probe.Parse(args)
	file := *probePath
	if file == "" {
		file = env("RTD_CONFIG")
	}
	if file != "" {
		if err := c.loadFile(file); err != nil {
			return nil, err
		}
	}
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name == "config" {
			return
		}
		name := envName(f.Name)
		if v := env(name); v != "" {
			if err := f.Value.Set(v); err != nil && envErr == nil {
				envErr = fmt.Errorf("%s: %w", name, err)
			}
		}
	})
	if envErr != nil {
		return nil, envErr
	}
	c.warnings = append(c.warnings, unknownEnv(fs, environ())...)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if errs := c.resolve(); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

// loadFile reads a YAML config file; unknown keys are errors with their line.
func (c *config) loadFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return c.decode(path, b)
}

func (c *config) decode(name string, b []byte) error {
	warnings, errs := decodeYAML(b, c, configKeys)
	at := func(p fileProblem) string {
		if p.line > 0 {
			return fmt.Sprintf("%s:%d: %s", name, p.line, p.msg)
		}
		return name + ": " + p.msg
	}
	for _, w := range warnings {
		c.warnings = append(c.warnings, at(w))
	}
	out := make([]error, len(errs))
	for i, e := range errs {
		out[i] = errors.New(at(e))
	}
	return errors.Join(out...)
}

// environ lists the environment as NAME=value (os.Environ; tests replace it).
var environ = os.Environ

// otherEnv are RTD_* variables read elsewhere than the flags.
var otherEnv = []string{"RTD_CONFIG", "RTD_CPUPROFILE", "RTD_JWT_PRIVATE_KEY"}

// unknownEnv warns of each RTD_* variable that names no setting: a typo
// would otherwise be ignored without a word.
func unknownEnv(fs *flag.FlagSet, environ []string) []string {
	known := slices.Clone(otherEnv)
	fs.VisitAll(func(f *flag.Flag) { known = append(known, envName(f.Name)) })
	var out []string
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, "RTD_") || slices.Contains(known, name) {
			continue
		}
		msg := "unknown environment variable " + name + ", ignored"
		if s := suggest(name, known); s != "" {
			msg += " (did you mean " + s + "?)"
		}
		out = append(out, msg)
	}
	return out
}

// checkConfig loads a config file over the defaults and checks what YAML
// alone cannot: values in range and namespaces that make sense. Errors name
// the file and, for syntax and unknown keys, the line.
func checkConfig(path string) error { return checkConfigTo(path, io.Discard) }

// checkConfigTo is checkConfig writing the file's warnings (deprecated
// spellings) to w.
func checkConfigTo(path string, w io.Writer) error {
	c := defaultConfig()
	err := c.loadFile(path)
	for _, msg := range c.warnings {
		fmt.Fprintln(w, "warning:", msg)
	}
	if err != nil {
		return err
	}
	lines := keyLines(path)
	var errs []error
	bad := func(format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		key, _, _ := strings.Cut(msg, " ")
		key, _, _ = strings.Cut(key, ":")
		if n, ok := lines[key]; ok {
			errs = append(errs, fmt.Errorf("%s:%d: %s", path, n, msg))
			return
		}
		errs = append(errs, fmt.Errorf("%s: %s", path, msg))
	}
	if c.Addr != "" {
		if _, _, err := net.SplitHostPort(c.Addr); err != nil {
			bad("addr %q: %v", c.Addr, err)
		}
	}
	for name, v := range map[string]int{"loops": c.Loops, "max-conns": c.MaxConns, "max-conns-per-user": c.MaxConnsPerUser, "max-send-queue-bytes": c.MaxSendQueueBytes} {
		if v < 0 {
			bad("%s must not be negative (%d)", name, v)
		}
	}
	if c.JWTPublicKey != "" {
		if _, err := os.Stat(c.JWTPublicKey); err != nil {
			bad("jwt-public-key: %v", err)
		}
	}
	for _, err := range c.checkBroker() {
		bad("%v", err)
	}
	for _, err := range c.resolve() {
		bad("%v", err)
	}
	seen := map[string]bool{}
	for i, ns := range c.Namespaces {
		switch {
		case ns.Pattern == "":
			bad("namespaces[%d]: pattern is required", i)
		case seen[ns.Pattern]:
			bad("namespaces[%d]: pattern %q appears twice", i, ns.Pattern)
		case strings.Contains(strings.TrimSuffix(ns.Pattern, "*"), "*"):
			bad("namespaces[%d]: pattern %q: \"*\" may only end a pattern", i, ns.Pattern)
		case ns.Personal && !strings.HasSuffix(ns.Pattern, "*"):
			bad("namespaces[%d]: personal namespace %q must be a prefix pattern (\"user:*\")", i, ns.Pattern)
		case ns.HistoryTTL < 0:
			bad("namespaces[%d]: history-ttl must not be negative", i)
		}
		seen[ns.Pattern] = true
	}
	return errors.Join(errs...)
}

// checkBroker checks the --broker options; each error starts with its key.
func (c *config) checkBroker() []error {
	var errs []error
	if c.Broker != "" {
		for _, raw := range strings.Split(c.Broker, ",") {
			if err := checkBrokerURL(strings.TrimSpace(raw)); err != nil {
				errs = append(errs, fmt.Errorf("broker %q: %v", raw, err))
			}
		}
	}
	files := []struct{ key, path string }{
		{"broker-creds", c.BrokerCreds}, {"broker-tls-ca", c.BrokerTLSCA},
		{"broker-tls-cert", c.BrokerTLSCert}, {"broker-tls-key", c.BrokerTLSKey},
	}
	for _, f := range files {
		if f.path == "" {
			continue
		}
		if c.Broker == "" {
			errs = append(errs, fmt.Errorf("%s is set but broker is not", f.key))
		}
		if _, err := os.Stat(f.path); err != nil {
			errs = append(errs, fmt.Errorf("%s: %v", f.key, err))
		}
	}
	if c.BrokerReplicas < 0 || c.BrokerReplicas > 5 {
		errs = append(errs, fmt.Errorf("broker-replicas %d: want 1 to 5", c.BrokerReplicas))
	}
	if (c.BrokerTLSCert == "") != (c.BrokerTLSKey == "") {
		errs = append(errs, errors.New("broker-tls-cert and broker-tls-key go together"))
	}
	return errs
}

// checkBrokerURL accepts what the NATS client does: nats://, tls://, ws:// or
// wss:// with a host and port, or a bare host:port.
func checkBrokerURL(raw string) error {
	if !strings.Contains(raw, "://") {
		raw = "nats://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	switch u.Scheme {
	case "nats", "tls", "ws", "wss":
	default:
		return fmt.Errorf("scheme %q: want nats://, tls://, ws:// or wss://", u.Scheme)
	}
	if u.Hostname() == "" {
		return errors.New("no host")
	}
	if u.Port() != "" {
		if _, err := strconv.ParseUint(u.Port(), 10, 16); err != nil {
			return fmt.Errorf("port %q", u.Port())
		}
	}
	return nil
}

// keyLines maps the file's top-level keys, and each "namespaces[i]", to the
// line they start on, so semantic errors can point at the line.
func keyLines(path string) map[string]int {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var doc yaml.Node
	if yaml.Unmarshal(b, &doc) != nil || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil
	}
	out := map[string]int{}
	m := doc.Content[0].Content
	for i := 0; i+1 < len(m); i += 2 {
		out[m[i].Value] = m[i].Line
		if m[i].Value == "namespaces" && m[i+1].Kind == yaml.SequenceNode {
			for j, n := range m[i+1].Content {
				out[fmt.Sprintf("namespaces[%d]", j)] = n.Line
			}
		}
	}
	return out
}
