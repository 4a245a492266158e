package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/rtd-project/rtd/fanout"
	"github.com/rtd-project/rtd/server"
)

// openAPI is what the test reads of docs/openapi.yaml, as plain values.
type openAPI struct {
	doc map[string]any
}

func loadOpenAPI(t *testing.T) *openAPI {
	t.Helper()
	b, err := os.ReadFile("../../docs/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("docs/openapi.yaml: %v", err)
	}
	if doc["openapi"] != "3.1.0" {
		t.Fatalf("openapi: %v, want 3.1.0", doc["openapi"])
	}
	return &openAPI{doc: doc}
}

func (o *openAPI) paths() map[string]any { return o.doc["paths"].(map[string]any) }

// resolve follows a $ref into components.
func (o *openAPI) resolve(v any) map[string]any {
	m, _ := v.(map[string]any)
	for m != nil && m["$ref"] != nil {
		ref := strings.TrimPrefix(m["$ref"].(string), "#/")
		var cur any = o.doc
		for _, part := range strings.Split(ref, "/") {
			cur = cur.(map[string]any)[part]
		}
		m, _ = cur.(map[string]any)
	}
	return m
}

// validate checks v (decoded JSON) against schema, for the subset of JSON
// Schema the document uses: type, const, enum, properties, required, items,
// oneOf, allOf, minimum, minItems, maxItems, minLength, maxLength, pattern.
func (o *openAPI) validate(schema any, v any, at string) []string {
	s := o.resolve(schema)
	if s == nil {
		return nil
	}
	var errs []string
	bad := func(format string, a ...any) { errs = append(errs, at+": "+fmt.Sprintf(format, a...)) }
	if t, ok := s["type"]; ok {
		var types []string
		switch t := t.(type) {
		case string:
			types = []string{t}
		case []any:
			for _, x := range t {
				types = append(types, x.(string))
			}
		}
		if !slices.Contains(types, jsonType(v)) && !(jsonType(v) == "integer" && slices.Contains(types, "number")) {
			bad("%s, want %v", jsonType(v), types)
			return errs
		}
	}
	if c, ok := s["const"]; ok && fmt.Sprint(c) != fmt.Sprint(v) {
		bad("%v, want %v", v, c)
	}
	if e, ok := s["enum"].([]any); ok && !slices.ContainsFunc(e, func(x any) bool { return fmt.Sprint(x) == fmt.Sprint(v) }) {
		bad("%v not in %v", v, e)
	}
	if one, ok := s["oneOf"].([]any); ok {
		n := 0
		for _, sub := range one {
			if len(o.validate(sub, v, at)) == 0 {
				n++
			}
		}
		if n != 1 {
			bad("matches %d of oneOf, want 1", n)
		}
	}
	for _, sub := range asList(s["allOf"]) {
		errs = append(errs, o.validate(sub, v, at)...)
	}
	switch v := v.(type) {
	case map[string]any:
		for _, r := range asList(s["required"]) {
			if _, ok := v[r.(string)]; !ok {
				bad("no %q", r)
			}
		}
		props, _ := s["properties"].(map[string]any)
		for k, sub := range props {
			if x, ok := v[k]; ok {
				errs = append(errs, o.validate(sub, x, at+"."+k)...)
			}
		}
	case []any:
		if n, ok := s["minItems"].(int); ok && len(v) < n {
			bad("%d items, want at least %d", len(v), n)
		}
		if n, ok := s["maxItems"].(int); ok && len(v) > n {
			bad("%d items, want at most %d", len(v), n)
		}
		for i, x := range v {
			errs = append(errs, o.validate(s["items"], x, fmt.Sprintf("%s[%d]", at, i))...)
		}
	case float64:
		if m, ok := s["minimum"].(int); ok && v < float64(m) {
			bad("%v below %d", v, m)
		}
	case string:
		if n, ok := s["minLength"].(int); ok && len(v) < n {
			bad("%q shorter than %d", v, n)
		}
		if n, ok := s["maxLength"].(int); ok && len(v) > n {
			bad("%q longer than %d", v, n)
		}
		if p, ok := s["pattern"].(string); ok && !regexp.MustCompile(p).MatchString(v) {
			bad("%q does not match %s", v, p)
		}
	}
	return errs
}

func asList(v any) []any { l, _ := v.([]any); return l }

func jsonType(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64:
		if v == float64(int64(v)) {
			return "integer"
		}
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// toJSON turns what yaml.v3 decoded into what encoding/json would.
func toJSON(t *testing.T, v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}

// TestOpenAPIDocumentsEveryRoute: every /api/* route rtd serve registers
// (and /metrics) is in docs/openapi.yaml with its method, and every path
// there is a route.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	o := loadOpenAPI(t)
	cfg := defaultConfig()
	if errs := cfg.resolve(); len(errs) > 0 {
		t.Fatal(errs)
	}
	to := tierOptions(cfg, nil)
	srv, err := server.New(server.Options{Addr: "127.0.0.1:0", Encoder: fanout.Encoder{}, Hub: hubOptions(cfg, &to)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fanout.Mount(srv, to); err != nil {
		t.Fatal(err)
	}
	var routes, documented []string
	for _, r := range srv.Routes() {
		if strings.HasPrefix(r.Pattern, "/api/") || r.Pattern == "/metrics" {
			// :param → {param}
			p := regexp.MustCompile(`:(\w+)`).ReplaceAllString(r.Pattern, "{$1}")
			routes = append(routes, strings.ToLower(r.Method)+" "+p)
		}
	}
	for path, item := range o.paths() {
		for method := range item.(map[string]any) {
			documented = append(documented, method+" "+path)
		}
	}
	sort.Strings(routes)
	sort.Strings(documented)
	if !slices.Equal(routes, documented) {
		t.Errorf("routes and docs/openapi.yaml differ:\nroutes     %q\ndocumented %q", routes, documented)
	}
}

// TestOpenAPIExamplesAgainstTheServer sends every example of
// docs/openapi.yaml to rtd serve: each example body validates against its
// request schema unless it is marked refused, every answer's status is
// documented for the operation, and its JSON body validates against the
// documented schema.
func TestOpenAPIExamplesAgainstTheServer(t *testing.T) {
	o := loadOpenAPI(t)
	d := startDaemon(t)
	d.api(t, "POST", "/api/publish", "", `{"channel":"news","data":0}`) // a channel with history
	sent := 0
	for path, item := range o.paths() {
		for method, op := range item.(map[string]any) {
			op := op.(map[string]any)
			type call struct {
				name, path, body string
				refused          bool
			}
			var calls []call
			if rb, ok := op["requestBody"].(map[string]any); ok {
				media := rb["content"].(map[string]any)["application/json"].(map[string]any)
				for name, ex := range media["examples"].(map[string]any) {
					ex := ex.(map[string]any)
					body := toJSON(t, ex["value"])
					refused := strings.Contains(fmt.Sprint(ex["summary"]), "refused")
					if errs := o.validate(media["schema"], body, name); !refused && len(errs) > 0 {
						t.Errorf("%s %s example %s does not validate: %v", method, path, name, errs)
					}
					b, _ := json.Marshal(body)
					calls = append(calls, call{name, path, string(b), refused})
				}
			}
			for i, ex := range asList(op["x-examples"]) {
				p, q := path, url.Values{}
				params := ex.(map[string]any)
				refused := params["x-refused"] == true
				delete(params, "x-refused")
				for k, v := range params {
					if strings.Contains(p, "{"+k+"}") {
						p = strings.ReplaceAll(p, "{"+k+"}", url.PathEscape(fmt.Sprint(v)))
					} else {
						q.Set(k, fmt.Sprint(v))
					}
				}
				if len(q) > 0 {
					p += "?" + q.Encode()
				}
				calls = append(calls, call{fmt.Sprint(i), p, "", refused})
			}
			if len(calls) == 0 {
				t.Errorf("%s %s has no example", method, path)
			}
			responses := op["responses"].(map[string]any)
			for _, c := range calls {
				sent++
				req, _ := http.NewRequest(strings.ToUpper(method), d.url(c.path), strings.NewReader(c.body))
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				what := fmt.Sprintf("%s %s (example %s): %d %s", method, c.path, c.name, resp.StatusCode, b)
				if c.refused != (resp.StatusCode >= 400) {
					t.Errorf("%s: refused %v", what, c.refused)
				}
				r := o.resolve(responses[fmt.Sprint(resp.StatusCode)])
				if r == nil {
					t.Errorf("%s: status not documented", what)
					continue
				}
				content, _ := r["content"].(map[string]any)
				if media, ok := content["application/json"].(map[string]any); ok {
					var v any
					if err := json.Unmarshal(b, &v); err != nil {
						t.Errorf("%s: not JSON", what)
						continue
					}
					if errs := o.validate(media["schema"], v, "body"); len(errs) > 0 {
						t.Errorf("%s: %v", what, errs)
					}
				}
			}
		}
	}
	if sent < 15 {
		t.Errorf("only %d examples sent", sent)
	}
	// Without the key every route refuses, as documented (401).
	keyed := startDaemon(t, "--api-key", "k3y")
	for path, item := range o.paths() {
		for method := range item.(map[string]any) {
			req, _ := http.NewRequest(strings.ToUpper(method), keyed.url(strings.ReplaceAll(path, "{channel}", "news")), strings.NewReader("{}"))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 401 {
				t.Errorf("%s %s without the key: %d, want 401", method, path, resp.StatusCode)
			}
		}
	}
}

// TestOpenAPIValidatorCatches: the schema check above can fail.
func TestOpenAPIValidatorCatches(t *testing.T) {
	o := loadOpenAPI(t)
	pos := map[string]any{"$ref": "#/components/schemas/Position"}
	for _, bad := range []string{`{"channel":"a","offset":1}`, `{"channel":"a","offset":-1,"epoch":"x"}`, `{"channel":1,"offset":1,"epoch":"x"}`, `[]`} {
		var v any
		_ = json.Unmarshal([]byte(bad), &v)
		if errs := o.validate(pos, v, "body"); len(errs) == 0 {
			t.Errorf("%s validated as a Position", bad)
		}
	}
	var v any
	_ = json.Unmarshal([]byte(`{"channel":"a","offset":1,"epoch":"x"}`), &v)
	if errs := o.validate(pos, v, "body"); len(errs) > 0 {
		t.Errorf("a good Position: %v", errs)
	}
}
