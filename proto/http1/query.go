package http1

// Query returns the value of the first query parameter whose percent-decoded name is name,
// percent-decoded with '+' read as a space and appended to dst. ok is false when there is no
// such parameter. A '%' not followed by two hex digits is kept as it is, so no input is
// rejected or lost.
func (r *Request) Query(name string, dst []byte) (v []byte, ok bool) {
	q := r.RawQuery
	for len(q) > 0 {
		var pair []byte
		pair, q = cutByte(q, '&')
		key, value := cutByte(pair, '=')
		if len(pair) > 0 && unescapedEqual(key, name) {
			return unescape(dst, value), true
		}
	}
	return dst, false
}

// VisitQuery calls fn for every non-empty parameter of the query string in order, with raw
// (not decoded) name and value. A parameter without '=' has an empty value.
func (r *Request) VisitQuery(fn func(name, value []byte)) {
	q := r.RawQuery
	for len(q) > 0 {
		var pair []byte
		pair, q = cutByte(q, '&')
		if len(pair) > 0 {
			fn(cutByte(pair, '='))
		}
	}
}

// cutByte splits b around the first c; after is empty when c does not occur.
func cutByte(b []byte, c byte) (before, after []byte) {
	for i, x := range b {
		if x == c {
			return b[:i:i], b[i+1:]
		}
	}
	return b, nil
}

// nextUnescaped decodes the query byte at b[0] and returns it with the number of bytes read.
func nextUnescaped(b []byte) (byte, int) {
	switch b[0] {
	case '+':
		return ' ', 1
	case '%':
		if len(b) >= 3 {
			if hi, lo := unhex(b[1]), unhex(b[2]); hi < 16 && lo < 16 {
				return byte(hi<<4 | lo), 3
			}
		}
	}
	return b[0], 1
}

// unescape appends the decoding of b to dst.
func unescape(dst, b []byte) []byte {
	for len(b) > 0 {
		c, n := nextUnescaped(b)
		dst = append(dst, c)
		b = b[n:]
	}
	return dst
}

// unescapedEqual reports whether b decodes to s, without decoding into a buffer.
func unescapedEqual(b []byte, s string) bool {
	i := 0
	for len(b) > 0 {
		c, n := nextUnescaped(b)
		if i == len(s) || s[i] != c {
			return false
		}
		i++
		b = b[n:]
	}
	return i == len(s)
}
