package server

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
)

// maxParams bounds the :param and *wildcard segments of one pattern, so a
// request's parameters fit in a fixed array and matching allocates nothing.
const maxParams = 8

// routeKind says what a matched route turns the connection into.
type routeKind uint8

const (
	kindHTTP routeKind = iota
	kindWS
	kindSSE
)

// segment is one compiled piece of a pattern: a literal, a :param or a
// trailing *wildcard.
type segment struct {
	lit      string
	param    string
	wildcard bool
}

type route struct {
	method   string
	pattern  string
	segs     []segment
	kind     routeKind
	handler  HandlerFunc
	guards   []Guard // a Group's guards, run on the head too (see expectContinue)
	ws       *wsRoute
	sse      *sseRoute
	nparams  int
	wildcard bool
}

// router matches a method and path against registered patterns. Patterns are
// made of "/"-separated segments: literals, ":name" parameters matching one
// non-empty segment, and a final "*name" matching the rest of the path
// (possibly empty). Literals win over parameters, parameters over wildcards,
// whatever the order of registration.
type router struct {
	routes []*route
}

func compilePattern(pattern string) ([]segment, error) {
	if !strings.HasPrefix(pattern, "/") {
		return nil, fmt.Errorf("%w: %q must start with /", ErrBadPattern, pattern)
	}
	parts := strings.Split(pattern[1:], "/")
	segs := make([]segment, 0, len(parts))
	params := 0
	for i, p := range parts {
		switch {
		case strings.HasPrefix(p, ":"):
			if len(p) == 1 {
				return nil, fmt.Errorf("%w: %q has an unnamed parameter", ErrBadPattern, pattern)
			}
			segs = append(segs, segment{param: p[1:]})
			params++
		case strings.HasPrefix(p, "*"):
			if i != len(parts)-1 {
				return nil, fmt.Errorf("%w: %q has a wildcard before its end", ErrBadPattern, pattern)
			}
			segs = append(segs, segment{param: p[1:], wildcard: true})
			params++
		default:
			segs = append(segs, segment{lit: p})
		}
	}
	if params > maxParams {
		return nil, fmt.Errorf("%w: %q has more than %d parameters", ErrBadPattern, pattern, maxParams)
	}
	return segs, nil
}

func (rt *router) add(r *route) error {
	segs, err := compilePattern(r.pattern)
	if err != nil {
		return err
	}
	for _, o := range rt.routes {
		if o.method == r.method && o.pattern == r.pattern {
			return fmt.Errorf("%w: %s %s", ErrDuplicateRoute, r.method, r.pattern)
		}
	}
	r.segs = segs
	for _, s := range segs {
		if s.param != "" || s.wildcard {
			r.nparams++
		}
		r.wildcard = r.wildcard || s.wildcard
	}
	rt.routes = append(rt.routes, r)
	// Most specific first: more literal segments, then no wildcard.
	sort.SliceStable(rt.routes, func(i, j int) bool {
		return specificity(rt.routes[i]) > specificity(rt.routes[j])
	})
	return nil
}

func specificity(r *route) int {
	n := 0
	for _, s := range r.segs {
		switch {
		case s.wildcard:
		case s.param != "":
			n += 1
		default:
			n += 4
		}
	}
	if !r.wildcard {
		n += 2
	}
	return n
}

// params holds the values a match extracted; values alias the request path.
type params struct {
	n     int
	names [maxParams]string
	vals  [maxParams][]byte
}

func (p *params) get(name string) ([]byte, bool) {
	for i := 0; i < p.n; i++ {
		if p.names[i] == name {
			return p.vals[i], true
		}
	}
	return nil, false
}

// match finds the route for method and path. When the path matches routes of
// other methods only, it returns nil and the Allow list for a 405.
func (rt *router) match(method, path []byte, ps *params) (r *route, allow []string) {
	for _, r := range rt.routes {
		if !matchSegs(r.segs, path, ps) {
			continue
		}
		if r.method == string(method) || (r.method == "GET" && string(method) == "HEAD" && r.kind == kindHTTP) {
			return r, nil
		}
		allow = append(allow, r.method)
	}
	ps.n = 0
	return nil, allow
}

func matchSegs(segs []segment, path []byte, ps *params) bool {
	ps.n = 0
	if len(path) == 0 || path[0] != '/' {
		return false
	}
	rest := path[1:]
	for i, s := range segs {
		if s.wildcard {
			ps.names[ps.n], ps.vals[ps.n] = s.param, rest
			ps.n++
			return true
		}
		var part []byte
		end := bytes.IndexByte(rest, '/')
		last := end < 0
		if last {
			part, rest = rest, nil
		} else {
			part, rest = rest[:end], rest[end+1:]
		}
		if s.param != "" {
			if len(part) == 0 {
				return false
			}
			ps.names[ps.n], ps.vals[ps.n] = s.param, part
			ps.n++
		} else if string(part) != s.lit {
			return false
		}
		if last {
			return i == len(segs)-1 || (i == len(segs)-2 && segs[i+1].wildcard && bindEmptyWildcard(segs[i+1], ps))
		}
	}
	return false
}

func bindEmptyWildcard(s segment, ps *params) bool {
	ps.names[ps.n], ps.vals[ps.n] = s.param, nil
	ps.n++
	return true
}

// RouteInfo describes a registered route.
type RouteInfo struct {
	Method  string // GET, POST, …
	Pattern string // as registered: "/rooms/:room"
	Kind    string // "http", "websocket" or "sse"
}

func (k routeKind) String() string {
	switch k {
	case kindWS:
		return "websocket"
	case kindSSE:
		return "sse"
	}
	return "http"
}

// Routes lists the registered routes, sorted by pattern and method: what a
// server answers, for a startup log or an admin page.
func (s *Server) Routes() []RouteInfo {
	out := make([]RouteInfo, 0, len(s.router.routes))
	for _, r := range s.router.routes {
		out = append(out, RouteInfo{Method: r.method, Pattern: r.pattern, Kind: r.kind.String()})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Pattern != out[j].Pattern {
			return out[i].Pattern < out[j].Pattern
		}
		return out[i].Method < out[j].Method
	})
	return out
}
