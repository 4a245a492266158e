package server

import (
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

// closeSeen is what a WSHandler.OnClose reported.
type closeSeen struct {
	code   int
	reason string
}

// mountScriptedEcho registers GET /echo: text "ping-me" makes the server ping
// ("srv") and then answer "pinged"; text "close-me" makes it close with 4002
// "server says bye"; anything else is echoed. OnClose reports to closes.
func mountScriptedEcho(t testing.TB, s *Server, closes chan<- closeSeen) {
	t.Helper()
	err := s.WebSocket("/echo", WSHandler{
		OnMessage: func(sock *Socket, m Message) {
			switch {
			case m.Type == Text && string(m.Data) == "ping-me":
				_ = sock.Ping([]byte("srv"))
				_ = sock.SendText("pinged")
			case m.Type == Text && string(m.Data) == "close-me":
				_ = sock.Close(4002, "server says bye")
			default:
				_ = sock.Send(m)
			}
		},
		OnClose: func(_ *Socket, code int, reason string) { closes <- closeSeen{code, reason} },
	}, WSOptions{Compression: true})
	if err != nil {
		t.Fatal(err)
	}
}

// exchangeLine is one line of ws-exchange.mjs.
type exchangeLine struct {
	Type             string `json:"type"`
	Extensions       string `json:"extensions"`
	ExtensionsHeader string `json:"extensionsHeader"`
	Binary           bool   `json:"binary"`
	Data             string `json:"data"`
	Code             int    `json:"code"`
	Reason           string `json:"reason"`
	Message          string `json:"message"`
}

func parseExchange(t *testing.T, raw []string) []exchangeLine {
	t.Helper()
	out := make([]exchangeLine, len(raw))
	for i, s := range raw {
		if err := json.Unmarshal([]byte(s), &out[i]); err != nil {
			t.Fatalf("line %q: %v", s, err)
		}
	}
	return out
}

// TestRealClientNodeWS drives rtd's WebSocket with npm ws, permessage-deflate
// offered and not: text (short, and long enough that rtd compresses it),
// binary, a client ping, a server ping, and the closing handshake started by
// either side, with the codes and reasons each side must see.
func TestRealClientNodeWS(t *testing.T) {
	long := strings.Repeat("compressible text ", 40) // over compressMin
	hexOf := func(s string) string { return hex.EncodeToString([]byte(s)) }
	for _, deflate := range []string{"on", "off"} {
		t.Run("deflate="+deflate, func(t *testing.T) {
			t.Parallel()
			closes := make(chan closeSeen, 2)
			s := startServer(t, Options{}, func(s *Server) { mountScriptedEcho(t, s, closes) })
			url := wsURL(s, "/echo")
			open := exchangeLine{Type: "open"}
			if deflate == "on" {
				open.Extensions = "permessage-deflate"
				open.ExtensionsHeader = "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
			}

			// The client closes.
			got := parseExchange(t, runNode(t, 15*time.Second, "ws-exchange.mjs", url, "--deflate", deflate,
				"--send", "hello", "--binary", "00ff10", "--send", long, "--send", "wörld",
				"--ping", hexOf("p1"), "--send", "ping-me", "--close", "4001:bye"))
			want := []exchangeLine{
				open,
				{Type: "message", Data: "hello"},
				{Type: "message", Binary: true, Data: "00ff10"},
				{Type: "message", Data: long},
				{Type: "message", Data: "wörld"},
				{Type: "pong", Data: hexOf("p1")},
				{Type: "ping", Data: hexOf("srv")}, // before the message sent after it
				{Type: "message", Data: "pinged"},
				{Type: "close", Code: 4001}, // rtd echoes the code, without a reason
			}
			if !slices.Equal(got, want) {
				t.Fatalf("client-initiated close:\ngot  %+v\nwant %+v", got, want)
			}
			if c := waitClose(t, closes); c != (closeSeen{4001, "bye"}) {
				t.Fatalf("server OnClose %+v, want 4001 bye", c)
			}

			// The server closes.
			got = parseExchange(t, runNode(t, 15*time.Second, "ws-exchange.mjs", url, "--deflate", deflate,
				"--send", "x", "--send", "close-me"))
			want = []exchangeLine{open, {Type: "message", Data: "x"}, {Type: "close", Code: 4002, Reason: "server says bye"}}
			if !slices.Equal(got, want) {
				t.Fatalf("server-initiated close:\ngot  %+v\nwant %+v", got, want)
			}
			if c := waitClose(t, closes); c != (closeSeen{4002, "server says bye"}) {
				t.Fatalf("server OnClose %+v, want 4002 server says bye", c)
			}
		})
	}
}

func waitClose(t *testing.T, closes <-chan closeSeen) closeSeen {
	t.Helper()
	select {
	case c := <-closes:
		return c
	case <-time.After(10 * time.Second):
		t.Fatal("OnClose did not run")
		return closeSeen{}
	}
}
