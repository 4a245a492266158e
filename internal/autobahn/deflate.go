package autobahn

import (
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// deflateOffer is one permessage-deflate offer, in the terms of Autobahn's
// PerMessageDeflateOffer. Every offer also says the client accepts
// client_no_context_takeover and client_max_window_bits, as Autobahn's do.
type deflateOffer struct {
	serverNoContextTakeover bool // request server_no_context_takeover
	serverMaxWindowBits     int  // request server_max_window_bits=N; 0: not requested
}

func (o deflateOffer) String() string {
	s := "permessage-deflate; client_no_context_takeover; client_max_window_bits"
	if o.serverNoContextTakeover {
		s += "; server_no_context_takeover"
	}
	if o.serverMaxWindowBits != 0 {
		s += "; server_max_window_bits=" + strconv.Itoa(o.serverMaxWindowBits)
	}
	return s
}

// deflateParams is what the server's answer settled.
type deflateParams struct {
	serverNoContextTakeover bool
	serverMaxWindowBits     int // 15 unless the server said less
	clientNoContextTakeover bool
	clientMaxWindowBits     int // 15 unless the server said less
}

// negotiate checks the server's Sec-WebSocket-Extensions answer against the
// offers (RFC 7692 §5, §7.1). It returns nil params and nil error when the
// server declined, and an error when the answer conforms to no offer.
func negotiate(offers []deflateOffer, answer string) (*deflateParams, error) {
	answer = strings.TrimSpace(answer)
	if answer == "" {
		return nil, nil
	}
	if strings.Contains(answer, ",") {
		return nil, fmt.Errorf("more than one extension answered: %q", answer)
	}
	parts := strings.Split(answer, ";")
	if strings.TrimSpace(parts[0]) != "permessage-deflate" {
		return nil, fmt.Errorf("extension %q was not offered", parts[0])
	}
	p := deflateParams{serverMaxWindowBits: 15, clientMaxWindowBits: 15}
	seen := map[string]bool{}
	serverBitsAnswered := false
	for _, raw := range parts[1:] {
		name, value, hasValue := strings.Cut(strings.TrimSpace(raw), "=")
		name = strings.TrimSpace(name)
		value = strings.Trim(strings.TrimSpace(value), `"`)
		if seen[name] {
			return nil, fmt.Errorf("parameter %s answered twice", name)
		}
		seen[name] = true
		switch name {
		case "server_no_context_takeover", "client_no_context_takeover":
			if hasValue {
				return nil, fmt.Errorf("%s with a value", name)
			}
			if name == "server_no_context_takeover" {
				p.serverNoContextTakeover = true
			} else {
				p.clientNoContextTakeover = true
			}
		case "server_max_window_bits", "client_max_window_bits":
			bits, err := strconv.Atoi(value)
			if !hasValue || err != nil || bits < 8 || bits > 15 {
				return nil, fmt.Errorf("%s=%q is not 8..15", name, value)
			}
			if name == "server_max_window_bits" {
				p.serverMaxWindowBits, serverBitsAnswered = bits, true
			} else {
				p.clientMaxWindowBits = bits
			}
		default:
			return nil, fmt.Errorf("unknown parameter %q", name)
		}
	}
	var reasons []string
	for _, o := range offers {
		switch {
		case o.serverNoContextTakeover && !p.serverNoContextTakeover:
			reasons = append(reasons, fmt.Sprintf("[%s]: server_no_context_takeover not answered", o))
		case o.serverMaxWindowBits != 0 && o.serverMaxWindowBits < 15 && !serverBitsAnswered:
			reasons = append(reasons, fmt.Sprintf("[%s]: server_max_window_bits not answered (RFC 7692 §7.1.2.1)", o))
		case o.serverMaxWindowBits != 0 && p.serverMaxWindowBits > o.serverMaxWindowBits:
			reasons = append(reasons, fmt.Sprintf("[%s]: server_max_window_bits=%d above the offer", o, p.serverMaxWindowBits))
		default:
			return &p, nil
		}
	}
	return nil, fmt.Errorf("answer %q conforms to no offer: %s", answer, strings.Join(reasons, "; "))
}

// deflateTail is the end of a sync flush, stripped from each message
// (RFC 7692 §7.2.1) and appended again before inflating.
var deflateTail = []byte{0x00, 0x00, 0xff, 0xff}

// compressor compresses the client's messages.
type compressor struct {
	w       *flate.Writer
	buf     bytes.Buffer
	noReuse bool // client_no_context_takeover: a fresh window per message
}

func newCompressor(p *deflateParams) *compressor {
	// compress/flate always uses a 32 KiB window. For a smaller
	// client_max_window_bits, Huffman-only output has no back references
	// at all and so honours any window.
	level := flate.BestSpeed
	if p.clientMaxWindowBits < 15 {
		level = flate.HuffmanOnly
	}
	c := &compressor{noReuse: p.clientNoContextTakeover}
	c.w, _ = flate.NewWriter(&c.buf, level)
	return c
}

func (c *compressor) compress(msg []byte) []byte {
	c.buf.Reset()
	if c.noReuse {
		c.w.Reset(&c.buf)
	}
	c.w.Write(msg)
	c.w.Flush()
	return bytes.Clone(bytes.TrimSuffix(c.buf.Bytes(), deflateTail))
}

// inflater decompresses the server's messages. With context takeover the
// last 32 KiB of output is the dictionary of the next message, which is
// what a continued deflate stream can refer back to.
type inflater struct {
	keepContext bool
	windowBits  int // the server's promised window; checked when < 15
	dict        []byte
}

func newInflater(p *deflateParams) *inflater {
	if p == nil {
		return nil
	}
	return &inflater{keepContext: !p.serverNoContextTakeover, windowBits: p.serverMaxWindowBits}
}

func (f *inflater) inflate(msg []byte) ([]byte, error) {
	if f.windowBits < 15 {
		dist, err := maxDistance(msg)
		if err != nil {
			return nil, err
		}
		if dist > 1<<f.windowBits {
			return nil, fmt.Errorf("back reference %d octets deep, but server_max_window_bits=%d allows %d", dist, f.windowBits, 1<<f.windowBits)
		}
	}
	// A final empty stored block ends the stream so the reader reports EOF.
	src := io.MultiReader(bytes.NewReader(msg), bytes.NewReader(deflateTail), bytes.NewReader([]byte{0x01, 0x00, 0x00, 0xff, 0xff}))
	r := flate.NewReaderDict(src, f.dict)
	out, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	if f.keepContext {
		f.dict = append(f.dict, out...)
		if len(f.dict) > 32<<10 {
			f.dict = bytes.Clone(f.dict[len(f.dict)-32<<10:])
		}
	}
	return out, nil
}
