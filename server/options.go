package server

import (
	"runtime"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/rtd-project/rtd/hub"
)

// Options configures a Server. The zero value serves on :8080 with the defaults
// documented on each field.
type Options struct {
	// Addr is the TCP address to listen on, "host:port". Default ":8080".
	// Port 0 picks a free port; Server.Addr reports it once Run has started.
	Addr string

	// Loops is the number of event loops. Default: one per CPU.
	Loops int

	// MaxConns caps concurrent connections; connections beyond it are closed
	// as soon as they are accepted (503). Default: the process's open-files
	// limit (RLIMIT_NOFILE) less 100 descriptors the server keeps for itself
	// (listeners, epoll and event fds, logs, a broker connection): 19,900
	// under a limit of 20,000. gnet stops the whole engine when accept fails
	// for want of a descriptor, so the cap must stay below the limit; each
	// loop accepts on its own listener (SO_REUSEPORT) one connection at a
	// time and refuses it before the next, so at most one descriptor per
	// loop is in flight. New warns when an explicit MaxConns leaves less.
	MaxConns int

	// SharePort lets other processes (of the same user) listen on Addr too,
	// with the kernel spreading connections over them (SO_REUSEPORT): several
	// rtd processes behind one port. Default false: a port in use is an
	// error, as with any listener. The kernel spreads connections on Linux,
	// FreeBSD and DragonFly; on macOS and the other BSDs gnet sets
	// SO_REUSEPORT for one loop only.
	SharePort bool

	// HeaderTimeout bounds the time from the first byte of a request to the
	// end of its head (slowloris protection). Default 10s.
	HeaderTimeout time.Duration

	// IdleTimeout closes a keep-alive HTTP connection that sends nothing for
	// this long between requests. Default 60s.
	IdleTimeout time.Duration

	// WriteTimeout bounds how long a connection may hold bytes it does not
	// read: a response or stream being closed, or a replay, that makes no
	// progress for this long is dropped. While bytes are being read, a
	// close waits for the last of them. Default 30s.
	WriteTimeout time.Duration
	// ShutdownTimeout bounds Shutdown when its context has no deadline.
	// Default 10s.
	ShutdownTimeout time.Duration

	// MaxRequestLine, MaxHeaderBytes, MaxHeaders, MaxBodyBytes and MaxChunks
	// bound what a client may send before a response (414, 431, 431, 413, 413).
	// Defaults: 8 KiB, 16 KiB, 64 headers, 1 MiB, 65536 chunks. A chunked
	// body's framing counts against MaxBodyBytes (see http1.Limits).
	MaxRequestLine int
	MaxHeaderBytes int
	MaxHeaders     int
	MaxBodyBytes   int64
	MaxChunks      int

	// SocketSendBuffer sets SO_SNDBUF on accepted sockets, bounding what a
	// client that stops reading can hold in the kernel. 0 keeps the kernel's
	// autotuning (up to tcp_wmem max, 4 MiB here).
	SocketSendBuffer int

	// Encoder is the wire format of publications: what the server's
	// WebSocket and SSE subscribers receive for each publication (see
	// Encoder; the framing and SSE ids stay the server's). Default (nil):
	// a publication's Data as is, presence events not sent. One server has
	// one format for all its routes: fanout.Mount needs fanout.Encoder.
	Encoder Encoder

	// Hub configures the server's hub (channels, history, presence, limits).
	// Its Loops, Deliverer and Encoder are the server's own (Encoder above is
	// what the server encodes with) and are ignored here.
	Hub hub.Options

	// Logger receives the server's logs (and gnet's). Default: a disabled logger.
	Logger *zerolog.Logger
	// LogSampler samples the per-request and per-connection lines (requests,
	// opens, closes, refusals, slow clients). Default: the first 100 each
	// second, then one in 100. &zerolog.BasicSampler{N: 1} logs every one.
	LogSampler zerolog.Sampler
	// QuietPaths are logged at debug rather than info: health checks and
	// scrapes (/healthz, /readyz, /metrics) that would fill the log.
	QuietPaths []string
}

const (
	defaultAddr            = ":8080"
	defaultHeaderTimeout   = 10 * time.Second
	defaultIdleTimeout     = 60 * time.Second
	defaultShutdownTimeout = 10 * time.Second
	defaultWriteTimeout    = 30 * time.Second
)

// withDefaults returns a copy of o with every zero field set to its default.
func (o Options) withDefaults() Options {
	if o.Addr == "" {
		o.Addr = defaultAddr
	}
	orDefault(&o.Loops, runtime.NumCPU())
	orDefault(&o.MaxConns, max(openFilesLimit()-reservedFDs, 1))
	orDefault(&o.HeaderTimeout, defaultHeaderTimeout)
	orDefault(&o.IdleTimeout, defaultIdleTimeout)
	orDefault(&o.WriteTimeout, defaultWriteTimeout)
	orDefault(&o.ShutdownTimeout, defaultShutdownTimeout)
	if o.LogSampler == nil {
		o.LogSampler = defaultLogSampler()
	}
	if o.Logger == nil {
		l := zerolog.Nop()
		o.Logger = &l
	}
	return o
}

// orDefault sets *v to def when it is unset: zero, or negative where that
// means nothing else.
func orDefault[T ~int | ~int64](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// reservedFDs are the descriptors the default MaxConns leaves for the server
// itself.
const reservedFDs = 100

// openFilesLimit returns the process's open-files limit (Go raises the soft
// limit to the hard one at start-up).
func openFilesLimit() int {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 1024
	}
	return int(min(lim.Cur, 1<<24))
}

// fdHeadroomShort reports whether o leaves fewer descriptors free below the
// open-files limit than the server needs besides its connections.
func (o *Options) fdHeadroomShort() bool {
	return o.MaxConns+reservedFDs > openFilesLimit()
}
