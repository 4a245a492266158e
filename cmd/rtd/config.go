package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/rtd-project/rtd/fanout"
)

// config is everything `rtd serve` can be told. Each field is a flag, an
// RTD_* environment variable (the flag name upper-cased, '-' as '_') and a
// key of the YAML config file, with that precedence: flags > env > file >
// defaults.
type config struct {
	Addr            string        `yaml:"addr"`
	LogLevel        string        `yaml:"log-level"`
	Echo            bool          `yaml:"echo"`
	Loops           int           `yaml:"loops"`
	MaxConns        int           `yaml:"max-conns"`
	HeaderTimeout   time.Duration `yaml:"header-timeout"`
	IdleTimeout     time.Duration `yaml:"idle-timeout"`
	ShutdownTimeout time.Duration `yaml:"shutdown-timeout"`
	APIKey          string        `yaml:"api-key"`
	JWTSecret       string        `yaml:"jwt-secret"`
	JWTPublicKey    string        `yaml:"jwt-public-key"`
	AllowAnonymous  bool          `yaml:"allow-anonymous"`
	Broker          string        `yaml:"broker"`

	// Only in the config file:
	Namespaces        []fanout.Namespace `yaml:"namespaces"`
	HistorySize       int                `yaml:"history-size"`
	HistoryTTL        time.Duration      `yaml:"history-ttl"`
	MaxConnsPerUser   int                `yaml:"max-conns-per-user"`
	WSHeartbeat       time.Duration      `yaml:"ws-heartbeat"`
	WSCompression     bool               `yaml:"ws-compression"`
	SSEHeartbeat      time.Duration      `yaml:"sse-heartbeat"`
	AllowedOrigins    []string           `yaml:"allowed-origins"`
	MaxSendQueueBytes int                `yaml:"max-send-queue-bytes"`
}

// flags binds every config field to a flag of fs; the flags' defaults are
// the embedded defaults.
func (c *config) flags(fs *flag.FlagSet) *string {
	path := fs.String("config", "", "YAML config file (optional)")
	fs.StringVar(&c.Addr, "addr", ":8080", "listen address host:port")
	fs.StringVar(&c.LogLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.BoolVar(&c.Echo, "echo", false, "mount the test routes GET /echo (WebSocket) and GET /echo/sse")
	fs.IntVar(&c.Loops, "loops", 0, "event loops (0 = one per CPU)")
	fs.IntVar(&c.MaxConns, "max-conns", 0, "maximum concurrent connections (0 = default 19000)")
	fs.DurationVar(&c.HeaderTimeout, "header-timeout", 10*time.Second, "time allowed to send a request head")
	fs.DurationVar(&c.IdleTimeout, "idle-timeout", 60*time.Second, "keep-alive idle timeout")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 10*time.Second, "graceful shutdown deadline")
	fs.StringVar(&c.APIKey, "api-key", "", "API key for /api/* (empty: loopback clients only)")
	fs.StringVar(&c.JWTSecret, "jwt-secret", "", "HS256 secret for connection tokens")
	fs.StringVar(&c.JWTPublicKey, "jwt-public-key", "", "RS256/ES256 public key file (PEM or JWKS)")
	fs.BoolVar(&c.AllowAnonymous, "allow-anonymous", false, "accept clients without a token when a JWT key is set")
	fs.StringVar(&c.Broker, "broker", "", "message bus URL (nats://host:port) for multi-node")
	return path
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
		name := "RTD_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := env(name); v != "" {
			if err := f.Value.Set(v); err != nil && envErr == nil {
				envErr = fmt.Errorf("%s: %w", name, err)
			}
		}
	})
	if envErr != nil {
		return nil, envErr
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
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
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}
