package autobahn

import (
	"bytes"
	"fmt"
	"time"
)

// scale shrinks group 9, 12 and 13 unless Options.Full: sizes by 16, round
// trips by 10, deflate message counts by 50 (deflate is the CPU hog), time
// limits to scaledWait.
type scale struct{ full bool }

const scaledWait = 10 * time.Second

func (sc scale) size(n int) int {
	if sc.full {
		return n
	}
	return n / 16
}

func (sc scale) count(n int) int {
	if sc.full {
		return n
	}
	return n / 10
}

func (sc scale) messages(n int) int {
	if sc.full {
		return n
	}
	return n / 50
}

func (sc scale) wait(secs int) time.Duration {
	if sc.full {
		return time.Duration(secs) * time.Second
	}
	return scaledWait
}

func sizeName(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%dM", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%dK", n>>10)
	}
	return fmt.Sprint(n)
}

// timedEcho is the shape of 9.1–9.6: one large message, graded on the echo
// arriving whole and unchanged within wait.
func timedEcho(id, desc string, wait time.Duration, binary bool, payload []byte, send func(s *session)) caseDef {
	return caseDef{id: id, desc: desc, limit: wait + 5*time.Second, open: func(s *session) {
		s.custom, s.behavior = true, Failed
		s.result = fmt.Sprintf("did not receive the echo within %v", wait)
		s.expectCleanClose()
		s.onMessage = func(got []byte, gotBinary bool) {
			switch {
			case gotBinary != binary:
				s.result = fmt.Sprintf("echo has binary=%t, sent binary=%t", gotBinary, binary)
			case !bytes.Equal(got, payload):
				s.result = fmt.Sprintf("echo of %d octets differs from the %d sent", len(got), len(payload))
			default:
				s.behavior, s.result = OK, fmt.Sprintf("received the echo of %d octets", len(got))
			}
			s.sendClose(closeNormal)
		}
		send(s)
		s.closeAfter(wait)
	}}
}

func limitCases(full bool) []caseDef {
	sc := scale{full}
	var cs []caseDef
	kinds := []struct {
		name string
		op   byte
		fill []byte
	}{{"text", opText, []byte("BAsd7&jh23")}, {"binary", opBinary, []byte{0xfe}}}
	for k, kind := range kinds {
		for i, n := range []int{64 << 10, 256 << 10, 1 << 20, 4 << 20, 8 << 20, 16 << 20} {
			n = sc.size(n)
			wait := sc.wait([]int{10, 20, 30, 60, 80, 100}[i])
			p := repeatTo(kind.fill, n)
			cs = append(cs, timedEcho(fmt.Sprintf("9.%d.%d", 1+k, i+1),
				fmt.Sprintf("Send %s message with payload of length %s.", kind.name, sizeName(n)), wait, kind.op == opBinary, p,
				func(s *session) { s.sendFrame(frame{op: kind.op, payload: p}) }))
		}
	}
	for k, kind := range kinds {
		n := sc.size(4 << 20)
		p := repeatTo(kind.fill, n)
		for i, frag := range []int{64, 256, 1 << 10, 4 << 10, 16 << 10, 64 << 10, 256 << 10, 1 << 20, 4 << 20} {
			frag = sc.size(frag)
			cs = append(cs, timedEcho(fmt.Sprintf("9.%d.%d", 3+k, i+1),
				fmt.Sprintf("Send fragmented %s message of length %s in fragments of %s.", kind.name, sizeName(n), sizeName(frag)),
				sc.wait(100), kind.op == opBinary, p,
				func(s *session) { s.sendMessage(kind.op, p, frag) }))
		}
	}
	for k, kind := range kinds {
		n := sc.size(1 << 20)
		p := repeatTo(kind.fill, n)
		for i, chop := range []int{64, 128, 256, 512, 1024, 2048} {
			cs = append(cs, timedEcho(fmt.Sprintf("9.%d.%d", 5+k, i+1),
				fmt.Sprintf("Send %s message of length %s written in chops of %d octets.", kind.name, sizeName(n), chop),
				sc.wait(100), kind.op == opBinary, p,
				func(s *session) { s.sendFrame(frame{op: kind.op, payload: p, chop: chop}) }))
		}
	}
	for k, kind := range kinds {
		for i, t := range []struct{ size, secs int }{{0, 60}, {16, 60}, {64, 60}, {256, 120}, {1024, 240}, {4096, 480}} {
			cs = append(cs, roundTrips(fmt.Sprintf("9.%d.%d", 7+k, i+1), kind.name, kind.op, kind.fill, t.size, sc.count(1000), sc.wait(t.secs)))
		}
	}
	return cs
}

// roundTrips is 9.7/9.8: count messages sent one after another, each only
// after the previous echo came back.
func roundTrips(id, kind string, op byte, fill []byte, size, count int, wait time.Duration) caseDef {
	desc := fmt.Sprintf("Send %d %s messages of payload size %d one after another to measure round-trip time.", count, kind, size)
	return caseDef{id: id, desc: desc, limit: wait + 5*time.Second, open: func(s *session) {
		s.custom, s.behavior = true, Failed
		s.result = fmt.Sprintf("did not finish within %v", wait)
		s.expectCleanClose()
		p := repeatTo(fill, size)
		sent := 1
		s.onMessage = func(got []byte, binary bool) {
			switch {
			case binary != (op == opBinary) || !bytes.Equal(got, p):
				s.result = fmt.Sprintf("echo %d differs (binary=%t, %d octets)", sent, binary, len(got))
				s.sendClose(closeNormal)
			case sent < count:
				sent++
				s.sendFrame(frame{op: op, payload: p})
			default:
				s.behavior, s.result = OK, fmt.Sprintf("received all %d echoes in time", count)
				s.sendClose(closeNormal)
			}
		}
		s.sendFrame(frame{op: op, payload: p})
		s.closeAfter(wait)
	}}
}
