package autobahn

import "errors"

// The server's promise server_max_window_bits=N means no back reference in
// its deflate stream reaches further than 2^N octets. compress/flate cannot
// report distances, so maxDistance walks the stream itself (RFC 1951) and
// decodes just enough to see every distance.

var (
	errDeflateShort = errors.New("deflate stream truncated")
	errDeflateCode  = errors.New("deflate stream has an invalid code")
)

var (
	lengthBase  = [29]int{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lengthExtra = [29]uint{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase    = [30]int{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra   = [30]uint{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
	clOrder     = [19]int{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}
)

type bitReader struct {
	b     []byte
	pos   int
	acc   uint
	nbits uint
}

func (r *bitReader) bits(n uint) (int, error) {
	for r.nbits < n {
		if r.pos >= len(r.b) {
			return 0, errDeflateShort
		}
		r.acc |= uint(r.b[r.pos]) << r.nbits
		r.pos++
		r.nbits += 8
	}
	v := int(r.acc & (1<<n - 1))
	r.acc >>= n
	r.nbits -= n
	return v, nil
}

// huffman is a canonical code as counts per length and symbols in order.
type huffman struct {
	count  [16]int
	symbol []int
}

func newHuffman(lengths []int) huffman {
	var h huffman
	for l := 1; l < 16; l++ {
		for sym, sl := range lengths {
			if sl == l {
				h.count[l]++
				h.symbol = append(h.symbol, sym)
			}
		}
	}
	return h
}

func (r *bitReader) decode(h *huffman) (int, error) {
	code, first, index := 0, 0, 0
	for l := 1; l < 16; l++ {
		b, err := r.bits(1)
		if err != nil {
			return 0, err
		}
		code |= b
		count := h.count[l]
		if code-count < first {
			return h.symbol[index+code-first], nil
		}
		index += count
		first = (first + count) << 1
		code <<= 1
	}
	return 0, errDeflateCode
}

var fixedLit, fixedDist = func() (huffman, huffman) {
	l := make([]int, 288)
	for i := range l {
		switch {
		case i < 144:
			l[i] = 8
		case i < 256:
			l[i] = 9
		case i < 280:
			l[i] = 7
		default:
			l[i] = 8
		}
	}
	d := make([]int, 30)
	for i := range d {
		d[i] = 5
	}
	return newHuffman(l), newHuffman(d)
}()

// maxDistance returns the deepest back reference in a permessage-deflate
// message (the sync-flush tail already stripped).
func maxDistance(msg []byte) (int, error) {
	r := &bitReader{b: append(append([]byte(nil), msg...), deflateTail...)}
	deepest := 0
	for {
		if r.pos >= len(r.b) {
			return deepest, nil
		}
		final, err := r.bits(1)
		if err != nil {
			return 0, err
		}
		typ, err := r.bits(2)
		if err != nil {
			return 0, err
		}
		switch typ {
		case 0:
			r.acc, r.nbits = 0, 0 // stored: skip to the byte boundary
			if r.pos+4 > len(r.b) {
				return 0, errDeflateShort
			}
			n := int(r.b[r.pos]) | int(r.b[r.pos+1])<<8
			r.pos += 4 + n
			if r.pos > len(r.b) {
				return 0, errDeflateShort
			}
		case 1:
			if err := r.codes(&fixedLit, &fixedDist, &deepest); err != nil {
				return 0, err
			}
		case 2:
			lit, dist, err := r.dynamicTables()
			if err != nil {
				return 0, err
			}
			if err := r.codes(&lit, &dist, &deepest); err != nil {
				return 0, err
			}
		default:
			return 0, errDeflateCode
		}
		if final == 1 {
			return deepest, nil
		}
	}
}

func (r *bitReader) dynamicTables() (lit, dist huffman, err error) {
	var hlit, hdist, hclen int
	if hlit, err = r.bits(5); err != nil {
		return
	}
	if hdist, err = r.bits(5); err != nil {
		return
	}
	if hclen, err = r.bits(4); err != nil {
		return
	}
	hlit, hdist, hclen = hlit+257, hdist+1, hclen+4
	var cl [19]int
	for i := range hclen {
		if cl[clOrder[i]], err = r.bits(3); err != nil {
			return
		}
	}
	clh := newHuffman(cl[:])
	lengths := make([]int, 0, hlit+hdist)
	for len(lengths) < hlit+hdist {
		var sym int
		if sym, err = r.decode(&clh); err != nil {
			return
		}
		if sym < 16 {
			lengths = append(lengths, sym)
			continue
		}
		val, rep := 0, 0
		switch sym {
		case 16:
			if len(lengths) == 0 {
				return lit, dist, errDeflateCode
			}
			val = lengths[len(lengths)-1]
			rep, err = r.bits(2)
			rep += 3
		case 17:
			rep, err = r.bits(3)
			rep += 3
		default:
			rep, err = r.bits(7)
			rep += 11
		}
		if err != nil {
			return
		}
		for range rep {
			lengths = append(lengths, val)
		}
	}
	if len(lengths) > hlit+hdist {
		return lit, dist, errDeflateCode
	}
	return newHuffman(lengths[:hlit]), newHuffman(lengths[hlit:]), nil
}

func (r *bitReader) codes(lit, dist *huffman, deepest *int) error {
	for {
		sym, err := r.decode(lit)
		if err != nil {
			return err
		}
		switch {
		case sym < 256:
			continue
		case sym == 256:
			return nil
		case sym-257 >= len(lengthBase):
			return errDeflateCode
		}
		if _, err := r.bits(lengthExtra[sym-257]); err != nil {
			return err
		}
		ds, err := r.decode(dist)
		if err != nil {
			return err
		}
		if ds >= len(distBase) {
			return errDeflateCode
		}
		extra, err := r.bits(distExtra[ds])
		if err != nil {
			return err
		}
		*deepest = max(*deepest, distBase[ds]+extra)
	}
}
