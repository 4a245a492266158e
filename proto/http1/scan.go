package http1

import "encoding/binary"

// isToken reports the tchar bytes of RFC 9110 §5.6.2, the only bytes allowed in methods and
// field names.
var isToken = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

// Word-at-a-time byte tests (Hacker's Delight / "Bit Twiddling Hacks"). Each is exact as a
// yes/no answer for the whole word; they only say whether some byte matches, not which one.
const (
	lsbs = 0x0101010101010101
	msbs = 0x8080808080808080
)

// hasLess reports whether a byte of x is below n (n <= 128).
func hasLess(x uint64, n byte) bool { return (x-lsbs*uint64(n))&^x&msbs != 0 }

// hasByte reports whether a byte of x equals c.
func hasByte(x uint64, c byte) bool {
	y := x ^ lsbs*uint64(c)
	return (y-lsbs)&^y&msbs != 0
}

// isCTL reports the bytes a field value must not contain: controls other than HTAB, and DEL.
// CR and LF are among them, so the first CTL of a well-formed line is its CR.
func isCTL(c byte) bool { return (c < ' ' && c != '\t') || c == 0x7f }

// indexCTL returns the index of the first isCTL byte of b, or -1. Field values are scanned
// eight bytes at a time since they are the bulk of a head (user agents, cookies).
func indexCTL(b []byte) int {
	i := 0
	for i+8 <= len(b) {
		x := binary.LittleEndian.Uint64(b[i:])
		if !hasLess(x, ' ') && !hasByte(x, 0x7f) {
			i += 8
			continue
		}
		for end := i + 8; i < end; i++ {
			if isCTL(b[i]) {
				return i
			}
		}
	}
	for ; i < len(b); i++ {
		if isCTL(b[i]) {
			return i
		}
	}
	return -1
}

// validTarget reports whether a request-target holds no whitespace, control byte or DEL.
// Bytes >= 0x80 are let through: browsers send raw UTF-8 paths and the target is not decoded
// here anyway.
func validTarget(b []byte) bool {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		if hasLess(x, '!') || hasByte(x, 0x7f) {
			return false
		}
	}
	for ; i < len(b); i++ {
		if c := b[i]; c <= ' ' || c == 0x7f {
			return false
		}
	}
	return true
}

// equalFold reports whether b equals s, ignoring ASCII case in both.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		x, y := b[i], s[i]
		if x == y {
			continue
		}
		if x|0x20 != y|0x20 || x|0x20 < 'a' || x|0x20 > 'z' {
			return false
		}
	}
	return true
}

// trimOWS removes leading and trailing SP and HTAB.
func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// unhex returns the value of a hex digit, or 16 for any other byte.
func unhex(c byte) uint64 {
	switch {
	case '0' <= c && c <= '9':
		return uint64(c - '0')
	case 'a' <= c && c <= 'f':
		return uint64(c - 'a' + 10)
	case 'A' <= c && c <= 'F':
		return uint64(c - 'A' + 10)
	}
	return 16
}
