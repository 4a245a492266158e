package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/url"
	"os"
	"os/signal"
	"runtime/pprof"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/rtd-project/rtd/auth"
	"github.com/rtd-project/rtd/broker/natsbroker"
	"github.com/rtd-project/rtd/fanout"
	"github.com/rtd-project/rtd/hub"
	"github.com/rtd-project/rtd/server"
)

// serve runs the daemon until ctx is cancelled (SIGINT/SIGTERM), then,
// after --drain-delay, shuts it down gracefully.
func serve(ctx context.Context, args []string, env func(string) string, stderr io.Writer) error {
	cfg, err := load(args, env, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	log := zerolog.New(os.Stderr).Level(logLevels[cfg.LogLevel]).With().Timestamp().Logger()
	for _, w := range cfg.warnings {
		log.Warn().Msg(w)
	}
	// Everything runs on runCtx, which ends drain-delay after ctx does;
	// leaving is set as ctx ends and turns /readyz to 503 meanwhile.
	var leaving atomic.Bool
	runCtx, stopRunning := context.WithCancel(context.Background())
	defer stopRunning()
	signalled := ctx
	go func() {
		select {
		case <-signalled.Done():
		case <-runCtx.Done():
			return
		}
		drainAfter(runCtx, cfg.DrainDelay, &leaving, &log)
		stopRunning()
	}()
	ctx = runCtx
	verifier, err := newVerifier(cfg)
	if err != nil {
		return err
	}
	tierOpts := tierOptions(cfg, verifier)
	tierOpts.Version, tierOpts.Revision = version, revision
	hubOpts := hubOptions(cfg, &tierOpts)
	brokerStatus := func() error { return nil }
	var brk *natsbroker.Broker
	if cfg.Broker != "" {
		if brk, err = newBroker(cfg, &log); err != nil {
			return err
		}
		defer brk.Close()
		hubOpts.Broker = brk
		tierOpts.Cluster = cluster{brk}
		brokerStatus = brk.Status
	}
	srv, err := server.New(server.Options{
		Addr:            cfg.Addr,
		Loops:           cfg.Loops,
		MaxConns:        cfg.MaxConns,
		SharePort:       cfg.SharePort,
		HeaderTimeout:   cfg.HeaderTimeout,
		IdleTimeout:     cfg.IdleTimeout,
		ShutdownTimeout: cfg.ShutdownTimeout,
		Logger:          &log,
		QuietPaths:      []string{"/healthz", "/readyz", "/metrics"},
		Hub:             hubOpts,
		Encoder:         fanout.Encoder{},
	})
	if err != nil {
		return err
	}
	tier, err := fanout.Mount(srv, tierOpts)
	if err != nil {
		return err
	}
	go tier.Run(ctx)
	if brk != nil {
		share(ctx, brk, srv.Hub(), func() []byte {
			b, _ := json.Marshal(tier.Stats())
			return b
		})
	}
	ready := func() bool { return !leaving.Load() && !srv.Draining() }
	if err := mountHealth(srv, ready, brokerStatus); err != nil {
		return err
	}
	if err := mountClientJS(srv, cfg.Console); err != nil {
		return err
	}
	if cfg.Echo {
		if err := mountEcho(srv); err != nil {
			return err
		}
	}
	go func() {
		select {
		case <-srv.Ready():
			startupLine(&log, cfg, srv.Addr())
		case <-ctx.Done():
		}
	}()
	if path := env("RTD_CPUPROFILE"); path != "" {
		stop, err := startCPUProfile(path)
		if err != nil {
			return err
		}
		defer stop()
	}
	return srv.Run(ctx)
}

// startupLine logs, once the server listens, what a new operator needs to
// know: where it listens, who may connect, from which sites, over which bus.
func startupLine(log *zerolog.Logger, cfg *config, addr string) {
	log.Info().Str("addr", addr).Str("version", version).
		Str("auth", authMode(cfg)).Str("api", apiMode(cfg)).
		Str("origins", originPolicy(cfg.AllowedOrigins)).Str("broker", brokerMode(cfg.Broker)).
		Msg("rtd serving")
}

func authMode(cfg *config) string {
	var m string
	switch {
	case cfg.JWTSecret == "" && cfg.JWTPublicKey == "":
		return "none: every client anonymous (set --jwt-secret or --jwt-public-key for tokens)"
	case cfg.JWTSecret != "" && cfg.JWTPublicKey != "":
		m = "jwt HS256 + RS256/ES256 (" + cfg.JWTPublicKey + ")"
	case cfg.JWTSecret != "":
		m = "jwt HS256"
	default:
		m = "jwt RS256/ES256 (" + cfg.JWTPublicKey + ")"
	}
	if cfg.JWTAudience != "" {
		m += ", aud " + cfg.JWTAudience
	}
	if cfg.JWTIssuer != "" {
		m += ", iss " + cfg.JWTIssuer
	}
	if cfg.AllowAnonymous {
		return m + ", anonymous clients allowed"
	}
	return m + ", token required"
}

func apiMode(cfg *config) string {
	if cfg.APIKey == "" {
		return "loopback clients only (no --api-key)"
	}
	return "api key"
}

func originPolicy(origins []string) string {
	switch {
	case len(origins) == 0:
		return "same-origin"
	case slices.Contains(origins, "*"):
		return "any site (*), rtd_token cookie not read"
	}
	return "same-origin and " + strings.Join(origins, " ")
}

// brokerMode names the bus without its credentials.
func brokerMode(raw string) string {
	if raw == "" {
		return "none: one node, history in memory"
	}
	var out []string
	for _, u := range strings.Split(raw, ",") {
		u = strings.TrimSpace(u)
		if p, err := url.Parse(u); err == nil && p.User != nil {
			p.User = nil
			u = p.String()
		}
		out = append(out, u)
	}
	return strings.Join(out, ",")
}

// startCPUProfile writes a CPU profile to path until the returned func runs
// (RTD_CPUPROFILE=file rtd serve …, for finding hot spots under load).
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// newVerifier builds the token verifier from --jwt-secret / --jwt-public-key;
// with neither, clients are anonymous (nil verifier).
func newVerifier(cfg *config) (fanout.TokenVerifier, error) {
	if cfg.JWTSecret == "" && cfg.JWTPublicKey == "" {
		return nil, nil
	}
	v, err := auth.NewVerifier(auth.Options{
		Secret:        []byte(cfg.JWTSecret),
		PublicKeyFile: cfg.JWTPublicKey,
		Audience:      cfg.JWTAudience,
		Issuer:        cfg.JWTIssuer,
	})
	if err != nil {
		return nil, err
	}
	return v, nil
}

// tierOptions maps the configuration onto the fan-out tier and its routes.
func tierOptions(cfg *config, verifier fanout.TokenVerifier) fanout.Options {
	return fanout.Options{
		Verifier:       verifier,
		APIKey:         cfg.APIKey,
		AllowAnonymous: cfg.AllowAnonymous,
		Namespaces:     cfg.Namespaces,
		WS: fanout.WSRouteOptions{
			Origins:           cfg.AllowedOrigins,
			HeartbeatInterval: offIfZero(cfg.WSHeartbeat),
			IdleTimeout:       offIfZero(cfg.WSIdleTimeout),
			MaxSendQueueBytes: cfg.MaxSendQueueBytes,
			Compression:       cfg.WSCompression,
			SlowClientPolicy:  cfg.slowClient,
			SlowClientGrace:   cfg.SlowClientGrace,
		},
		SSE: fanout.SSERouteOptions{
			Origins:           cfg.AllowedOrigins,
			AllowCredentials:  cfg.SSECredentials,
			HeartbeatInterval: cfg.SSEHeartbeat,
			Retry:             cfg.SSERetry,
			MaxSendQueueBytes: cfg.MaxSendQueueBytes,
			SlowClientPolicy:  cfg.slowClient,
		},
	}
}

// hubOptions maps the configuration onto the hub; namespaces reach it
// through the tier's ChannelOptions.
func hubOptions(cfg *config, tier *fanout.Options) hub.Options {
	return hub.Options{
		HistorySize:        cfg.HistorySize,
		HistoryTTL:         cfg.HistoryTTL,
		HistoryMetaTTL:     cfg.HistoryMetaTTL,
		MaxHistoryChannels: cfg.MaxHistoryChans,
		MaxHistoryBytes:    cfg.MaxHistoryBytes,
		MaxConnsPerUser:    cfg.MaxConnsPerUser,
		UserLimit:          cfg.userLimit,
		ChannelOptions:     tier.ChannelOptions,
	}
}

// drainAfter sets leaving (/readyz answers 503) and waits delay (the
// --drain-delay after SIGTERM, while everything else keeps serving), or
// until a second SIGINT/SIGTERM or ctx ends.
func drainAfter(ctx context.Context, delay time.Duration, leaving *atomic.Bool, log *zerolog.Logger) {
	if delay <= 0 {
		leaving.Store(true)
		return
	}
	// Listening for the second signal before /readyz says 503: whoever
	// saw the 503 may rely on a second signal being heard.
	again := make(chan os.Signal, 1)
	signal.Notify(again, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(again)
	leaving.Store(true)
	log.Info().Dur("drain_delay", delay).Msg("not ready: /readyz answers 503, shutdown after the drain delay")
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-again:
		log.Info().Msg("second signal: drain delay cut short")
	case <-ctx.Done():
	}
}

// mountHealth registers /healthz (the process is up) and /readyz (it is
// accepting work: 503 once a shutdown signal came (during --drain-delay
// and the drain), or while the cluster bus is unavailable, with the reason
// in the body).
func mountHealth(srv *server.Server, ready func() bool, brokerStatus func() error) error {
	if err := srv.HandleFunc("GET", "/healthz", func(w *server.ResponseWriter, _ *server.Request) {
		_, _ = w.WriteString("ok\n")
	}); err != nil {
		return err
	}
	return srv.HandleFunc("GET", "/readyz", func(w *server.ResponseWriter, _ *server.Request) {
		if !ready() {
			w.WriteHeader(503)
			_, _ = w.WriteString("draining\n")
			return
		}
		if err := brokerStatus(); err != nil {
			w.WriteHeader(503)
			_, _ = w.WriteString("broker unavailable: " + err.Error() + "\n")
			return
		}
		_, _ = w.WriteString("ready\n")
	})
}
