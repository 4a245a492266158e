package wsframe

import "unicode/utf8"

// utf8State validates UTF-8 that arrives in pieces (the fragments of a text
// message, or the bytes of a frame received so far), so that an invalid byte
// fails the message at once instead of at its end (Autobahn 6.4.x). The zero
// value is "between code points".
type utf8State struct {
	need   uint8 // continuation bytes still expected for the current code point
	lo, hi byte  // allowed range of the next continuation byte
}

// complete reports whether no code point is left unfinished.
func (s utf8State) complete() bool { return s.need == 0 }

// feed validates p as the continuation of what was fed before and reports
// false at the first byte that cannot be part of valid UTF-8.
func (s *utf8State) feed(p []byte) bool {
	for len(p) > 0 && s.need > 0 {
		if !s.step(p[0]) {
			return false
		}
		p = p[1:]
	}
	// The bulk goes through utf8.Valid (word-at-a-time for ASCII); only a code
	// point cut by the end of p is carried over byte by byte.
	cut := incompleteTail(p)
	if !utf8.Valid(p[:cut]) {
		return false
	}
	for _, b := range p[cut:] {
		if !s.step(b) {
			return false
		}
	}
	return true
}

// incompleteTail returns the index where a code point starts that p does not
// hold completely, or len(p).
func incompleteTail(p []byte) int {
	i := len(p) - 1
	for i >= 0 && i > len(p)-4 && p[i]&0xC0 == 0x80 {
		i--
	}
	if i < 0 {
		return len(p)
	}
	var size int
	switch b := p[i]; {
	case b >= 0xF0:
		size = 4
	case b >= 0xE0:
		size = 3
	case b >= 0xC0:
		size = 2
	default:
		return len(p)
	}
	if len(p)-i < size {
		return i
	}
	return len(p)
}

// step advances the state by one byte (RFC 3629 §4 table).
func (s *utf8State) step(b byte) bool {
	if s.need > 0 {
		if b < s.lo || b > s.hi {
			return false
		}
		s.need--
		s.lo, s.hi = 0x80, 0xBF
		return true
	}
	switch {
	case b < 0x80:
	case b >= 0xC2 && b <= 0xDF:
		*s = utf8State{need: 1, lo: 0x80, hi: 0xBF}
	case b == 0xE0:
		*s = utf8State{need: 2, lo: 0xA0, hi: 0xBF}
	case b == 0xED:
		*s = utf8State{need: 2, lo: 0x80, hi: 0x9F}
	case b >= 0xE1 && b <= 0xEF:
		*s = utf8State{need: 2, lo: 0x80, hi: 0xBF}
	case b == 0xF0:
		*s = utf8State{need: 3, lo: 0x90, hi: 0xBF}
	case b >= 0xF1 && b <= 0xF3:
		*s = utf8State{need: 3, lo: 0x80, hi: 0xBF}
	case b == 0xF4:
		*s = utf8State{need: 3, lo: 0x80, hi: 0x8F}
	default:
		return false
	}
	return true
}
