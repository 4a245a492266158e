package servertest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// WSRequest builds a WebSocket connection to one route of a Host.
type WSRequest struct {
	request
	protocols []string
	noPong    bool
}

// WebSocket starts a WebSocket connection to path (which may carry a query).
func (h *Host) WebSocket(path string) *WSRequest {
	return &WSRequest{request: request{h: h, path: path}}
}

// Origin sets the Origin header, as a browser page of that origin would.
func (r *WSRequest) Origin(origin string) *WSRequest { r.setHeader("Origin", origin); return r }

// Protocols offers subprotocols, in preference order.
func (r *WSRequest) Protocols(p ...string) *WSRequest {
	r.protocols = append(r.protocols, p...)
	return r
}

// Header sets a request header.
func (r *WSRequest) Header(name, value string) *WSRequest { r.setHeader(name, value); return r }

// Query adds a query parameter.
func (r *WSRequest) Query(name, value string) *WSRequest { r.addQuery(name, value); return r }

// JWT sends "Authorization: Bearer" with an HS256 token of claims signed
// with secret (Host.Token).
func (r *WSRequest) JWT(claims map[string]any, secret string) *WSRequest {
	r.h.t.Helper()
	r.bearer(claims, secret)
	return r
}

// NoPong makes the client a dead peer: it does not answer the server's
// pings (a connected client answers them as a browser does).
func (r *WSRequest) NoPong() *WSRequest { r.noPong = true; return r }

// dial performs the handshake.
func (r *WSRequest) dial() (*WS, error) {
	d := ws.Dialer{Protocols: r.protocols, Timeout: r.h.timeout()}
	if r.header != nil {
		d.Header = ws.HandshakeHeaderHTTP(r.header)
	}
	url := "ws" + strings.TrimPrefix(r.h.URL, "http") + r.target()
	ctx, cancel := context.WithTimeout(context.Background(), r.h.timeout())
	defer cancel()
	conn, br, hs, err := d.Dial(ctx, url)
	if err != nil {
		return nil, err
	}
	c := &WS{h: r.h, conn: conn, Protocol: hs.Protocol, in: make(chan Message, 1024), noPong: r.noPong, name: r.path}
	var rd io.Reader = conn
	if br != nil {
		rd = io.MultiReader(br, conn)
	}
	go c.read(bufio.NewReader(rd))
	r.h.t.Cleanup(func() { _ = c.conn.Close() })
	return c, nil
}

// Connect opens the connection; a refused handshake fails the test.
func (r *WSRequest) Connect() *WS {
	r.h.t.Helper()
	c, err := r.dial()
	if err != nil {
		r.h.t.Fatalf("servertest: WebSocket %s: %v", r.path, describeDialError(err))
	}
	return c
}

// ExpectRejected opens the connection and fails the test unless the server
// answers the handshake with status (401, 403, …) instead of 101.
func (r *WSRequest) ExpectRejected(status int) {
	r.h.t.Helper()
	c, err := r.dial()
	if err == nil {
		_ = c.conn.Close()
		r.h.t.Fatalf("servertest: WebSocket %s: got 101 Switching Protocols, want rejected with %d", r.path, status)
	}
	var se ws.StatusError
	if !errors.As(err, &se) {
		r.h.t.Fatalf("servertest: WebSocket %s: got %v, want rejected with %d", r.path, err, status)
	}
	if int(se) != status {
		r.h.t.Fatalf("servertest: WebSocket %s: got rejected with %d, want %d", r.path, int(se), status)
	}
}

func describeDialError(err error) string {
	var se ws.StatusError
	if errors.As(err, &se) {
		return fmt.Sprintf("handshake rejected with %d", int(se))
	}
	return err.Error()
}

// Message is what a WebSocket client read: a text or binary message, the
// server's close frame, or the end of the connection.
type Message struct {
	Kind   string // "text", "binary", "close" or "end" (the connection dropped without a close frame)
	Data   []byte // the message's payload
	Code   int    // for "close": the close code (1005 when the frame had none)
	Reason string // for "close": the reason; for "end": the read error
}

// String describes m as failures print it: text "…", binary N bytes,
// close 1013 "…", end (…).
func (m Message) String() string {
	switch m.Kind {
	case "text":
		return fmt.Sprintf("text %q", clip(m.Data))
	case "binary":
		return fmt.Sprintf("binary %d bytes % x", len(m.Data), clip(m.Data))
	case "close":
		return fmt.Sprintf("close %d %q", m.Code, m.Reason)
	}
	return "end of connection (" + m.Reason + ")"
}

// clip shortens what a failure prints.
func clip(p []byte) []byte {
	if len(p) > 200 {
		return p[:200]
	}
	return p
}

// WS is a connected WebSocket client. A goroutine reads the server's frames
// as they come (answering pings, unless NoPong) into a queue the Expect
// methods take from, in order. Its methods are for the test's goroutine.
type WS struct {
	// Protocol is the subprotocol the server chose ("" if none).
	Protocol string

	h      *Host
	name   string
	conn   net.Conn
	wmu    sync.Mutex
	in     chan Message
	noPong bool
	ended  bool // the close or end was taken from in
	pings  int  // pings read (under wmu)
	closed bool // a close frame was sent (under wmu)
}

// read turns frames into Messages until the connection ends.
func (c *WS) read(r *bufio.Reader) {
	defer close(c.in)
	var msg []byte
	var op ws.OpCode
	for {
		hdr, err := ws.ReadHeader(r)
		if err != nil {
			c.in <- Message{Kind: "end", Reason: err.Error()}
			return
		}
		payload := make([]byte, hdr.Length)
		if _, err := io.ReadFull(r, payload); err != nil {
			c.in <- Message{Kind: "end", Reason: err.Error()}
			return
		}
		if hdr.Masked {
			ws.Cipher(payload, hdr.Mask, 0)
		}
		switch hdr.OpCode {
		case ws.OpPing:
			c.wmu.Lock()
			c.pings++
			if !c.noPong {
				_ = wsutil.WriteClientMessage(c.conn, ws.OpPong, payload)
			}
			c.wmu.Unlock()
			continue
		case ws.OpPong:
			continue
		case ws.OpClose:
			m := Message{Kind: "close", Code: 1005}
			if len(payload) >= 2 {
				m.Code = int(binary.BigEndian.Uint16(payload))
				m.Reason = string(payload[2:])
			}
			c.wmu.Lock()
			if !c.closed {
				c.closed = true
				_ = wsutil.WriteClientMessage(c.conn, ws.OpClose, payload[:min(len(payload), 2)])
			}
			c.wmu.Unlock()
			c.in <- m
			return
		case ws.OpText, ws.OpBinary:
			op, msg = hdr.OpCode, payload
		case ws.OpContinuation:
			msg = append(msg, payload...)
		}
		if !hdr.Fin {
			continue
		}
		kind := "text"
		if op == ws.OpBinary {
			kind = "binary"
		}
		c.in <- Message{Kind: kind, Data: msg}
		msg = nil
	}
}

// Pings returns how many pings the server has sent so far.
func (c *WS) Pings() int {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.pings
}

func (c *WS) write(op ws.OpCode, p []byte) {
	c.h.t.Helper()
	c.wmu.Lock()
	c.closed = c.closed || op == ws.OpClose
	_ = c.conn.SetWriteDeadline(time.Now().Add(c.h.timeout()))
	err := wsutil.WriteClientMessage(c.conn, op, p)
	c.wmu.Unlock()
	if err != nil {
		c.h.t.Fatalf("servertest: WebSocket %s: sending: %v", c.name, err)
	}
}

// SendText sends a text message.
func (c *WS) SendText(s string) *WS { c.h.t.Helper(); c.write(ws.OpText, []byte(s)); return c }

// SendBinary sends a binary message.
func (c *WS) SendBinary(p []byte) *WS { c.h.t.Helper(); c.write(ws.OpBinary, p); return c }

// SendJSON sends v encoded as JSON in a text message.
func (c *WS) SendJSON(v any) *WS {
	c.h.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		c.h.t.Fatalf("servertest: WebSocket %s: encoding %v: %v", c.name, v, err)
	}
	c.write(ws.OpText, b)
	return c
}

// Next returns the next message, close or end; the test fails if none
// comes within the Host's Timeout.
func (c *WS) Next() Message {
	c.h.t.Helper()
	return next(c.h, c.in, &c.ended, "WebSocket "+c.name, Message{Kind: "end", Reason: "closed"}, func(m Message) bool {
		return m.Kind == "close" || m.Kind == "end"
	})
}

func (c *WS) expect(want string, ok func(Message) bool) Message {
	c.h.t.Helper()
	m := c.Next()
	if !ok(m) {
		c.h.t.Fatalf("servertest: WebSocket %s: got %v, want %s", c.name, m, want)
	}
	return m
}

// ExpectText fails the test unless the next message is text s.
func (c *WS) ExpectText(s string) *WS {
	c.h.t.Helper()
	c.expect(fmt.Sprintf("text %q", s), func(m Message) bool { return m.Kind == "text" && string(m.Data) == s })
	return c
}

// ExpectBinary fails the test unless the next message is binary p.
func (c *WS) ExpectBinary(p []byte) *WS {
	c.h.t.Helper()
	c.expect(fmt.Sprintf("binary % x", clip(p)), func(m Message) bool { return m.Kind == "binary" && bytes.Equal(m.Data, p) })
	return c
}

// ExpectJSON fails the test unless the next message is text holding the
// JSON value want is encoded as (compared as values: key order and spacing
// do not matter).
func (c *WS) ExpectJSON(want any) *WS {
	c.h.t.Helper()
	w := jsonValue(c.h, want)
	c.expect("JSON "+jsonString(w), func(m Message) bool { return m.Kind == "text" && jsonEqual(m.Data, w, false) })
	return c
}

// ExpectJSONMatch is ExpectJSON where want's objects need only be part of
// the message's: fields want leaves out (an ID, a time) are not compared.
func (c *WS) ExpectJSONMatch(want any) *WS {
	c.h.t.Helper()
	w := jsonValue(c.h, want)
	c.expect("JSON with "+jsonString(w), func(m Message) bool { return m.Kind == "text" && jsonEqual(m.Data, w, true) })
	return c
}

// ReadJSON fails the test unless the next message is text holding JSON,
// and decodes it into v.
func (c *WS) ReadJSON(v any) *WS {
	c.h.t.Helper()
	m := c.expect("a JSON text message", func(m Message) bool { return m.Kind == "text" && json.Valid(m.Data) })
	if err := json.Unmarshal(m.Data, v); err != nil {
		c.h.t.Fatalf("servertest: WebSocket %s: decoding %v: %v", c.name, m, err)
	}
	return c
}

// ExpectClose fails the test unless the server closes the connection with
// code next (after a close frame, the connection is over).
func (c *WS) ExpectClose(code int) *WS {
	c.h.t.Helper()
	c.expect(fmt.Sprintf("close %d", code), func(m Message) bool { return m.Kind == "close" && m.Code == code })
	return c
}

// Close sends a close frame with code 1000, waits for the server's, and
// closes the connection.
func (c *WS) Close() {
	c.h.t.Helper()
	c.write(ws.OpClose, ws.NewCloseFrameBody(ws.StatusNormalClosure, ""))
	for !c.ended {
		c.Next() // what the server sent before its close frame
	}
	_ = c.conn.Close()
}

// Drop closes the TCP connection without a closing handshake.
func (c *WS) Drop() { _ = c.conn.Close() }
