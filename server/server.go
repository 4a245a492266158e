package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"
	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"

	"github.com/rtd-project/rtd/hub"
	"github.com/rtd-project/rtd/proto/http1"
)

// Server is an event-loop HTTP/1.1, WebSocket and SSE server. Create it with
// New, register routes, then Run it. Routes must be registered before Run.
type Server struct {
	opts     Options
	log      zerolog.Logger
	portHold int            // fd holding a port chosen for Addr ":0" until the loops listen on it; -1: none
	hot      zerolog.Logger // log, sampled: lines per request and per connection
	limits   http1.Limits
	router   router
	engine   eventEngine

	eng      gnet.Engine
	addr     atomic.Pointer[string]
	booted   chan struct{}
	stopped  chan struct{}
	running  atomic.Bool
	draining atomic.Bool

	loopsMu sync.Mutex
	loopsBy map[gnet.EventLoop]*loop
	loops   atomic.Pointer[[]*loop]

	conns  atomic.Int64
	nextID atomic.Uint64
	clock  atomic.Int64 // coarse unix nanoseconds, refreshed by the ticker

	lastHubSweep int64 // ticker goroutine only
	lastSweep    int64 // ticker goroutine only

	hub          *hub.Hub
	metrics      Metrics
	routeMetrics []*RouteMetrics // per WebSocket and SSE route, in registration order
}

// New returns a server configured by o (zero value = defaults).
func New(o Options) (*Server, error) {
	o = o.withDefaults()
	if _, _, err := net.SplitHostPort(o.Addr); err != nil {
		return nil, fmt.Errorf("server: bad Addr %q: %w", o.Addr, err)
	}
	s := &Server{
		opts: o,
		log:  *o.Logger,
		hot:  o.Logger.Sample(o.LogSampler),
		limits: http1.Limits{
			MaxRequestLine: o.MaxRequestLine,
			MaxHeaderBytes: o.MaxHeaderBytes,
			MaxHeaders:     o.MaxHeaders,
			MaxBodyBytes:   o.MaxBodyBytes,
			MaxChunks:      o.MaxChunks,
		},
		booted:   make(chan struct{}),
		portHold: -1,
		stopped:  make(chan struct{}),
		loopsBy:  make(map[gnet.EventLoop]*loop),
	}
	s.engine.s = s
	if o.fdHeadroomShort() {
		s.log.Warn().Int("max_conns", o.MaxConns).Int("open_files_limit", openFilesLimit()).
			Msg("MaxConns leaves too few descriptors below the open-files limit: a burst of connections can stop the server")
	}
	h, err := s.newHub(o.Hub)
	if err != nil {
		return nil, err
	}
	s.hub = h
	s.clock.Store(time.Now().UnixNano())
	empty := make([]*loop, 0)
	s.loops.Store(&empty)
	return s, nil
}

// HandleFunc registers a plain HTTP handler for method and pattern. Patterns
// are "/"-separated: literals, ":name" for one segment, and a final "*name"
// for the rest of the path. A GET route also answers HEAD.
func (s *Server) HandleFunc(method, pattern string, fn HandlerFunc) error {
	return s.handle(&route{method: method, pattern: pattern, kind: kindHTTP, handler: fn})
}

// handle registers a plain HTTP route.
func (s *Server) handle(r *route) error {
	if s.running.Load() {
		return ErrRunning
	}
	return s.router.add(r)
}

// handleConns registers r, a WebSocket or SSE route whose connections m
// counts, once its options' origins (and credentials) are valid.
func (s *Server) handleConns(r *route, m *RouteMetrics, origins []string, credentials bool) error {
	if err := checkOrigins(origins, credentials); err != nil {
		return err
	}
	if err := s.handle(r); err != nil {
		return err
	}
	s.addRouteMetrics(m)
	return nil
}

// Addr returns the address the server listens on once Run has started, or
// Options.Addr before that.
func (s *Server) Addr() string {
	if a := s.addr.Load(); a != nil {
		return *a
	}
	return s.opts.Addr
}

// Ready returns a channel closed once the server accepts connections.
func (s *Server) Ready() <-chan struct{} { return s.booted }

// Run serves until ctx is cancelled or Shutdown is called, then shuts down
// gracefully and returns. It returns an error if the server cannot start.
func (s *Server) Run(ctx context.Context) error {
	if !s.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-ctx.Done():
			sctx, cancel := context.WithTimeout(context.Background(), s.opts.ShutdownTimeout)
			defer cancel()
			_ = s.Shutdown(sctx)
		case <-done:
		}
	}()
	addr, err := s.holdPort()
	if err != nil {
		return err
	}
	opts := []gnet.Option{
		gnet.WithNumEventLoop(s.opts.Loops),
		gnet.WithReuseAddr(true),
		// A listener per loop, each accepting for its own loop only: an
		// accept is followed by OnOpen (and a refusal at MaxConns) before
		// the next, instead of a main reactor accepting faster than the
		// loops can refuse, into the open-files limit.
		gnet.WithReusePort(true),
		gnet.WithTicker(true),
		gnet.WithTCPNoDelay(gnet.TCPNoDelay),
		gnet.WithLogger(gnetLogger{s.log}),
	}
	if s.opts.SocketSendBuffer > 0 {
		opts = append(opts, gnet.WithSocketSendBuffer(s.opts.SocketSendBuffer))
	}
	err = gnet.Run(&s.engine, "tcp://"+addr, opts...)
	if s.portHold >= 0 {
		_ = unix.Close(s.portHold)
		s.portHold = -1
	}
	close(s.stopped)
	return err
}

// holdPort returns the address the loops listen on. With port 0 every loop's
// listener would get a port of its own, so one is chosen here first: a
// socket bound (not listening) with SO_REUSEPORT holds it until the loops
// have bound it too (OnBoot closes it); where the loops share one listener
// (macOS, NetBSD, OpenBSD with several loops) a free port is picked instead.
// A given port is checked to be free
// (bound without SO_REUSEPORT), unless Options.SharePort lets other
// processes listen on it too.
func (s *Server) holdPort() (string, error) {
	s.portHold = -1
	host, port, err := net.SplitHostPort(s.opts.Addr)
	if err != nil {
		return "", err
	}
	if port != "0" {
		if !s.opts.SharePort {
			if err := probePort(s.opts.Addr); err != nil {
				return "", err
			}
		}
		return s.opts.Addr, nil
	}
	if s.sharedListener() {
		// The loops share one listener: a held port would be in its way.
		// A port free a moment ago is taken instead (a small window).
		ln, err := net.Listen("tcp", s.opts.Addr)
		if err != nil {
			return "", fmt.Errorf("server: %w", err)
		}
		_, port, _ = net.SplitHostPort(ln.Addr().String())
		_ = ln.Close()
		return net.JoinHostPort(host, port), nil
	}
	ip := net.ParseIP(host)
	if host == "" {
		ip = net.IPv4zero
	}
	family, sa := unix.AF_INET, unix.Sockaddr(nil)
	if ip4 := ip.To4(); ip4 != nil {
		sa4 := &unix.SockaddrInet4{}
		copy(sa4.Addr[:], ip4)
		sa = sa4
	} else if ip != nil {
		sa6 := &unix.SockaddrInet6{}
		copy(sa6.Addr[:], ip.To16())
		family, sa = unix.AF_INET6, sa6
	} else {
		return "", fmt.Errorf("server: bad Addr %q", s.opts.Addr)
	}
	fd, err := streamSocket(family)
	if err != nil {
		return "", err
	}
	for _, opt := range []int{unix.SO_REUSEADDR, unix.SO_REUSEPORT} {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, opt, 1); err != nil {
			_ = unix.Close(fd)
			return "", err
		}
	}
	if err := unix.Bind(fd, sa); err != nil {
		_ = unix.Close(fd)
		return "", err
	}
	bound, err := unix.Getsockname(fd)
	if err != nil {
		_ = unix.Close(fd)
		return "", err
	}
	switch b := bound.(type) {
	case *unix.SockaddrInet4:
		port = strconv.Itoa(b.Port)
	case *unix.SockaddrInet6:
		port = strconv.Itoa(b.Port)
	}
	s.portHold = fd
	return net.JoinHostPort(host, port), nil
}

// Shutdown stops accepting connections, closes WebSocket connections with
// 1001 (going away), ends SSE streams with a jittered retry hint, lets
// in-flight responses finish, and stops the engine once every connection is
// gone or ctx expires. It returns when Run has returned.
func (s *Server) Shutdown(ctx context.Context) error {
	if !s.running.Load() {
		return ErrNotRunning
	}
	select {
	case <-s.booted:
	case <-s.stopped:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
	if s.draining.CompareAndSwap(false, true) {
		s.log.Info().Int64("connections", s.conns.Load()).Msg("draining")
		for _, l := range *s.loops.Load() {
			_ = l.el.Execute(context.Background(), gnet.RunnableFunc(func(context.Context) error {
				l.goAway()
				return nil
			}))
		}
	}
	// Wait for connections to finish, then stop the engine.
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
wait:
	for s.conns.Load() > 0 {
		select {
		case <-ctx.Done():
			break wait
		case <-s.stopped:
			return nil
		case <-t.C:
		}
	}
	if n := s.conns.Load(); n > 0 {
		s.log.Warn().Int64("connections", n).Msg("shutdown deadline passed; closing the rest")
	}
	stopCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.eng.Stop(stopCtx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		s.log.Debug().Err(err).Msg("engine stop")
	}
	<-s.stopped
	return ctx.Err()
}

// hubSweepPeriod is how often the ticker sweeps the hub.
const hubSweepPeriod = 5 * time.Second

// now returns the coarse clock: accurate to the ticker period, free to read.
func (s *Server) now() int64 { return s.clock.Load() }

// after returns the deadline d from now on the precise clock. The coarse one
// lags by up to a tick, and a deadline set from it could pass a tick early;
// checked against the coarse clock, this one passes at most a tick late.
func (s *Server) after(d time.Duration) int64 { return time.Now().UnixNano() + int64(d) }

// tickPeriod is how often timers are checked: a quarter of the shortest
// timeout, between 5 ms and 250 ms.
func (s *Server) tickPeriod() time.Duration {
	d := min(s.opts.HeaderTimeout, s.opts.IdleTimeout) / 4
	for _, r := range s.router.routes {
		if r.ws != nil {
			for _, t := range []time.Duration{r.ws.opts.HeartbeatInterval, r.ws.opts.IdleTimeout, r.ws.opts.CloseTimeout} {
				if t > 0 {
					d = min(d, t/4)
				}
			}
		}
		if r.sse != nil && r.sse.opts.HeartbeatInterval > 0 {
			d = min(d, r.sse.opts.HeartbeatInterval/4)
		}
	}
	return max(5*time.Millisecond, min(d, 250*time.Millisecond))
}

// loopFor returns the state of event loop el, creating it on first sight.
func (s *Server) loopFor(el gnet.EventLoop) *loop {
	s.loopsMu.Lock()
	defer s.loopsMu.Unlock()
	if l, ok := s.loopsBy[el]; ok {
		return l
	}
	old := *s.loops.Load()
	l := newLoop(s, el, len(old))
	s.loopsBy[el] = l
	next := append(old[:len(old):len(old)], l)
	s.loops.Store(&next)
	return l
}

// eventEngine adapts the Server to gnet's EventHandler; it keeps gnet's
// callbacks out of the Server's public method set.
type eventEngine struct {
	gnet.BuiltinEventEngine
	s *Server
}

func (e *eventEngine) OnBoot(eng gnet.Engine) gnet.Action {
	s := e.s
	s.eng = eng
	if s.portHold >= 0 {
		_ = unix.Close(s.portHold) // the loops' listeners hold the port now
		s.portHold = -1
	}
	if fd, err := eng.Dup(); err == nil {
		if sa, err := unix.Getsockname(fd); err == nil {
			if in, ok := sa.(*unix.SockaddrInet4); ok {
				host, _, _ := net.SplitHostPort(s.opts.Addr)
				if host == "" {
					host = "0.0.0.0"
				}
				a := net.JoinHostPort(host, strconv.Itoa(in.Port))
				s.addr.Store(&a)
			} else if in6, ok := sa.(*unix.SockaddrInet6); ok {
				host, _, _ := net.SplitHostPort(s.opts.Addr)
				a := net.JoinHostPort(host, strconv.Itoa(in6.Port))
				s.addr.Store(&a)
			}
		}
		_ = unix.Close(fd)
	}
	s.log.Info().Str("addr", s.Addr()).Int("loops", s.opts.Loops).Msg("listening")
	close(s.booted)
	return gnet.None
}

var resp503 = []byte("HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 20\r\nConnection: close\r\nRetry-After: 1\r\n\r\nserver is at limit.\n")

func (e *eventEngine) OnOpen(gc gnet.Conn) ([]byte, gnet.Action) {
	s := e.s
	if s.draining.Load() || s.conns.Load() >= int64(s.opts.MaxConns) {
		s.metrics.ConnsRejected.Add(1)
		return resp503, gnet.Close
	}
	s.conns.Add(1)
	s.metrics.ConnsAccepted.Add(1)
	l := s.loopFor(gc.EventLoop())
	c := l.open(gc)
	gc.SetContext(c)
	return nil, gnet.None
}

func (e *eventEngine) OnClose(gc gnet.Conn, err error) gnet.Action {
	c, ok := gc.Context().(*conn)
	if !ok {
		return gnet.None
	}
	e.s.conns.Add(-1)
	c.l.closed(c, err)
	return gnet.None
}

func (e *eventEngine) OnTraffic(gc gnet.Conn) gnet.Action {
	c := gc.Context().(*conn)
	return c.l.traffic(c)
}

func (e *eventEngine) OnTick() (time.Duration, gnet.Action) {
	s := e.s
	now := time.Now().UnixNano()
	s.clock.Store(now)
	period := s.tickPeriod()
	sweep := now-s.lastSweep >= int64(period)-int64(pacePeriod)
	if sweep {
		s.lastSweep = now
	}
	pacing, draining := false, false
	for _, l := range *s.loops.Load() {
		// The sweep paces too; between sweeps, only loops with
		// connections waiting for their output to drain are woken.
		switch {
		case sweep:
			_ = l.el.Execute(context.Background(), l.sweeper)
		case l.pacing.Load():
			_ = l.el.Execute(context.Background(), l.pacer)
		}
		if l.pacing.Load() {
			pacing = true
			draining = draining || !l.paceStalled.Load()
		}
	}
	// Channels with history but no subscribers expire with their history;
	// the hub drops them when swept.
	if now-s.lastHubSweep >= int64(hubSweepPeriod) {
		s.lastHubSweep = now
		s.hub.Sweep()
	}
	switch {
	case draining:
		return pacePeriod, gnet.None
	case pacing:
		return min(stalledPacePeriod, period), gnet.None
	}
	return period, gnet.None
}

// Draining reports whether Shutdown has started.
func (s *Server) Draining() bool { return s.draining.Load() }

// sharedListener reports whether gnet gives the loops one listener rather
// than one each: it sets SO_REUSEPORT only where the kernel balances
// connections over the sockets (Linux, FreeBSD, DragonFly) or for one loop.
func (s *Server) sharedListener() bool {
	switch goos {
	case "linux", "freebsd", "dragonfly":
		return false
	}
	return s.opts.Loops > 1
}

// goos is runtime.GOOS, a variable for the test of the shared listener's path.
var goos = runtime.GOOS

// probePort fails, as a plain listener would, when another socket holds addr
// (the loops' listeners use SO_REUSEPORT, which would otherwise share it
// silently with another process of the same user).
func probePort(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	return ln.Close()
}
