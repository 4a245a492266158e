package sse

import (
	"unicode/utf8"
)

// appendUTF8 appends src to dst as the WHATWG "UTF-8 decode" reads it: each maximal
// invalid subsequence becomes one U+FFFD. That differs from Go's per-byte replacement
// (utf8.DecodeRune), e.g. "\xE2\x82A" is one U+FFFD then "A", so it is written out here.
// Decoding line by line gives the same text as decoding the whole stream, because CR,
// LF and every other ASCII byte end any unfinished sequence.
func appendUTF8(dst, src []byte) []byte {
	if utf8.Valid(src) {
		return append(dst, src...)
	}
	const replacement = "\uFFFD"
	start := 0 // first byte of the sequence being decoded
	needed, seen := 0, 0
	lower, upper := byte(0x80), byte(0xBF)
	for i := 0; i < len(src); i++ {
		b := src[i]
		if needed == 0 {
			start = i
			switch {
			case b <= 0x7F:
				dst = append(dst, b)
			case b >= 0xC2 && b <= 0xDF:
				needed = 1
			case b >= 0xE0 && b <= 0xEF:
				if b == 0xE0 {
					lower = 0xA0
				} else if b == 0xED {
					upper = 0x9F
				}
				needed = 2
			case b >= 0xF0 && b <= 0xF4:
				if b == 0xF0 {
					lower = 0x90
				} else if b == 0xF4 {
					upper = 0x8F
				}
				needed = 3
			default:
				dst = append(dst, replacement...)
			}
			continue
		}
		if b < lower || b > upper {
			// The sequence so far is invalid; b starts afresh.
			needed, seen = 0, 0
			lower, upper = 0x80, 0xBF
			dst = append(dst, replacement...)
			i--
			continue
		}
		lower, upper = 0x80, 0xBF
		seen++
		if seen == needed {
			dst = append(dst, src[start:i+1]...)
			needed, seen = 0, 0
		}
	}
	if needed != 0 {
		dst = append(dst, replacement...)
	}
	return dst
}
