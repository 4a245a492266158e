package bench

// A few functions that find things in JSON without decoding it: the client
// reads millions of small messages a second and needs a handful of members
// of each. They scan the bytes received, allocate nothing and give up (false)
// on anything that is not well-formed where they look.

// skipSpace returns the index of the first byte at or after i that is not
// JSON whitespace.
func skipSpace(p []byte, i int) int {
	for i < len(p) && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n') {
		i++
	}
	return i
}

// skipString returns the index after the string that starts at p[i] (a
// quote), or -1.
func skipString(p []byte, i int) int {
	for i++; i < len(p); i++ {
		switch p[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return -1
}

// skipValue returns the index after the JSON value that starts at p[i], or -1.
func skipValue(p []byte, i int) int {
	if i >= len(p) {
		return -1
	}
	switch p[i] {
	case '"':
		return skipString(p, i)
	case '{', '[':
		depth := 0
		for ; i < len(p); i++ {
			switch p[i] {
			case '"':
				if i = skipString(p, i); i < 0 {
					return -1
				}
				i--
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
		return -1
	}
	start := i
	for i < len(p) && p[i] != ',' && p[i] != '}' && p[i] != ']' && p[i] != ' ' && p[i] != '\n' && p[i] != '\r' && p[i] != '\t' {
		i++
	}
	if i == start {
		return -1
	}
	return i
}

// jsonMember returns the value (as it is in p) of the member named key of
// the object p; only p's own members count, not those of nested objects.
func jsonMember(p []byte, key string) ([]byte, bool) {
	i := skipSpace(p, 0)
	if i >= len(p) || p[i] != '{' {
		return nil, false
	}
	i++
	for {
		i = skipSpace(p, i)
		if i >= len(p) || p[i] == '}' {
			return nil, false
		}
		if p[i] == ',' {
			i++
			continue
		}
		if p[i] != '"' {
			return nil, false
		}
		end := skipString(p, i)
		if end < 0 {
			return nil, false
		}
		name := p[i+1 : end-1]
		i = skipSpace(p, end)
		if i >= len(p) || p[i] != ':' {
			return nil, false
		}
		i = skipSpace(p, i+1)
		vend := skipValue(p, i)
		if vend < 0 {
			return nil, false
		}
		if string(name) == key {
			return p[i:vend], true
		}
		i = vend
	}
}

// jsonElements calls fn with each element of the array p and reports whether
// p was an array.
func jsonElements(p []byte, fn func([]byte)) bool {
	i := skipSpace(p, 0)
	if i >= len(p) || p[i] != '[' {
		return false
	}
	i++
	for {
		i = skipSpace(p, i)
		if i >= len(p) {
			return false
		}
		switch p[i] {
		case ']':
			return true
		case ',':
			i++
			continue
		}
		end := skipValue(p, i)
		if end < 0 {
			return false
		}
		fn(p[i:end])
		i = end
	}
}

// jsonNumber returns the unsigned integer v.
func jsonNumber(v []byte) (uint64, bool) {
	var n uint64
	if len(v) == 0 || len(v) > 19 {
		return 0, false
	}
	for _, b := range v {
		if b < '0' || b > '9' {
			return 0, false
		}
		n = n*10 + uint64(b-'0')
	}
	return n, true
}

// jsonPlainString returns the contents of the string v when it has no escapes.
func jsonPlainString(v []byte) (string, bool) {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return "", false
	}
	for _, b := range v[1 : len(v)-1] {
		if b == '\\' || b == '"' {
			return "", false
		}
	}
	return string(v[1 : len(v)-1]), true
}

// isEmptyObject reports whether p is {} (a Centrifuge ping or pong).
func isEmptyObject(p []byte) bool {
	i := skipSpace(p, 0)
	if i+1 >= len(p) || p[i] != '{' {
		return false
	}
	j := skipSpace(p, i+1)
	return j < len(p) && p[j] == '}' && skipSpace(p, j+1) == len(p)
}
