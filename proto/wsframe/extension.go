package wsframe

import "bytes"

// acceptDeflate walks the Sec-WebSocket-Extensions offers in the client's
// order of preference and reports whether one of them is a permessage-deflate
// offer that Go's compress/flate can honour with the answer rtd always gives
// (deflateResponse). A malformed header or parameter declines offers instead
// of failing the handshake: the connection then runs uncompressed.
func acceptDeflate(header []byte) bool {
	s := extScanner{b: header}
	for {
		for s.skip(',') {
			// Empty list elements are allowed (RFC 9110 §5.6.1.2).
		}
		if s.end() {
			return false
		}
		name, ok := s.token()
		if !ok {
			return false
		}
		var offer deflateOffer
		acceptable := bytes.EqualFold(name, []byte("permessage-deflate"))
		for s.skip(';') {
			key, ok := s.token()
			if !ok {
				return false
			}
			var val []byte
			hasVal := s.skip('=')
			if hasVal {
				if val, ok = s.value(); !ok {
					return false
				}
			}
			acceptable = acceptable && offer.param(key, val, hasVal)
		}
		if !s.end() && !s.skip(',') {
			return false
		}
		if acceptable {
			return true
		}
	}
}

// deflateOffer checks the parameters of one permessage-deflate offer
// (RFC 7692 §7.1).
type deflateOffer struct {
	seen uint8 // one bit per parameter name, to decline duplicates (§7.1)
}

const (
	seenServerNoContextTakeover = 1 << iota
	seenClientNoContextTakeover
	seenServerMaxWindowBits
	seenClientMaxWindowBits
)

// param reports whether the offer stays acceptable with parameter key.
func (o *deflateOffer) param(key, val []byte, hasVal bool) bool {
	var bit uint8
	switch string(key) {
	case "server_no_context_takeover":
		bit = seenServerNoContextTakeover
		if hasVal {
			return false
		}
	case "client_no_context_takeover":
		bit = seenClientNoContextTakeover
		if hasVal {
			return false
		}
	case "server_max_window_bits":
		// compress/flate always uses a 32 KiB window, so the server cannot
		// honour a smaller one (§7.1.2.1: decline the offer).
		bit = seenServerMaxWindowBits
		if bits, ok := windowBits(val); !ok || bits != 15 {
			return false
		}
	case "client_max_window_bits":
		// A hint that the client can limit its window; rtd inflates with a
		// full window and need not answer it (§7.1.2.2).
		bit = seenClientMaxWindowBits
		if _, ok := windowBits(val); hasVal && !ok {
			return false
		}
	default:
		return false
	}
	if o.seen&bit != 0 {
		return false
	}
	o.seen |= bit
	return true
}

// windowBits parses a window size: "8" to "15" without leading zeros.
func windowBits(v []byte) (int, bool) {
	switch len(v) {
	case 1:
		if v[0] == '8' || v[0] == '9' {
			return int(v[0] - '0'), true
		}
	case 2:
		if v[0] == '1' && v[1] >= '0' && v[1] <= '5' {
			return 10 + int(v[1]-'0'), true
		}
	}
	return 0, false
}

// extScanner tokenizes a Sec-WebSocket-Extensions value:
//
//	extension-list = 1#extension
//	extension      = token *( OWS ";" OWS param )
//	param          = token [ OWS "=" OWS ( token / quoted-string ) ]
type extScanner struct {
	b []byte
}

func (s *extScanner) ows() {
	for len(s.b) > 0 && (s.b[0] == ' ' || s.b[0] == '\t') {
		s.b = s.b[1:]
	}
}

func (s *extScanner) end() bool {
	s.ows()
	return len(s.b) == 0
}

// skip consumes c (after optional whitespace) and reports whether it was there.
func (s *extScanner) skip(c byte) bool {
	s.ows()
	if len(s.b) > 0 && s.b[0] == c {
		s.b = s.b[1:]
		return true
	}
	return false
}

func (s *extScanner) token() ([]byte, bool) {
	s.ows()
	i := 0
	for i < len(s.b) && isTokenChar(s.b[i]) {
		i++
	}
	tok := s.b[:i]
	s.b = s.b[i:]
	return tok, i > 0
}

// value reads a token or a quoted-string; a quoted value is returned without
// its quotes and escapes are left in place (they make it invalid as a number,
// the only kind of value permessage-deflate has).
func (s *extScanner) value() ([]byte, bool) {
	s.ows()
	if len(s.b) == 0 || s.b[0] != '"' {
		return s.token()
	}
	for i := 1; i < len(s.b); i++ {
		switch s.b[i] {
		case '\\':
			i++
		case '"':
			v := s.b[1:i]
			s.b = s.b[i+1:]
			return v, true
		}
	}
	return nil, false
}

// isTokenChar reports whether c is a tchar (RFC 9110 §5.6.2).
func isTokenChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return c < 0x80 && bytes.IndexByte([]byte("!#$%&'*+-.^_`|~"), c) >= 0
}
