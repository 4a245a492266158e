package server

import (
	"strings"
)

// Guard checks a request before its route runs: nil lets it through; an
// *HTTPError refuses it with that status and message, any other error with
// 403. Guards run on the event loop and must not block.
type Guard func(r *Request) error

// Group registers routes under a common path prefix, each behind the
// group's guards (authentication, a role check), which run in order before
// the route's own Authorize hook. A refused plain request gets the guard's
// status; a refused upgrade or stream gets it before any WebSocket or event
// stream exists.
type Group struct {
	s      *Server
	prefix string
	guards []Guard
}

// Group returns a group of routes whose patterns are prefix followed by
// their own ("/admin" and "/stats" make "/admin/stats").
func (s *Server) Group(prefix string, guards ...Guard) *Group {
	return &Group{s: s, prefix: strings.TrimSuffix(prefix, "/"), guards: guards}
}

// Group returns a group nested in g: the prefixes join, and g's guards run
// before the new ones.
func (g *Group) Group(prefix string, guards ...Guard) *Group {
	return &Group{s: g.s, prefix: g.prefix + strings.TrimSuffix(prefix, "/"), guards: append(append([]Guard(nil), g.guards...), guards...)}
}

// HandleFunc registers a plain HTTP handler behind the group's guards. For a request with
// "Expect: 100-continue" they run on the head as well, before "100 Continue" is sent, so a
// refused client is answered before it uploads its body; they must therefore not depend on
// the body, and may run twice for one request.
func (g *Group) HandleFunc(method, pattern string, fn HandlerFunc) error {
	guards := g.guards
	return g.s.handle(&route{method: method, pattern: g.prefix + pattern, kind: kindHTTP, guards: guards,
		handler: func(w *ResponseWriter, r *Request) {
			if err := runGuards(guards, nil, r); err != nil {
				writeRefusal(w, err)
				return
			}
			fn(w, r)
		}})
}

// WebSocket registers a WebSocket route behind the group's guards.
func (g *Group) WebSocket(pattern string, h WSHandler, o WSOptions) error {
	guards, own := g.guards, o.Authorize
	o.Authorize = func(r *Request) error { return runGuards(guards, own, r) }
	return g.s.WebSocket(g.prefix+pattern, h, o)
}

// SSE registers an event-stream route behind the group's guards.
func (g *Group) SSE(pattern string, h SSEHandler, o SSEOptions) error {
	guards, own := g.guards, o.Authorize
	o.Authorize = func(r *Request) error { return runGuards(guards, own, r) }
	return g.s.SSE(g.prefix+pattern, h, o)
}

// runGuards runs guards, then own (a route's Authorize) when set.
func runGuards(guards []Guard, own func(*Request) error, r *Request) error {
	for _, g := range guards {
		if err := g(r); err != nil {
			return err
		}
	}
	if own != nil {
		return own(r)
	}
	return nil
}

// writeRefusal answers a plain request a guard refused, as an upgrade
// refusal is answered.
func writeRefusal(w *ResponseWriter, err error) {
	status, msg := refusal(err)
	w.reset()
	w.WriteHeader(status)
	if isJSONObject(msg) {
		w.SetHeader("Content-Type", "application/json")
	}
	_, _ = w.WriteString(msg + "\n")
}
