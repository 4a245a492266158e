package autobahn

import (
	"bytes"
	"fmt"
	"time"
)

// deflateSizes is the suite's MSG_SIZES: payload length, message count,
// time limit in seconds, auto-fragment size.
var deflateSizes = []struct{ size, count, secs, frag int }{
	{16, 1000, 60, 0}, {64, 1000, 60, 0}, {256, 1000, 120, 0}, {1024, 1000, 240, 0},
	{4096, 1000, 480, 0}, {8192, 1000, 480, 0}, {16384, 1000, 480, 0}, {32768, 1000, 480, 0},
	{65536, 1000, 480, 0}, {131072, 1000, 480, 0},
	{8192, 1000, 480, 256}, {16384, 1000, 480, 256}, {32768, 1000, 480, 256}, {65536, 1000, 480, 256},
	{131072, 1000, 480, 256}, {131072, 1000, 480, 1024}, {131072, 1000, 480, 4096}, {131072, 1000, 480, 32768},
}

// deflateParamSets are the client offers of 13.1–13.7 as
// (server_no_context_takeover, server_max_window_bits) pairs. The suite's
// 8 became 9 there too: zlib cannot produce an 8-bit window.
var deflateParamSets = [][]deflateOffer{
	{{}},
	{{serverNoContextTakeover: true}},
	{{serverMaxWindowBits: 9}},
	{{serverMaxWindowBits: 15}},
	{{serverNoContextTakeover: true, serverMaxWindowBits: 9}},
	{{serverNoContextTakeover: true, serverMaxWindowBits: 15}},
	{{serverNoContextTakeover: true, serverMaxWindowBits: 9}, {serverNoContextTakeover: true}, {}},
}

func deflateCases(full bool) []caseDef {
	sc := scale{full}
	var cs []caseDef
	for j, c := range corpora() {
		for i, sz := range deflateSizes {
			cs = append(cs, deflateCase(fmt.Sprintf("12.%d.%d", j+1, i+1), c, []deflateOffer{{}}, sc, sz.size, sz.count, sz.secs, sz.frag))
		}
	}
	json := corpora()[0]
	for j, offers := range deflateParamSets {
		for i, sz := range deflateSizes {
			cs = append(cs, deflateCase(fmt.Sprintf("13.%d.%d", j+1, i+1), json, offers, sc, sz.size, sz.count, sz.secs, sz.frag))
		}
	}
	return cs
}

// mayDecline reports whether a server that cannot honour a small
// server_max_window_bits is right to decline every offer (RFC 7692 §7.1.2.1):
// true when each offer asks for one.
func mayDecline(offers []deflateOffer) bool {
	for _, o := range offers {
		if o.serverMaxWindowBits == 0 || o.serverMaxWindowBits == 15 {
			return false
		}
	}
	return true
}

func deflateCase(id string, c corpus, offers []deflateOffer, sc scale, size, count, secs, frag int) caseDef {
	size, count, frag = sc.size(size), sc.messages(count), sc.size(frag)
	wait := sc.wait(secs)
	desc := fmt.Sprintf("Send %d compressed messages of %s, each of payload size %d, auto-fragmented to %d octets; offer %v.", count, c.name, size, frag, offers)
	op := opText
	if c.binary {
		op = opBinary
	}
	return caseDef{id: id, desc: desc, offers: offers, limit: wait + 5*time.Second, open: func(s *session) {
		s.custom = true
		s.expectCleanClose()
		switch {
		case s.negotiation != nil:
			s.behavior, s.result = Failed, "permessage-deflate answer: "+s.negotiation.Error()
			s.sendClose(closeNormal)
			return
		case s.deflate == nil && mayDecline(offers):
			s.behavior, s.result = OK, "server declined an offer with server_max_window_bits < 15"
			s.sendClose(closeNormal)
			return
		case s.deflate == nil:
			s.behavior, s.result = Unimplemented, "permessage-deflate not negotiated"
			s.sendClose(closeNormal)
			return
		}
		s.behavior, s.result = Failed, fmt.Sprintf("did not finish within %v", wait)
		s.autoFragment = frag
		pos, sent := 0, 0
		var last []byte
		sendOne := func() {
			last = make([]byte, size)
			for i := range last {
				last[i] = c.data[(pos+i)%len(c.data)]
			}
			pos = (pos + size) % len(c.data)
			sent++
			s.sendMessage(op, last, 0)
		}
		s.onMessage = func(got []byte, binary bool) {
			switch {
			case binary != c.binary || !bytes.Equal(got, last):
				s.behavior = Failed
				s.result = fmt.Sprintf("echo %d differs (binary=%t, %d octets, want %d)", sent, binary, len(got), len(last))
				s.sendClose(closeNormal)
			case sent < count:
				sendOne()
			default:
				s.behavior, s.result = OK, fmt.Sprintf("received all %d echoes in time", count)
				s.sendClose(closeNormal)
			}
		}
		sendOne()
		s.closeAfter(wait)
	}}
}
