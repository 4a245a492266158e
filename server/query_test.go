package server

import (
	"bufio"
	"net/url"
	"slices"
	"testing"

	"github.com/rtd-project/rtd/hub"
)

// FuzzQueryValues: nextQueryValue decodes a query as url.ParseQuery does,
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
		var got []string
		for rest := q; ; {
			v, ok := nextQueryValue(&rest, name)
			if !ok {
				break
			}
			got = append(got, v)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("nextQueryValue over (%q, %q) = %q, url.ParseQuery gives %q", q, name, got, want)
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

// TestQueryAllOutlivesTheHandler: QueryAll's values are the caller's to keep
// (unlike QueryValues' during a handler): later requests on the connection,
// which reuse its input buffer, do not change them.
func TestQueryAllOutlivesTheHandler(t *testing.T) {
	keep := make(chan []string, 2)
	s := startServer(t, Options{}, func(s *Server) {
		if err := s.HandleFunc("GET", "/q", func(w *ResponseWriter, r *Request) {
			keep <- r.QueryAll("c")
			w.WriteString("ok")
		}); err != nil {
			t.Fatal(err)
		}
	})
	c := dial(t, s)
	br := bufio.NewReader(c)
	for _, q := range []string{"c=aaaa&c=bb%20b", "c=xxxx&c=yyyyy"} {
		if _, err := c.Write([]byte("GET /q?" + q + " HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
			t.Fatal(err)
		}
		readResponse(t, br, "GET")
	}
	kept := [][]string{<-keep, <-keep}
	if !slices.Equal(kept[0], []string{"aaaa", "bb b"}) || !slices.Equal(kept[1], []string{"xxxx", "yyyyy"}) {
		t.Fatalf("kept %q", kept)
	}
}

// TestChannelNamedByAQueryView: a handler may name a channel with a
// QueryValues view of its input; the hub keeps a name of its own, so the
// next request on the connection, which reuses the input buffer, does not
// rename the channel under the hub.
func TestChannelNamedByAQueryView(t *testing.T) {
	done := make(chan error, 2)
	s := startServer(t, Options{}, func(s *Server) {
		if err := s.HandleFunc("POST", "/pub", func(w *ResponseWriter, r *Request) {
			for ch := range r.QueryValues("c") {
				_, err := s.Hub().Publish(ch, hub.Publication{Data: []byte("1")})
				done <- err
			}
			w.WriteString("ok")
		}); err != nil {
			t.Fatal(err)
		}
	})
	c := dial(t, s)
	br := bufio.NewReader(c)
	for _, ch := range []string{"aaaa", "bbbb"} {
		if _, err := c.Write([]byte("POST /pub?c=" + ch + " HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")); err != nil {
			t.Fatal(err)
		}
		readResponse(t, br, "POST")
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	for _, ch := range []string{"aaaa", "bbbb"} {
		h, err := s.Hub().History(ch, nil, 10)
		if err != nil || len(h.Publications) != 1 || h.Publications[0].Channel != ch {
			t.Fatalf("history of %s: %+v, %v; channels %q", ch, h, err, s.Hub().Channels())
		}
	}
}
