package server

import (
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/rtd-project/rtd/hub"
	"github.com/rtd-project/rtd/proto/http1"
)

// gnetLogger routes gnet's own logging through the server's zerolog logger.
type gnetLogger struct{ l zerolog.Logger }

func (g gnetLogger) Debugf(format string, args ...any) { g.l.Debug().Msg(fmt.Sprintf(format, args...)) }
func (g gnetLogger) Infof(format string, args ...any)  { g.l.Debug().Msg(fmt.Sprintf(format, args...)) }
func (g gnetLogger) Warnf(format string, args ...any)  { g.l.Warn().Msg(fmt.Sprintf(format, args...)) }
func (g gnetLogger) Errorf(format string, args ...any) { g.l.Error().Msg(fmt.Sprintf(format, args...)) }
func (g gnetLogger) Fatalf(format string, args ...any) { g.l.Fatal().Msg(fmt.Sprintf(format, args...)) }

// Log lines. Every request, upgrade and stream, and every end of one, is
// logged at info through s.hot, a sampled logger (Options.LogSampler: by
// default the first 100 lines of each second, then one in 100), so that a
// busy node's log stays readable and costs little; refusals and slow clients
// are logged at warn through the same sampler. Paths are logged without
// their query string, where connection tokens travel, and no header is
// logged. Nothing is formatted unless the line is written.

// defaultLogSampler is Options.LogSampler's default.
func defaultLogSampler() zerolog.Sampler {
	return &zerolog.BurstSampler{Burst: 100, Period: time.Second, NextSampler: &zerolog.BasicSampler{N: 100}}
}

// remote returns c's peer address for a log line.
func remote(c *conn) string {
	if a, ok := remoteTCP(c); ok {
		return a.String()
	}
	if a := c.gc.RemoteAddr(); a != nil {
		return a.String()
	}
	return ""
}

// logRequest logs a plain HTTP request answered with status.
func (l *loop) logRequest(c *conn, req *http1.Request, status int) {
	if e := l.requestLevel(req); e != nil {
		e.Bytes("method", req.Method).Bytes("path", req.Path).Int("status", status).Str("remote", remote(c)).Msg("http")
	}
}

// requestLevel is the event a request's line starts: debug for
// Options.QuietPaths, else info.
func (l *loop) requestLevel(req *http1.Request) *zerolog.Event {
	for _, p := range l.s.opts.QuietPaths {
		if string(req.Path) == p {
			return l.s.hot.Debug()
		}
	}
	return l.s.hot.Info()
}

// logBadRequest logs a request that could not be parsed.
func (l *loop) logBadRequest(c *conn, status int, err error) {
	if e := l.s.hot.Warn(); e != nil {
		e.Int("status", status).Err(err).Str("remote", remote(c)).Msg("bad request")
	}
}

// logRefused logs an upgrade or stream refused with status.
func (l *loop) logRefused(c *conn, transport string, req *http1.Request, status int, reason string) {
	if e := l.s.hot.Warn(); e != nil {
		e.Str("transport", transport).Bytes("path", req.Path).Int("status", status).Str("reason", reason).Str("remote", remote(c)).Msg("refused")
	}
}

// logOpen logs a WebSocket or SSE connection that opened.
func (l *loop) logOpen(c *conn, transport string, hc *hub.Client, req *http1.Request) {
	if e := l.s.hot.Info(); e != nil {
		e.Str("transport", transport).Str("client", hc.ID).Str("user", hc.User).Bytes("path", req.Path).Str("remote", remote(c)).Msg("open")
	}
}

// logClose logs the end of a WebSocket (with its close code and reason) or
// SSE stream (with the reason rtd ended it for, if it did).
func (l *loop) logClose(transport string, hc *hub.Client, why closeReason) {
	if e := l.s.hot.Info(); e != nil {
		e = e.Str("transport", transport).Str("client", hc.ID).Str("user", hc.User)
		if why.code != 0 {
			e = e.Int("code", why.code)
		}
		if why.code != 0 || why.text != "" {
			e = e.Str("reason", why.text)
		}
		e.Msg("close")
	}
}

// logSlowClient logs a connection closed by the slow-client policy.
func (l *loop) logSlowClient(c *conn) {
	if e := l.s.hot.Warn(); e != nil {
		hc := c.HubClient()
		e.Str("client", hc.ID).Str("user", hc.User).Int("queued_bytes", c.l.queuedOn(c)).Msg("slow client closed")
	}
}
