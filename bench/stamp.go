package bench

import (
	"bytes"
	"strconv"
)

// A fan-out publication's data is a small JSON object that lets the receiver
// check and time it without a JSON decoder:
//
//	{"ch":3,"pub":0,"seq":17,"ts":1732000000000000000,"pad":"xxxx"}
//
// ch is the channel index, pub the publisher, seq the publisher's sequence
// number on that channel (from 1), ts the publish time in Unix nanoseconds
// (wall clock, so that receivers in other processes can subtract it), and pad
// fills the object up to the configured size.
type stamp struct {
	ch  int
	pub int
	seq uint64
	ts  int64
}

// appendStamp appends the data object for s, padded to size bytes when size is
// larger than the object without padding.
func appendStamp(dst []byte, s stamp, size int) []byte {
	start := len(dst)
	dst = append(dst, `{"ch":`...)
	dst = strconv.AppendInt(dst, int64(s.ch), 10)
	dst = append(dst, `,"pub":`...)
	dst = strconv.AppendInt(dst, int64(s.pub), 10)
	dst = append(dst, `,"seq":`...)
	dst = strconv.AppendUint(dst, s.seq, 10)
	dst = append(dst, `,"ts":`...)
	dst = strconv.AppendInt(dst, s.ts, 10)
	const padOverhead = len(`,"pad":""}`)
	if pad := size - (len(dst) - start) - padOverhead; pad > 0 {
		dst = append(dst, `,"pad":"`...)
		for range pad {
			dst = append(dst, 'x')
		}
		dst = append(dst, '"')
	}
	return append(dst, '}')
}

// parseStamp finds the stamp fields in a received message: the data object
// itself (SSE) or the publication envelope around it (WebSocket). Whitespace
// around the colons is allowed, in case the server re-encodes the JSON.
func parseStamp(p []byte) (s stamp, ok bool) {
	ch, ok1 := jsonUint(p, `"ch"`)
	pub, ok2 := jsonUint(p, `"pub"`)
	seq, ok3 := jsonUint(p, `"seq"`)
	ts, ok4 := jsonUint(p, `"ts"`)
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return stamp{}, false
	}
	return stamp{ch: int(ch), pub: int(pub), seq: seq, ts: int64(ts)}, true
}

// jsonUint returns the unsigned integer value of the first member named key
// (quoted) in p.
func jsonUint(p []byte, key string) (uint64, bool) {
	i := bytes.Index(p, []byte(key))
	if i < 0 {
		return 0, false
	}
	p = bytes.TrimLeft(p[i+len(key):], " \t\r\n")
	if len(p) == 0 || p[0] != ':' {
		return 0, false
	}
	p = bytes.TrimLeft(p[1:], " \t\r\n")
	var v uint64
	n := 0
	for n < len(p) && p[n] >= '0' && p[n] <= '9' && n < 19 {
		v = v*10 + uint64(p[n]-'0')
		n++
	}
	return v, n > 0
}
