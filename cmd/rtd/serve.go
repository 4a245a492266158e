package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"runtime/pprof"

	"github.com/rs/zerolog"

	"github.com/rtd-project/rtd/auth"
	"github.com/rtd-project/rtd/broker/natsbroker"
	"github.com/rtd-project/rtd/fanout"
	"github.com/rtd-project/rtd/hub"
	"github.com/rtd-project/rtd/server"
)

// serve runs the daemon until ctx is cancelled (SIGINT/SIGTERM).
func serve(ctx context.Context, args []string, env func(string) string, stderr io.Writer) error {
	cfg, err := load(args, env, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	level, err := zerolog.ParseLevel(cfg.LogLevel)
	if err != nil {
		return err
	}
	log := zerolog.New(os.Stderr).Level(level).With().Timestamp().Logger()
	verifier, err := newVerifier(cfg)
	if err != nil {
		return err
	}
	tierOpts := tierOptions(cfg, verifier)
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
		Hub:             hubOpts,
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
	if err := mountHealth(srv, brokerStatus); err != nil {
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
	if path := env("RTD_CPUPROFILE"); path != "" {
		stop, err := startCPUProfile(path)
		if err != nil {
			return err
		}
		defer stop()
	}
	return srv.Run(ctx)
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
		MaxConnsPerUser:    cfg.MaxConnsPerUser,
		UserLimit:          cfg.userLimit,
		ChannelOptions:     tier.ChannelOptions,
	}
}

// mountHealth registers /healthz (the process is up) and /readyz (it is
// accepting work: 503 while draining, or while the cluster bus is
// unavailable, with the reason in the body).
func mountHealth(srv *server.Server, brokerStatus func() error) error {
	if err := srv.HandleFunc("GET", "/healthz", func(w *server.ResponseWriter, _ *server.Request) {
		_, _ = w.WriteString("ok\n")
	}); err != nil {
		return err
	}
	return srv.HandleFunc("GET", "/readyz", func(w *server.ResponseWriter, _ *server.Request) {
		if srv.Draining() {
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
