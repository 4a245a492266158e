package servertest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
)

// HTTPRequest builds a plain HTTP request to a Host.
type HTTPRequest struct {
	request
	method string
	body   []byte
}

// HTTP starts a request of method to path (which may carry a query).
func (h *Host) HTTP(method, path string) *HTTPRequest {
	return &HTTPRequest{request: request{h: h, path: path}, method: method}
}

// GET starts a GET request.
func (h *Host) GET(path string) *HTTPRequest { return h.HTTP("GET", path) }

// POST starts a POST request.
func (h *Host) POST(path string) *HTTPRequest { return h.HTTP("POST", path) }

// Header sets a request header.
func (r *HTTPRequest) Header(name, value string) *HTTPRequest { r.setHeader(name, value); return r }

// Query adds a query parameter.
func (r *HTTPRequest) Query(name, value string) *HTTPRequest { r.addQuery(name, value); return r }

// Body sets the request body.
func (r *HTTPRequest) Body(b string) *HTTPRequest { r.body = []byte(b); return r }

// JSON sets the body to v encoded as JSON, with its Content-Type.
func (r *HTTPRequest) JSON(v any) *HTTPRequest {
	r.h.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		r.h.t.Fatalf("servertest: encoding %v: %v", v, err)
	}
	r.body = b
	r.setHeader("Content-Type", "application/json")
	return r
}

// JWT sends "Authorization: Bearer" with an HS256 token of claims.
func (r *HTTPRequest) JWT(claims map[string]any, secret string) *HTTPRequest {
	r.h.t.Helper()
	r.bearer(claims, secret)
	return r
}

// Do sends the request and reads the whole response; a transport error
// fails the test.
func (r *HTTPRequest) Do() *Response {
	r.h.t.Helper()
	req, err := http.NewRequest(r.method, r.h.URL+r.target(), bytes.NewReader(r.body))
	if err != nil {
		r.h.t.Fatalf("servertest: %s %s: %v", r.method, r.path, err)
	}
	for k, v := range r.header {
		req.Header[k] = v
	}
	client := &http.Client{Timeout: r.h.timeout()}
	resp, err := client.Do(req)
	if err != nil {
		r.h.t.Fatalf("servertest: %s %s: %v", r.method, r.path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		r.h.t.Fatalf("servertest: %s %s: reading the body: %v", r.method, r.path, err)
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: body, r: r}
}

// Response is a complete HTTP response.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
	r      *HTTPRequest
}

func (p *Response) failf(format string, args ...any) {
	p.r.h.t.Helper()
	args = append([]any{p.r.method, p.r.path}, args...)
	p.r.h.t.Fatalf("servertest: %s %s: "+format, args...)
}

// ExpectStatus fails the test unless the response has status.
func (p *Response) ExpectStatus(status int) *Response {
	p.r.h.t.Helper()
	if p.Status != status {
		p.failf("got status %d %q, want %d", p.Status, clip(p.Body), status)
	}
	return p
}

// ExpectBody fails the test unless the body is b.
func (p *Response) ExpectBody(b string) *Response {
	p.r.h.t.Helper()
	if string(p.Body) != b {
		p.failf("got body %q, want %q", clip(p.Body), b)
	}
	return p
}

// ExpectJSON fails the test unless the body is the JSON value of want.
func (p *Response) ExpectJSON(want any) *Response {
	p.r.h.t.Helper()
	if w := jsonValue(p.r.h, want); !jsonEqual(p.Body, w, false) {
		p.failf("got %d %q, want JSON %s", p.Status, clip(p.Body), jsonString(w))
	}
	return p
}

// ExpectJSONMatch is ExpectJSON where want's objects need only be part of
// the body's.
func (p *Response) ExpectJSONMatch(want any) *Response {
	p.r.h.t.Helper()
	if w := jsonValue(p.r.h, want); !jsonEqual(p.Body, w, true) {
		p.failf("got %d %q, want JSON with %s", p.Status, clip(p.Body), jsonString(w))
	}
	return p
}

// ReadJSON decodes the body into v; a body that is not JSON fails the test.
func (p *Response) ReadJSON(v any) *Response {
	p.r.h.t.Helper()
	if err := json.Unmarshal(p.Body, v); err != nil {
		p.failf("decoding %q: %v", clip(p.Body), err)
	}
	return p
}
