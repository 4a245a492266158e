package servertest

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/rtd-project/rtd/server"
)

// DefaultTimeout bounds every Expect and Connect of a Host's clients unless
// Host.Timeout says otherwise.
const DefaultTimeout = 5 * time.Second

// Host is a server.Server running in-process on a loopback port for one
// test. Start makes it; the test's cleanup shuts it down.
type Host struct {
	// Server is the running server: its Hub, Metrics, Routes.
	Server *server.Server
	// URL is "http://127.0.0.1:PORT".
	URL string
	// Timeout bounds each Expect and Connect. Default DefaultTimeout.
	Timeout time.Duration

	t testing.TB
}

// Start creates a server with o (Addr is always 127.0.0.1 on a free port;
// Loops defaults to 1), lets setup register its routes (or mount the tier:
// fanout.Mount), runs it, and returns once it accepts connections. An error
// from New, setup or Run fails the test. The test's cleanup shuts the
// server down and waits for Run to return.
func Start(t testing.TB, o server.Options, setup func(s *server.Server) error) *Host {
	t.Helper()
	o.Addr = "127.0.0.1:0"
	if o.Loops == 0 {
		o.Loops = 1
	}
	s, err := server.New(o)
	if err != nil {
		t.Fatalf("servertest: server.New: %v", err)
	}
	if setup != nil {
		if err := setup(s); err != nil {
			t.Fatalf("servertest: setting up routes: %v", err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- s.Run(ctx) }()
	select {
	case <-s.Ready():
	case err := <-ran:
		cancel()
		t.Fatalf("servertest: server did not start: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-ran; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("servertest: server.Run: %v", err)
		}
	})
	return &Host{Server: s, URL: "http://" + s.Addr(), Timeout: DefaultTimeout, t: t}
}

func (h *Host) timeout() time.Duration {
	if h.Timeout > 0 {
		return h.Timeout
	}
	return DefaultTimeout
}

// Token returns an HS256 JWT of claims signed with secret, as the auth
// package's verifier (and fanout) accept; the test fails if it cannot be
// signed.
func (h *Host) Token(claims map[string]any, secret string) string {
	h.t.Helper()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims(claims)).SignedString([]byte(secret))
	if err != nil {
		h.t.Fatalf("servertest: signing a token: %v", err)
	}
	return tok
}

// request is what the three client builders share: the path, query and
// headers of the request that opens the connection.
type request struct {
	h      *Host
	path   string
	query  url.Values
	header http.Header
}

func (r *request) addQuery(name, value string) {
	if r.query == nil {
		r.query = url.Values{}
	}
	r.query.Add(name, value)
}

func (r *request) setHeader(name, value string) {
	if r.header == nil {
		r.header = http.Header{}
	}
	r.header.Set(name, value)
}

func (r *request) bearer(claims map[string]any, secret string) {
	r.h.t.Helper()
	r.setHeader("Authorization", "Bearer "+r.h.Token(claims, secret))
}

// target returns the request target: path and query.
func (r *request) target() string {
	if len(r.query) == 0 {
		return r.path
	}
	sep := "?"
	if strings.Contains(r.path, "?") {
		sep = "&"
	}
	return r.path + sep + r.query.Encode()
}

// next receives the next item of a connection, or closed once in is closed;
// isEnd says which items end the connection, after which reading fails
// the test.
func next[T any](h *Host, in <-chan T, ended *bool, what string, closed T, isEnd func(T) bool) T {
	h.t.Helper()
	if *ended {
		h.t.Fatalf("servertest: %s: read after the end", what)
	}
	v, ok := receive(h, in, what)
	if !ok {
		v = closed
	}
	*ended = isEnd(v)
	return v
}

// receive takes the next item from in, waiting at most the Host's Timeout
// (after which the test fails); ok is false once in is closed.
func receive[T any](h *Host, in <-chan T, what string) (v T, ok bool) {
	h.t.Helper()
	t := time.NewTimer(h.timeout())
	defer t.Stop()
	select {
	case v, ok = <-in:
		return v, ok
	case <-t.C:
		h.t.Fatalf("servertest: %s: nothing within %v", what, h.timeout())
		return v, false
	}
}
