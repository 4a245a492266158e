package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"os"

	"github.com/rs/zerolog"

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
	srv, err := server.New(server.Options{
		Addr:            cfg.Addr,
		Loops:           cfg.Loops,
		MaxConns:        cfg.MaxConns,
		HeaderTimeout:   cfg.HeaderTimeout,
		IdleTimeout:     cfg.IdleTimeout,
		ShutdownTimeout: cfg.ShutdownTimeout,
		Logger:          &log,
	})
	if err != nil {
		return err
	}
	if err := mountHealth(srv); err != nil {
		return err
	}
	if cfg.Echo {
		if err := mountEcho(srv); err != nil {
			return err
		}
	}
	return srv.Run(ctx)
}

// mountHealth registers /healthz (the process is up) and /readyz (it is
// accepting work; false while draining).
func mountHealth(srv *server.Server) error {
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
		_, _ = w.WriteString("ready\n")
	})
}
