package servertest_test

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rtd-project/rtd/internal/failtb"
	"github.com/rtd-project/rtd/server"
	"github.com/rtd-project/rtd/server/servertest"
)

// closer closes every socket with 1013 "slow client" when it sends.
func closer(s *server.Server) error {
	return s.WebSocket("/echo", server.WSHandler{
		OnMessage: func(sock *server.Socket, m server.Message) { _ = sock.Close(1013, "slow client") },
	}, server.WSOptions{})
}

func TestFailuresReadWell(t *testing.T) {
	for _, tc := range []struct {
		name string
		fn   func(tb testing.TB)
		want string
	}{
		{"close for text", func(tb testing.TB) {
			servertest.Start(tb, server.Options{}, closer).WebSocket("/echo").Connect().SendText("hello").ExpectText("echo:hello")
		}, `servertest: WebSocket /echo: got close 1013 "slow client", want text "echo:hello"`},
		{"rejected for connect", func(tb testing.TB) {
			servertest.Start(tb, server.Options{}, closer).WebSocket("/nowhere").Connect()
		}, `servertest: WebSocket /nowhere: handshake rejected with 404`},
		{"wrong status", func(tb testing.TB) {
			servertest.Start(tb, server.Options{}, closer).WebSocket("/nowhere").ExpectRejected(401)
		}, `servertest: WebSocket /nowhere: got rejected with 404, want 401`},
		{"accepted for rejected", func(tb testing.TB) {
			servertest.Start(tb, server.Options{}, closer).WebSocket("/echo").ExpectRejected(401)
		}, `servertest: WebSocket /echo: got 101 Switching Protocols, want rejected with 401`},
		{"JSON", func(tb testing.TB) {
			h := servertest.Start(tb, server.Options{}, func(s *server.Server) error {
				return s.WebSocket("/j", server.WSHandler{OnOpen: func(sock *server.Socket) { _ = sock.SendText(`{"a":1,"b":2}`); _ = sock.SendText(`{"a": 2}`) }}, server.WSOptions{})
			})
			h.WebSocket("/j").Connect().ExpectJSONMatch(map[string]int{"a": 1}).ExpectJSON(`{"a":1}`)
		}, `servertest: WebSocket /j: got text "{\"a\": 2}", want JSON {"a":1}`},
		{"HTTP status", func(tb testing.TB) {
			servertest.Start(tb, server.Options{}, closer).GET("/nowhere").Do().ExpectStatus(200)
		}, `servertest: GET /nowhere: got status 404 "not found\n", want 200`},
		{"SSE end", func(tb testing.TB) {
			h := servertest.Start(tb, server.Options{}, func(s *server.Server) error {
				return s.SSE("/e", server.SSEHandler{OnOpen: func(st *server.Stream) { _ = st.Close() }}, server.SSEOptions{})
			})
			h.SSE("/e").Connect().ExpectData("x")
		}, `servertest: SSE /e: got end of stream (EOF), want event "any" data "x"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := failtb.Failure(t, tc.fn); got != tc.want {
				t.Errorf("failed with\n\t%s\nwant\n\t%s", got, tc.want)
			}
		})
	}
}

// A client that answers no ping is closed by the idle timeout, after the
// server pinged it.
func TestDeadPeerClosed(t *testing.T) {
	h := servertest.Start(t, server.Options{}, func(s *server.Server) error {
		return s.WebSocket("/ws", server.WSHandler{}, server.WSOptions{HeartbeatInterval: 20 * time.Millisecond, IdleTimeout: 200 * time.Millisecond})
	})
	live := h.WebSocket("/ws").Connect()
	dead := h.WebSocket("/ws").NoPong().Connect()
	dead.ExpectClose(1001)
	if dead.Pings() == 0 {
		t.Error("the dead peer was closed without a ping")
	}
	if live.Pings() == 0 {
		t.Error("the live peer was not pinged")
	}
	live.Close()
}

// The package documentation shows the tests of example_test.go verbatim.
func TestDocShowsTheExamples(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	ex, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	var shown strings.Builder
	for _, line := range strings.Split(string(doc), "\n") {
		if code, ok := strings.CutPrefix(line, "//\t"); ok {
			shown.WriteString(code + "\n")
		} else if line == "//" && shown.Len() > 0 {
			shown.WriteString("\n")
		}
	}
	funcs := regexp.MustCompile(`(?ms)^func Test\w+\(t \*testing\.T\) \{$.*?^\}$`).FindAllString(string(ex), -1)
	if len(funcs) != 3 {
		t.Fatalf("example_test.go has %d tests, want 3", len(funcs))
	}
	for _, f := range funcs {
		if n := strings.Count(f, "\n") + 1; n > 20 {
			t.Errorf("%s… is %d lines, more than 20", f[:30], n)
		}
		if !strings.Contains(shown.String(), f) {
			t.Errorf("doc.go does not show\n%s", f)
		}
	}
}
