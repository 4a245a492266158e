package bench

import (
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Scenarios.
const (
	ScenarioConnect = "connect" // open and hold connections; handshake latency, server memory per connection
	ScenarioFanout  = "fanout"  // subscribers on channels, publishers over HTTP; delivered/s, latency, loss
	ScenarioEcho    = "echo"    // WebSocket round trips on /echo
	ScenarioSlow    = "slow"    // fanout where a fraction of subscribers never read
	ScenarioChurn   = "churn"   // fanout while extra connections open and close at a rate
	ScenarioRecover = "recover" // subscribers disconnect, publications are made, they resubscribe from their positions
)

// Scenarios lists the scenario names.
var Scenarios = []string{ScenarioConnect, ScenarioFanout, ScenarioEcho, ScenarioSlow, ScenarioChurn, ScenarioRecover}

// Config describes one benchmark run. The zero value of every field but
// Scenario and URLs means its default (see Run).
type Config struct {
	Scenario string `json:"scenario"`
	// URLs are the servers' base URLs (http://127.0.0.1:8080); connections are
	// spread over them round-robin, which is how several server processes (one
	// port each) are loaded together. Publications go to the first.
	URLs []string `json:"urls"`
	// Conns is the number of connections held (subscribers for the fan-out
	// scenarios). Default 1000.
	Conns int `json:"conns"`
	// Channels is the number of channels; subscriber i listens to channel
	// i mod Channels. Default 1.
	Channels int `json:"channels"`
	// Rate is publications per second for the fan-out scenarios (0: as fast as
	// delivery keeps up, bounded by Window) and connections per second for
	// connect (0: as fast as the handshakes complete).
	Rate float64 `json:"rate"`
	// Size is the size of a publication's data or an echo message. Default 64.
	Size int `json:"size"`
	// Duration is how long traffic runs (connections are held that long in
	// connect). Default 10s.
	Duration time.Duration `json:"duration_ns"`
	// Procs is the number of client processes. Default 1.
	Procs int `json:"procs"`
	// Src is the first three octets of the source addresses, "127.0.1": the
	// connections are spread over 127.0.1.1, .2, … with at most ConnsPerSrc
	// each. Empty: the kernel picks the source.
	Src string `json:"src,omitempty"`
	// ConnsPerSrc bounds connections per source address. Default 4000 (the
	// kernel's port search slows down badly near the 28k ports a source/
	// destination pair has).
	ConnsPerSrc int `json:"conns_per_src"`
	// Transport is "ws", "sse" or "both" (alternating). Default ws; echo and
	// recover are always ws.
	Transport string `json:"transport"`
	// Protocol is what the client speaks: "rtd" (rtd's JSON channel protocol,
	// the default) or "centrifuge" (Centrifuge's JSON protocol, see
	// ProtocolCentrifuge).
	Protocol string `json:"protocol"`
	// RecoverPubs is how many publications the recover scenario makes on each
	// channel while the subscribers are away. Default 50.
	RecoverPubs int `json:"recover_pubs,omitempty"`
	// PID is the server's process ID: its memory is read from /proc/PID/status.
	PID int `json:"pid,omitempty"`
	// Publishers is the number of concurrent publishers; each publishes to every
	// channel in turn. Default 1.
	Publishers int `json:"publishers"`
	// Batch is the most publications sent in one POST. Default 100.
	Batch int `json:"batch"`
	// Window bounds undelivered publications when Rate is 0, in publications
	// per subscriber. Default 8.
	Window int `json:"window"`
	// SlowFraction is the share of subscribers that never read (slow). Default 0.1.
	SlowFraction float64 `json:"slow_fraction"`
	// ChurnRate is connections per second opened and closed during churn.
	// Default 100.
	ChurnRate float64 `json:"churn_rate"`
	// ChurnLife is how long a churning connection stays. Default 1s.
	ChurnLife time.Duration `json:"churn_life_ns"`
	// Interval is the sampling period of the time series. Default 1s.
	Interval time.Duration `json:"interval_ns"`
	// ReadyTimeout bounds opening (and subscribing) all connections. Default
	// 30s plus 1s per 1000 connections.
	ReadyTimeout time.Duration `json:"ready_timeout_ns"`
	// Drain is how long to wait for deliveries in flight after traffic
	// stops. Default 5s.
	Drain time.Duration `json:"drain_ns"`

	// Live receives a progress line (carriage-return refreshed) while the run
	// goes on; nil keeps quiet. Main sets it when stderr is a terminal.
	Live io.Writer `json:"-"`
	// ChildCommand starts a --procs child: the command and arguments that lead
	// to Main, which then gets the scenario and --child. Default: this
	// executable with "bench".
	ChildCommand []string `json:"-"`

	// FirstConn is the global index of this process's first connection; the
	// parent sets it for each --procs child.
	FirstConn int `json:"first_conn,omitempty"`
	// TotalConns is the connection count of the whole run when this process
	// holds a share of it; the parent sets it for each --procs child.
	TotalConns int `json:"total_conns,omitempty"`
}

// withDefaults returns c with the zero fields set to their defaults.
func (c Config) withDefaults() Config {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.Conns, 1000)
	def(&c.Channels, 1)
	def(&c.Size, 64)
	def(&c.Procs, 1)
	def(&c.ConnsPerSrc, 4000)
	def(&c.Publishers, 1)
	def(&c.Batch, 100)
	def(&c.Window, 8)
	def(&c.RecoverPubs, 50)
	if c.Protocol == "" {
		c.Protocol = ProtocolRTD
	}
	if c.Duration <= 0 {
		c.Duration = 10 * time.Second
	}
	if c.Transport == "" || c.Scenario == ScenarioEcho || c.Scenario == ScenarioRecover {
		c.Transport = "ws"
	}
	if c.SlowFraction <= 0 {
		c.SlowFraction = 0.1
	}
	if c.ChurnRate <= 0 {
		c.ChurnRate = 100
	}
	if c.ChurnLife <= 0 {
		c.ChurnLife = time.Second
	}
	if c.Interval <= 0 {
		c.Interval = time.Second
	}
	if c.ReadyTimeout <= 0 {
		c.ReadyTimeout = 30*time.Second + time.Duration(c.Conns)*time.Millisecond
	}
	if c.Drain <= 0 {
		c.Drain = 5 * time.Second
	}
	if c.TotalConns <= 0 {
		c.TotalConns = c.Conns
	}
	return c
}

func (c *Config) validate() error {
	switch c.Scenario {
	case ScenarioConnect, ScenarioFanout, ScenarioEcho, ScenarioSlow, ScenarioChurn:
	case ScenarioRecover:
		if c.Procs > 1 {
			return fmt.Errorf("bench: recover runs in one process (--procs 1)")
		}
	default:
		return fmt.Errorf("%w %q (want one of %s)", ErrUnknownScenario, c.Scenario, strings.Join(Scenarios, ", "))
	}
	switch c.Protocol {
	case ProtocolRTD, ProtocolCentrifuge:
	default:
		return fmt.Errorf("bench: --protocol %q: want %s", c.Protocol, strings.Join(Protocols, " or "))
	}
	switch c.Transport {
	case "ws", "sse", "both":
	default:
		return fmt.Errorf("bench: --transport %q: want ws, sse or both", c.Transport)
	}
	if len(c.URLs) == 0 {
		return fmt.Errorf("bench: no --url")
	}
	if c.Src != "" {
		if ip := net.ParseIP(c.Src + ".1").To4(); ip == nil {
			return fmt.Errorf("bench: --src %q: want three octets such as 127.0.1", c.Src)
		}
	}
	return nil
}

// fanout reports whether the scenario publishes.
func (c *Config) fanout() bool {
	return c.Scenario == ScenarioFanout || c.Scenario == ScenarioSlow || c.Scenario == ScenarioChurn
}

// subscribes reports whether the WebSocket connections subscribe to a channel.
func (c *Config) subscribes() bool { return c.fanout() || c.Scenario == ScenarioRecover }

// transportOf returns the transport of connection i.
func (c *Config) transportOf(i int) transport {
	switch c.Transport {
	case "sse":
		return transportSSE
	case "both":
		return transport(i & 1)
	}
	return transportWS
}

// slow reports whether subscriber i is one that never reads: an even spread of
// SlowFraction of all subscribers.
func (c *Config) slow(i int) bool {
	if c.Scenario != ScenarioSlow {
		return false
	}
	f := c.SlowFraction
	return int(float64(i+1)*f) > int(float64(i)*f)
}

// channelName is the name of channel k.
func channelName(k int) string { return "bench" + strconv.Itoa(k) }

// srcAddr returns the source address of connection i.
func (c *Config) srcAddr(i int) [4]byte {
	if c.Src == "" {
		return [4]byte{}
	}
	ip := net.ParseIP(c.Src + ".1").To4()
	host := 1 + (i/c.ConnsPerSrc)%254
	return [4]byte{ip[0], ip[1], ip[2], byte(host)}
}

// server is one --url, resolved.
type server struct {
	base string // http://host:port
	host string
	addr unix.SockaddrInet4
}

func resolveServers(urls []string) ([]server, error) {
	var out []server
	for _, raw := range urls {
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("bench: --url %q: want http://host:port", raw)
		}
		a, err := net.ResolveTCPAddr("tcp4", hostPort(u))
		if err != nil {
			return nil, fmt.Errorf("bench: --url %q: %w", raw, err)
		}
		s := server{base: "http://" + u.Host, host: u.Host}
		copy(s.addr.Addr[:], a.IP.To4())
		s.addr.Port = a.Port
		out = append(out, s)
	}
	return out, nil
}

func hostPort(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	if u.Scheme == "https" || u.Scheme == "wss" {
		return u.Host + ":443"
	}
	return u.Host + ":80"
}
