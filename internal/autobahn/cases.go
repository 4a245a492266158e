package autobahn

import (
	"fmt"
	"strings"
	"time"
)

// allCases lists every case for o in Autobahn's order, then X.1.
func allCases(o Options) []caseDef {
	var cs []caseDef
	cs = append(cs, framingCases()...)
	cs = append(cs, pingCases()...)
	cs = append(cs, reservedCases()...)
	cs = append(cs, fragmentationCases()...)
	cs = append(cs, utf8Cases()...)
	cs = append(cs, closeCases()...)
	cs = append(cs, limitCases(o.Full)...)
	cs = append(cs, miscCases()...)
	if o.Compression {
		cs = append(cs, deflateCases(o.Full)...)
	}
	return append(cs, rtdCases()...)
}

const helloWorld = "Hello, world!"

// binaryPing is the binary payload of 2.3 and 3.5.
var binaryPing = "\x00\xff\xfe\xfd\xfc\xfb\x00\xff"

// chopping is how a case puts its frames on the wire.
type chopping int

const (
	chopWhole  chopping = iota // all frames in one write
	chopFrames                 // one write per frame
	chopOctets                 // one write per octet
)

func (c chopping) apply(f frame) frame {
	switch c {
	case chopFrames:
		f.sync = true
	case chopOctets:
		f.chop = 1
	}
	return f
}

func (c chopping) String() string {
	return [...]string{"all in one chop", "in per-frame chops", "in octet-wise chops"}[c]
}

// echoCase is the common "send, expect the echo, close cleanly" shape.
func echoCase(id, desc string, want event, limit time.Duration, send func(s *session)) caseDef {
	return caseDef{id: id, desc: desc, open: func(s *session) {
		s.expect(OK, want)
		s.expectCleanClose()
		send(s)
		s.killAfter(limit)
	}}
}

// failCase is the common "the server must fail the connection with code"
// shape; okFirst, when set, is an echo allowed before the failure (OK),
// while failing before echoing it is NON-STRICT.
func failCase(id, desc string, code int, okFirst *event, send func(s *session)) caseDef {
	return caseDef{id: id, desc: desc, open: func(s *session) {
		if okFirst != nil {
			s.expect(OK, *okFirst)
			s.expect(NonStrict)
		} else {
			s.expect(OK)
		}
		s.expectServerFail(code)
		send(s)
		s.killAfter(time.Second)
	}}
}

func framingCases() []caseDef {
	var cs []caseDef
	sizes := []int{0, 125, 126, 127, 128, 65535, 65536}
	for g, kind := range []string{"text", "binary"} {
		op, fill, ev := opText, "*", message
		if kind == "binary" {
			op, fill, ev = opBinary, "\xfe", binaryMessage
		}
		for i, n := range sizes {
			p := strings.Repeat(fill, n)
			cs = append(cs, echoCase(fmt.Sprintf("1.%d.%d", g+1, i+1),
				fmt.Sprintf("Send %s message with payload of length %d.", kind, n), ev(p), 10*time.Second,
				func(s *session) { s.sendFrame(frame{op: op, payload: []byte(p)}) }))
		}
		p := strings.Repeat(fill, 65536)
		cs = append(cs, echoCase(fmt.Sprintf("1.%d.8", g+1),
			fmt.Sprintf("Send %s message with payload of length 65536, written in chops of 997 octets.", kind), ev(p), 10*time.Second,
			func(s *session) { s.sendFrame(frame{op: op, payload: []byte(p), chop: 997}) }))
	}
	return cs
}

func pingCases() []caseDef {
	pingEcho := func(id, desc, payload string, chop int, wait time.Duration) caseDef {
		return caseDef{id: id, desc: desc, open: func(s *session) {
			s.expect(OK, pong(payload))
			s.expectCleanClose()
			s.sendFrame(frame{op: opPing, payload: []byte(payload), chop: chop})
			s.closeAfter(wait)
		}}
	}
	unsolicited := func(id, payload string) caseDef {
		return caseDef{id: id, desc: fmt.Sprintf("Send unsolicited pong with payload %q, then close.", payload), open: func(s *session) {
			s.expect(OK)
			s.expectCleanClose()
			s.sendFrame(frame{op: opPong, payload: []byte(payload)})
			s.sendClose(closeNormal)
			s.closeAfter(time.Second)
		}}
	}
	tenPings := func(id string, chop int) caseDef {
		return caseDef{id: id, desc: fmt.Sprintf("Send 10 pings with payload (chop size %d).", chop), open: func(s *session) {
			var want []event
			for i := range 10 {
				p := fmt.Sprintf("payload-%d", i)
				want = append(want, pong(p))
				s.sendFrame(frame{op: opPing, payload: []byte(p), chop: chop})
			}
			s.expect(OK, want...)
			s.expectCleanClose()
			s.closeAfter(3 * time.Second)
		}}
	}
	return []caseDef{
		pingEcho("2.1", "Send ping without payload.", "", 0, time.Second),
		pingEcho("2.2", "Send ping with small text payload.", helloWorld, 0, time.Second),
		pingEcho("2.3", "Send ping with small binary (non UTF-8) payload.", binaryPing, 0, time.Second),
		pingEcho("2.4", "Send ping with binary payload of 125 octets.", strings.Repeat("\xfe", 125), 0, time.Second),
		failCase("2.5", "Send ping with binary payload of 126 octets.", closeProtocolError, nil, func(s *session) {
			s.sendFrame(frame{op: opPing, payload: []byte(strings.Repeat("\xfe", 126))})
		}),
		pingEcho("2.6", "Send ping with binary payload of 125 octets, in octet-wise chops.", strings.Repeat("\xfe", 125), 1, 2*time.Second),
		unsolicited("2.7", ""),
		unsolicited("2.8", "unsolicited pong payload"),
		{id: "2.9", desc: "Send unsolicited pong with payload, then ping with payload.", open: func(s *session) {
			s.expect(OK, pong("ping payload"))
			s.expectCleanClose()
			s.sendFrame(frame{op: opPong, payload: []byte("unsolicited pong payload")})
			s.sendFrame(frame{op: opPing, payload: []byte("ping payload")})
			s.closeAfter(time.Second)
		}},
		tenPings("2.10", 0),
		tenPings("2.11", 1),
	}
}

func reservedCases() []caseDef {
	echoed := message(helloWorld)
	textThen := func(id, desc string, bad frame, c chopping) caseDef {
		return failCase(id, desc, closeProtocolError, &echoed, func(s *session) {
			s.sendFrame(c.apply(frame{op: opText, payload: []byte(helloWorld)}))
			s.sendFrame(c.apply(bad))
			s.sendFrame(c.apply(frame{op: opPing}))
		})
	}
	single := func(id, desc string, bad frame) caseDef {
		return failCase(id, desc, closeProtocolError, nil, func(s *session) { s.sendFrame(bad) })
	}
	hello := []byte(helloWorld)
	cs := []caseDef{
		single("3.1", "Send small text message with RSV = 1.", frame{op: opText, rsv: 1, payload: hello}),
		textThen("3.2", "Send small text message, then again with RSV = 2, then ping.", frame{op: opText, rsv: 2, payload: hello}, chopWhole),
		textThen("3.3", "Send small text message, then again with RSV = 3, then ping, in per-frame chops.", frame{op: opText, rsv: 3, payload: hello}, chopFrames),
		textThen("3.4", "Send small text message, then again with RSV = 4, then ping, in octet-wise chops.", frame{op: opText, rsv: 4, payload: hello}, chopOctets),
		single("3.5", "Send small binary message with RSV = 5.", frame{op: opBinary, rsv: 5, payload: []byte(binaryPing)}),
		single("3.6", "Send ping with RSV = 6.", frame{op: opPing, rsv: 6, payload: hello}),
		single("3.7", "Send close with RSV = 7.", frame{op: opClose, rsv: 7}),
	}
	for g, ops := range [][]byte{{3, 4, 5, 6, 7}, {11, 12, 13, 14, 15}} {
		kind := "non-control"
		if g == 1 {
			kind = "control"
		}
		for i, op := range ops {
			id := fmt.Sprintf("4.%d.%d", g+1, i+1)
			bad := frame{op: op}
			if i%3 != 0 {
				bad.payload = []byte("reserved opcode payload")
			}
			if i < 2 {
				cs = append(cs, single(id, fmt.Sprintf("Send frame with reserved %s opcode %d.", kind, op), bad))
			} else {
				cs = append(cs, textThen(id, fmt.Sprintf("Send small text message, then frame with reserved %s opcode %d, then ping.", kind, op), bad, chopWhole))
			}
		}
	}
	return cs
}

func fragmentationCases() []caseDef {
	f1, f2 := []byte("fragment1"), []byte("fragment2")
	var cs []caseDef
	for i, op := range []byte{opPing, opPong} {
		cs = append(cs, failCase(fmt.Sprintf("5.%d", i+1), fmt.Sprintf("Send opcode %d fragmented into 2 fragments.", op), closeProtocolError, nil, func(s *session) {
			s.sendFrame(frame{op: op, more: true, payload: f1})
			s.sendFrame(frame{op: opContinuation, payload: f2})
		}))
	}
	for i, c := range []chopping{chopWhole, chopFrames, chopOctets} {
		cs = append(cs, caseDef{id: fmt.Sprintf("5.%d", 3+i), desc: "Send text message fragmented into 2 fragments, " + c.String() + ".", open: func(s *session) {
			s.expect(OK, message("fragment1fragment2"))
			s.expectCleanClose()
			s.sendFrame(c.apply(frame{op: opText, more: true, payload: f1}))
			s.sendFrame(c.apply(frame{op: opContinuation, payload: f2}))
			s.closeAfter(time.Second)
		}})
	}
	for i, c := range []chopping{chopWhole, chopFrames, chopOctets} {
		cs = append(cs, caseDef{id: fmt.Sprintf("5.%d", 6+i), desc: "Send text message fragmented into 2 fragments with a ping in between, " + c.String() + ".", open: func(s *session) {
			s.expect(OK, pong("ping payload"), message("fragment1fragment2"))
			s.expectCleanClose()
			s.sendFrame(c.apply(frame{op: opText, more: true, payload: f1}))
			s.sendFrame(c.apply(frame{op: opPing, payload: []byte("ping payload")}))
			s.sendFrame(c.apply(frame{op: opContinuation, payload: f2}))
			s.closeAfter(time.Second)
		}})
	}
	for g, more := range []bool{false, true} {
		for i, c := range []chopping{chopWhole, chopFrames, chopOctets} {
			cs = append(cs, failCase(fmt.Sprintf("5.%d", 9+3*g+i),
				fmt.Sprintf("Send continuation frame with FIN = %t where there is nothing to continue, then a text message, %s.", !more, c),
				closeProtocolError, nil, func(s *session) {
					s.sendFrame(c.apply(frame{op: opContinuation, more: more, payload: []byte("non-continuation payload")}))
					s.sendFrame(c.apply(frame{op: opText, payload: []byte(helloWorld)}))
				}))
		}
	}
	first := message("fragment1fragment2")
	cs = append(cs, failCase("5.15", "Send text message in 2 fragments, then a continuation frame with FIN = false where there is nothing to continue, then a text message.", closeProtocolError, &first, func(s *session) {
		s.sendFrame(frame{op: opText, more: true, payload: f1})
		s.sendFrame(frame{op: opContinuation, payload: f2})
		s.sendFrame(frame{op: opContinuation, more: true, payload: []byte("fragment3")})
		s.sendFrame(frame{op: opText, payload: []byte("fragment4")})
	}))
	for i, firstMore := range []bool{true, false} {
		cs = append(cs, failCase(fmt.Sprintf("5.%d", 16+i),
			fmt.Sprintf("Repeated 2x: continuation frame with FIN = %t (nothing to continue), then text message in 2 fragments.", !firstMore),
			closeProtocolError, nil, func(s *session) {
				for range 2 {
					s.sendFrame(frame{op: opContinuation, more: firstMore, payload: f1})
					s.sendFrame(frame{op: opText, more: true, payload: f2})
					s.sendFrame(frame{op: opContinuation, payload: []byte("fragment3")})
				}
			}))
	}
	cs = append(cs, failCase("5.18", "Send text message in 2 fragments with both frame opcodes set to text.", closeProtocolError, nil, func(s *session) {
		s.sendFrame(frame{op: opText, more: true, payload: f1})
		s.sendFrame(frame{op: opText, payload: f2})
	}))
	for i, sync := range []bool{false, true} {
		cs = append(cs, caseDef{id: fmt.Sprintf("5.%d", 19+i),
			desc: "Send a text message in 5 fragments with a ping after the 2nd and 4th, waiting 1 s after the first ping.",
			open: func(s *session) {
				frags := []string{"fragment1", "fragment2", "fragment3", "fragment4", "fragment5"}
				s.expect(OK, pong("pongme 1!"), pong("pongme 2!"), message(strings.Join(frags, "")))
				s.expectCleanClose()
				s.sendFrame(frame{op: opText, more: true, payload: []byte(frags[0]), sync: sync})
				s.sendFrame(frame{op: opContinuation, more: true, payload: []byte(frags[1]), sync: sync})
				s.sendFrame(frame{op: opPing, payload: []byte("pongme 1!"), sync: sync})
				s.continueLater(time.Second, func() {
					s.sendFrame(frame{op: opContinuation, more: true, payload: []byte(frags[2]), sync: sync})
					s.sendFrame(frame{op: opContinuation, more: true, payload: []byte(frags[3]), sync: sync})
					s.sendFrame(frame{op: opPing, payload: []byte("pongme 2!"), sync: sync})
					s.sendFrame(frame{op: opContinuation, payload: []byte(frags[4]), sync: sync})
					s.closeAfter(time.Second)
				})
			}})
	}
	return cs
}

func closeCases() []caseDef {
	// closeCase is the shape of 7.x: the client starts the closing handshake
	// with its own (maybe odd) frames; a wrong close code fails the case.
	closeCase := func(id, desc string, clean bool, codes []int, send func(s *session)) caseDef {
		return caseDef{id: id, desc: desc, open: func(s *session) {
			s.suppressClose, s.wrongCodeFails = true, true
			s.expect(OK)
			s.expectClose(true, clean, codes...)
			send(s)
			s.killAfter(time.Second)
		}}
	}
	normal := []int{closeNormal}
	protocol := []int{closeProtocolError}
	hello := []byte("Hello World!")
	cs := []caseDef{
		{id: "7.1.1", desc: "Send a message followed by a close frame.", open: func(s *session) {
			s.wrongCodeFails = true
			s.expect(OK, message("Hello World!"))
			s.expectCleanClose()
			s.sendFrame(frame{op: opText, payload: hello})
			s.killAfter(time.Second)
		}},
		closeCase("7.1.2", "Send two close frames.", true, normal, func(s *session) {
			s.sendClose(closeNormal)
			s.sendFrame(frame{op: opClose, payload: closePayload(closeNormal, nil)})
		}),
		closeCase("7.1.3", "Send a ping after close message.", true, normal, func(s *session) {
			s.sendClose(closeNormal)
			s.sendFrame(frame{op: opPing})
		}),
		closeCase("7.1.4", "Send text message after sending a close frame.", true, normal, func(s *session) {
			s.sendClose(closeNormal)
			s.sendFrame(frame{op: opText, payload: hello})
		}),
		closeCase("7.1.5", "Send message fragment1 followed by close then fragment.", true, normal, func(s *session) {
			s.sendFrame(frame{op: opText, more: true, payload: []byte("fragment1")})
			s.sendClose(closeNormal)
			s.sendFrame(frame{op: opContinuation, payload: []byte("fragment2")})
		}),
		{id: "7.1.6", desc: "Send 256K message followed by close then a ping.", open: func(s *session) {
			s.suppressClose, s.informational = true, true
			s.expect(OK, message("Hello World!"))
			s.expect(NonStrict)
			s.expectCleanClose()
			s.sendFrame(frame{op: opText, payload: []byte("BAsd7&jh23"), repeat: 256 << 10})
			s.sendFrame(frame{op: opText, payload: hello})
			s.sendClose(closeNormal)
			s.sendFrame(frame{op: opPing})
			s.killAfter(time.Second)
		}},
		closeCase("7.3.1", "Send a close frame with payload length 0 (no close code, no close reason).", true, normal, func(s *session) {
			s.sendClosePayload(nil)
		}),
		closeCase("7.3.2", "Send a close frame with payload length 1.", false, protocol, func(s *session) {
			s.sendClosePayload([]byte("a"))
		}),
		closeCase("7.3.3", "Send a close frame with payload length 2 (regular close with a code).", true, normal, func(s *session) {
			s.sendClose(closeNormal)
		}),
		closeCase("7.3.4", "Send a close frame with close code and close reason.", true, normal, func(s *session) {
			s.sendClosePayload(closePayload(closeNormal, hello))
		}),
		closeCase("7.3.5", "Send a close frame with close code and close reason of maximum length (123).", true, normal, func(s *session) {
			s.sendClosePayload(closePayload(closeNormal, []byte(strings.Repeat("*", 123))))
		}),
		closeCase("7.3.6", "Send a close frame with close code and close reason which is too long (124): total payload 126 octets.", false, protocol, func(s *session) {
			s.sendClosePayload(closePayload(closeNormal, []byte(strings.Repeat("*", 124))))
		}),
		closeCase("7.5.1", "Send a close frame with invalid UTF-8 payload.", false, []int{closeProtocolError, closeInvalidPayload}, func(s *session) {
			s.sendClosePayload(closePayload(closeNormal, []byte(invalidKosme)))
		}),
	}
	for i, code := range []int{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999} {
		cs = append(cs, closeCase(fmt.Sprintf("7.7.%d", i+1), fmt.Sprintf("Send close with valid close code %d.", code), true, []int{closeNormal, code}, func(s *session) {
			s.sendClose(code)
		}))
	}
	for i, code := range []int{0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999} {
		cs = append(cs, closeCase(fmt.Sprintf("7.9.%d", i+1), fmt.Sprintf("Send close with invalid close code %d.", code), false, protocol, func(s *session) {
			s.sendClose(code)
		}))
	}
	for i, code := range []int{5000, 65535} {
		cs = append(cs, caseDef{id: fmt.Sprintf("7.13.%d", i+1), desc: fmt.Sprintf("Send close with close code %d.", code), open: func(s *session) {
			s.suppressClose, s.informational = true, true
			s.expect(OK)
			s.expectClose(true, false, closeNormal, code, closeProtocolError)
			s.sendClose(code)
			s.killAfter(time.Second)
		}})
	}
	return cs
}

func miscCases() []caseDef {
	p := strings.Repeat("*", 65536)
	return []caseDef{{id: "10.1.1", desc: "Send text message with payload of length 65536 auto-fragmented with autoFragmentSize = 1300.", open: func(s *session) {
		s.autoFragment = 1300
		s.expect(OK, message(p))
		s.expectCleanClose()
		s.sendMessage(opText, []byte(p), 0)
		s.killAfter(10 * time.Second)
	}}}
}

// rtdCases are rtd's own additions: Autobahn never sends an unmasked frame.
func rtdCases() []caseDef {
	return []caseDef{failCase("X.1", "Send an unmasked text frame (RFC 6455 §5.1: the server must fail the connection).", closeProtocolError, nil, func(s *session) {
		s.sendFrame(frame{op: opText, payload: []byte(helloWorld), unmasked: true})
	})}
}
