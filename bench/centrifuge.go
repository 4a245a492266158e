package bench

import (
	"bytes"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Protocols the client speaks (Config.Protocol).
const (
	// ProtocolRTD is rtd's JSON channel protocol, which the peers in
	// bench/peers other than centrifuge speak too.
	ProtocolRTD = "rtd"
	// ProtocolCentrifuge is Centrifuge's client protocol, JSON (protocol v2),
	// as github.com/centrifugal/centrifuge and Centrifugo serve it:
	//
	//	→ {"id":1,"connect":{}}
	//	← {"id":1,"connect":{"client":"…","ping":25,"pong":true}}
	//	→ {"id":2,"subscribe":{"channel":"bench0"}}           (recovery: ,"recover":true,"epoch":"e","offset":N)
	//	← {"id":2,"subscribe":{"recoverable":true,"epoch":"e","offset":N,…}}   (recovered: "publications":[…],"recovered":true)
	//	← {"push":{"channel":"bench0","pub":{"data":{…},"offset":N}}}
	//	← {}   → {}                                            (ping, pong)
	//
	// A WebSocket frame may hold several replies, one per line. On SSE
	// (/sse?channel=…&cf_connect=…, the server subscribes the connection to
	// the channels) each event's data is a reply: first the connect result,
	// then the pushes. The echo scenario is an RPC round trip:
	// {"id":N,"rpc":{"method":"echo","data":{…}}}.
	ProtocolCentrifuge = "centrifuge"
)

// Protocols lists the protocol names.
var Protocols = []string{ProtocolRTD, ProtocolCentrifuge}

// The Centrifuge commands' ids: connect, then subscribe, then RPCs from 3 on.
const (
	cfConnectCommand = `{"id":1,"connect":{}}`
	cfFirstRPCID     = 3
)

// cfSSEQuery is what a Centrifuge SSE request adds to its query: the connect
// command, which an SSE client cannot send otherwise.
var cfSSEQuery = "&cf_connect=" + url.QueryEscape(cfConnectCommand)

// Where a Centrifuge connection is in its setup.
const (
	phaseConnect   = 1 // connect sent (WebSocket) or the connect push awaited (SSE)
	phaseSubscribe = 2 // subscribe sent
)

// position is the last publication a subscriber saw on its channel, for
// resubscribing after a reconnect.
type position struct {
	epoch  string
	offset uint64
}

func (p position) known() bool { return p.epoch != "" }

// parseRTDPosition parses rtd's "epoch:offset".
func parseRTDPosition(s string) (position, bool) {
	i := strings.LastIndexByte(s, ':')
	if i <= 0 {
		return position{}, false
	}
	off, err := strconv.ParseUint(s[i+1:], 10, 64)
	if err != nil {
		return position{}, false
	}
	return position{epoch: s[:i], offset: off}, true
}

// appendSubscribe appends the subscribe command for channel in protocol,
// resuming after pos when it is known.
func appendSubscribe(dst []byte, protocol, channel string, pos position) []byte {
	if protocol == ProtocolCentrifuge {
		dst = append(dst, `{"id":2,"subscribe":{"channel":`...)
		dst = strconv.AppendQuote(dst, channel)
		if pos.known() {
			dst = append(dst, `,"recover":true,"epoch":`...)
			dst = strconv.AppendQuote(dst, pos.epoch)
			dst = append(dst, `,"offset":`...)
			dst = strconv.AppendUint(dst, pos.offset, 10)
		}
		return append(dst, "}}"...)
	}
	dst = append(dst, `{"id":1,"op":"subscribe","channel":`...)
	dst = strconv.AppendQuote(dst, channel)
	if pos.known() {
		dst = append(dst, `,"since":"`...)
		dst = append(dst, pos.epoch...)
		dst = append(dst, ':')
		dst = strconv.AppendUint(dst, pos.offset, 10)
		dst = append(dst, '"')
	}
	return append(dst, '}')
}

// appendRPCEcho appends a Centrifuge RPC whose data is a stamp of size bytes
// carrying sentAt.
func appendRPCEcho(dst []byte, id uint32, sentAt int64, size int) []byte {
	dst = append(dst, `{"id":`...)
	dst = strconv.AppendUint(dst, uint64(id), 10)
	dst = append(dst, `,"rpc":{"method":"echo","data":`...)
	dst = appendStamp(dst, stamp{ts: sentAt}, size)
	return append(dst, "}}"...)
}

// cfMessage handles what a Centrifuge connection received: a WebSocket
// frame of replies, one per line, or an SSE event's data.
func (m *member) cfMessage(c *conn, p []byte) {
	for len(p) > 0 && c.state == stateOpen {
		var line []byte
		line, p, _ = bytes.Cut(p, []byte{'\n'})
		if len(line) > 0 {
			m.cfReply(c, line)
		}
	}
}

// cfReply handles one reply (a push, a command's result or a ping).
func (m *member) cfReply(c *conn, line []byte) {
	f := m.f
	if isEmptyObject(line) {
		if c.target.transport == transportWS {
			c.sendText([]byte("{}")) // the pong the server asked for ("pong":true)
		}
		return
	}
	if push, ok := jsonMember(line, "push"); ok {
		m.cfPush(c, push)
		return
	}
	if _, ok := jsonMember(line, "error"); ok {
		c.close(fmt.Errorf("%w: %.200s", ErrRefused, line))
		return
	}
	if !m.ready {
		if _, ok := jsonMember(line, "connect"); ok && m.phase == phaseConnect {
			m.cfConnected(c)
			return
		}
		if res, ok := jsonMember(line, "subscribe"); ok && m.phase == phaseSubscribe {
			m.cfSubscribed(res)
			return
		}
	} else if res, ok := jsonMember(line, "rpc"); ok && f.cfg.Scenario == ScenarioEcho {
		if ts, ok := jsonUint(res, `"ts"`); ok {
			m.echoed(int64(ts))
			return
		}
	}
	f.stray.Add(1)
}

// cfPush handles a push.
func (m *member) cfPush(c *conn, push []byte) {
	if pub, ok := jsonMember(push, "pub"); ok && m.ready {
		m.cfPublication(pub)
		return
	}
	m.f.stray.Add(1)
}

// cfConnected: the connect command succeeded. On SSE the server subscribed
// the connection to its channels with it.
func (m *member) cfConnected(c *conn) {
	if m.f.cfg.subscribes() && c.target.transport == transportWS {
		m.phase = phaseSubscribe
		l := c.loop
		l.cmd = appendSubscribe(l.cmd[:0], ProtocolCentrifuge, channelName(m.ch), m.pos)
		c.sendText(l.cmd)
		return
	}
	m.becomeReady()
}

// cfSubscribed: the subscribe command succeeded; a recovering subscriber gets
// the publications it missed in the result.
func (m *member) cfSubscribed(res []byte) {
	if v, ok := jsonMember(res, "epoch"); ok {
		m.pos.epoch, _ = jsonPlainString(v)
	}
	m.pos.offset = 0 // absent when 0
	if v, ok := jsonMember(res, "offset"); ok {
		m.pos.offset, _ = jsonNumber(v)
	}
	v, _ := jsonMember(res, "recovered")
	m.subscribed(string(v) == "true")
	if pubs, ok := jsonMember(res, "publications"); ok {
		jsonElements(pubs, m.cfPublication)
	}
}

// cfPublication handles one publication object ({"data":…,"offset":N}).
func (m *member) cfPublication(pub []byte) {
	data, ok := jsonMember(pub, "data")
	if !ok {
		m.f.stray.Add(1)
		return
	}
	if m.f.cfg.Scenario == ScenarioRecover {
		if v, ok := jsonMember(pub, "offset"); ok {
			m.pos.offset, _ = jsonNumber(v)
		}
		if v, ok := jsonMember(pub, "epoch"); ok {
			m.pos.epoch, _ = jsonPlainString(v)
		}
	}
	m.publication(data)
}
