package server

import (
	"net/url"
	"slices"
	"testing"
)

// FuzzQueryValues: queryValues decodes a query as url.ParseQuery does,
// value for value and in order, for any query and name.
func FuzzQueryValues(f *testing.F) {
	for _, s := range [][2]string{
		{"channel=a&channel=b", "channel"},
		{"channel=a%20b&x=1&channel=c+d", "channel"},
		{"a=1;b=2&a=3", "a"},
		{"a=%zz&a=2&%61=3", "a"},
		{"&&a&a=&=1", "a"},
		{"a=1&a=2", ""},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, q, name string) {
		vs, _ := url.ParseQuery(q)
		want := vs[name]
		got := slices.Collect(queryValues(q, name))
		if !slices.Equal(got, want) {
			t.Fatalf("queryValues(%q, %q) = %q, url.ParseQuery gives %q", q, name, got, want)
		}
	})
}

// TestQueryAllDetachedAllocs: a detached request's query values are read
// from its fields string: QueryAll allocates its result only, QueryOK
// nothing, where url.ParseQuery made a map and its slices each time.
func TestQueryAllDetachedAllocs(t *testing.T) {
	r := &Request{fields: "GET\n/sse\nchannel=a&channel=b&x=1\n1.2.3.4:5"}
	if got := r.QueryAll("channel"); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("QueryAll: %q", got)
	}
	if n := testing.AllocsPerRun(100, func() { r.QueryAll("channel") }); n != 1 {
		t.Errorf("QueryAll allocates %v times, want 1 (its slice)", n)
	}
	if n := testing.AllocsPerRun(100, func() { r.QueryOK("x") }); n != 0 {
		t.Errorf("QueryOK allocates %v times, want 0", n)
	}
	if got := r.QueryAll("none"); got != nil {
		t.Errorf("QueryAll of an absent name: %q, want nil", got)
	}
}

// TestQueryValuesAllocs: iterating a detached request's values allocates
// nothing.
func TestQueryValuesAllocs(t *testing.T) {
	r := &Request{fields: "GET\n/sse\nchannel=a&channel=b&x=1\n1.2.3.4:5"}
	if got := slices.Collect(r.QueryValues("channel")); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("QueryValues: %q", got)
	}
	if n := testing.AllocsPerRun(100, func() {
		for range r.QueryValues("channel") {
		}
	}); n != 0 {
		t.Errorf("QueryValues allocates %v times, want 0", n)
	}
}
