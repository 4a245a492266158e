package autobahn

import (
	"encoding/hex"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// kosme is "κόσμε", the valid sample of the UTF-8 cases.
const kosme = "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"

// invalidKosme breaks kosme with an encoded surrogate (U+D800).
const invalidKosme = kosme + "\xed\xa0\x80" + "edited"

const umlauts = "Hello-µ@ßöäüàá-UTF-8!!"

func utf8Cases() []caseDef {
	valid := func(id, desc, payload string, send func(s *session)) caseDef {
		return caseDef{id: id, desc: desc, open: func(s *session) {
			s.expect(OK, message(payload))
			s.expectCleanClose()
			send(s)
			s.closeAfter(time.Second)
		}}
	}
	invalid := func(id, desc string, send func(s *session)) caseDef {
		return caseDef{id: id, desc: desc, open: func(s *session) {
			s.expect(OK)
			s.expectServerFail(closeInvalidPayload)
			s.close.wrongEndpointFatal = true
			send(s)
			s.killAfter(time.Second)
		}}
	}
	cs := []caseDef{
		valid("6.1.1", "Send text message of length 0.", "", func(s *session) {
			s.sendFrame(frame{op: opText})
		}),
		valid("6.1.2", "Send fragmented text message, 3 fragments each of length 0.", "", func(s *session) {
			s.sendFrame(frame{op: opText, more: true})
			s.sendFrame(frame{op: opContinuation, more: true})
			s.sendFrame(frame{op: opContinuation})
		}),
		valid("6.1.3", "Send fragmented text message, 3 fragments, first and last of length 0, middle non-empty.", "middle frame payload", func(s *session) {
			s.sendFrame(frame{op: opText, more: true})
			s.sendFrame(frame{op: opContinuation, more: true, payload: []byte("middle frame payload")})
			s.sendFrame(frame{op: opContinuation})
		}),
		valid("6.2.1", "Send a valid UTF-8 text message in one fragment.", umlauts, func(s *session) {
			s.sendMessage(opText, []byte(umlauts), 0)
		}),
		valid("6.2.2", "Send a valid UTF-8 text message in two fragments, split on a code point boundary.", umlauts, func(s *session) {
			cut := strings.Index(umlauts, "ü")
			s.sendFrame(frame{op: opText, more: true, payload: []byte(umlauts[:cut])})
			s.sendFrame(frame{op: opContinuation, payload: []byte(umlauts[cut:])})
		}),
		valid("6.2.3", "Send a valid UTF-8 text message in fragments of 1 octet, ending frames inside code points.", umlauts, func(s *session) {
			s.sendMessage(opText, []byte(umlauts), 1)
		}),
		valid("6.2.4", "Send a valid UTF-8 text message (κόσμε) in fragments of 1 octet.", kosme, func(s *session) {
			s.sendMessage(opText, []byte(kosme), 1)
		}),
		invalid("6.3.1", "Send an invalid UTF-8 text message unfragmented.", func(s *session) {
			s.sendMessage(opText, []byte(invalidKosme), 0)
		}),
		invalid("6.3.2", "Send an invalid UTF-8 text message in fragments of 1 octet.", func(s *session) {
			s.sendMessage(opText, []byte(invalidKosme), 1)
		}),
	}
	cs = append(cs, failFastCases()...)
	for i, group := range utf8Sequences() {
		for j, seq := range group.seqs {
			id := fmt.Sprintf("6.%d.%d", 5+i, j+1)
			if utf8.ValidString(seq) {
				cs = append(cs, valid(id, fmt.Sprintf("%s: send valid UTF-8 0x%s in one frame.", group.name, hex.EncodeToString([]byte(seq))), seq, func(s *session) {
					s.sendMessage(opText, []byte(seq), 0)
				}))
			} else {
				cs = append(cs, invalid(id, fmt.Sprintf("%s: send invalid UTF-8 0x%s in one frame.", group.name, hex.EncodeToString([]byte(seq))), func(s *session) {
					s.sendMessage(opText, []byte(seq), 0)
				}))
			}
		}
	}
	return cs
}

// failFastCases are 6.4.x: an invalid message in three parts 1 s apart. A
// server validating as it reads fails right after part 2 (OK); one
// validating at message end fails after part 3 (NON-STRICT).
func failFastCases() []caseDef {
	const bad = kosme + "\xf4\x90\x80\x80" + "edited" // U+110000: out of range
	type split struct{ a, b, c string }
	whole := split{kosme, "\xf4\x90\x80\x80", "edited"}
	byOctet := split{bad[:12], bad[12:13], bad[13:]}
	mk := func(id, desc string, parts split, asFrames bool) caseDef {
		return caseDef{id: id, desc: desc, open: func(s *session) {
			s.expect(OK, timeoutTag("A"))
			s.expect(NonStrict, timeoutTag("A"), timeoutTag("B"))
			s.expectServerFail(closeInvalidPayload)
			s.close.wrongEndpointFatal = true
			// In chop mode the three parts are pieces of one masked frame.
			var chops [][]byte
			if !asFrames {
				f := appendFrame(nil, true, 0, opText, s.nextMask(), []byte(bad))
				hdr := len(f) - len(bad)
				ab := hdr + len(parts.a)
				bc := ab + len(parts.b)
				chops = [][]byte{f[:ab], f[ab:bc], f[bc:]}
			}
			send := func(i int, op byte, p string, more bool) {
				if asFrames {
					s.sendFrame(frame{op: op, more: more, payload: []byte(p)})
				} else {
					s.sendRaw(chops[i])
				}
			}
			send(0, opText, parts.a, true)
			s.continueLater(time.Second, func() {
				if !s.isOpen() {
					return
				}
				s.received = append(s.received, timeoutTag("A"))
				send(1, opContinuation, parts.b, true)
				s.continueLater(time.Second, func() {
					if !s.isOpen() {
						return
					}
					s.received = append(s.received, timeoutTag("B"))
					send(2, opContinuation, parts.c, false)
					s.killAfter(time.Second)
				})
			})
		}}
	}
	return []caseDef{
		mk("6.4.1", "Send invalid UTF-8 text message in 3 frames 1 s apart; the 2nd makes it invalid (U+110000).", whole, true),
		mk("6.4.2", "As 6.4.1, but the 2nd frame carries just the octet that makes the payload invalid.", byOctet, true),
		mk("6.4.3", "As 6.4.1, but in 3 chops of one frame.", whole, false),
		mk("6.4.4", "As 6.4.2, but in 3 chops of one frame.", byOctet, false),
	}
}

type utf8Group struct {
	name string
	seqs []string
}

// utf8Sequences is Markus Kuhn's UTF-8 decoder stress test as the suite
// arranges it (6.5 … 6.23). Validity is decided by utf8.ValidString, which
// follows RFC 3629 like the suite's validator.
func utf8Sequences() []utf8Group {
	var prefixes []string
	for i := 1; i <= len(kosme); i++ {
		prefixes = append(prefixes, kosme[:i])
	}
	var unexpected = []string{"\x80", "\xbf", "\x80\xbf", "\x80\xbf\x80", "\x80\xbf\x80\xbf", "\x80\xbf\x80\xbf\x80", "\x80\xbf\x80\xbf\x80\xbf"}
	var all []byte
	for b := 0x80; b < 0xbf; b++ {
		all = append(all, byte(b))
	}
	unexpected = append(unexpected, string(all))
	var lonely []string
	for _, r := range [][2]int{{0xc0, 0xdf}, {0xe0, 0xef}, {0xf0, 0xf7}, {0xf8, 0xfb}, {0xfc, 0xfd}} {
		var s []byte
		for b := r[0]; b < r[1]; b++ {
			s = append(s, byte(b), 0x20)
		}
		lonely = append(lonely, string(s))
	}
	missing := []string{"\xc0", "\xe0\x80", "\xf0\x80\x80", "\xf8\x80\x80\x80", "\xfc\x80\x80\x80\x80",
		"\xdf", "\xef\xbf", "\xf7\xbf\xbf", "\xfb\xbf\xbf\xbf", "\xfd\xbf\xbf\xbf\xbf"}
	nonChars := []string{"\xef\xbf\xbe", "\xef\xbf\xbf"}
	for _, z1 := range []byte{0xf0, 0xf1, 0xf2, 0xf3, 0xf4} {
		for _, z2 := range []byte{0x8f, 0x9f, 0xaf, 0xbf} {
			if z1 == 0xf4 && z2 != 0x8f {
				continue // above U+10FFFF
			}
			for _, z3 := range []byte{0xbe, 0xbf} {
				if z1 == 0xf0 && z2 == 0x8f {
					continue // overlong
				}
				nonChars = append(nonChars, string([]byte{z1, z2, 0xbf, z3}))
			}
		}
	}
	return []utf8Group{
		{"Some valid UTF-8 sequences", []string{"hello\x24world", "hello\xc2\xa2world", "hello\xe2\x82\xacworld", "hello\xf0\xa4\xad\xa2world", kosme}},
		{"All prefixes of a valid UTF-8 string that contains multi-byte code points", prefixes},
		{"First possible sequence of a certain length", []string{"\x00", "\xc2\x80", "\xe0\xa0\x80", "\xf0\x90\x80\x80"}},
		{"First possible sequence length 5/6 (invalid codepoints)", []string{"\xf8\x88\x80\x80\x80", "\xfc\x84\x80\x80\x80\x80"}},
		{"Last possible sequence of a certain length", []string{"\x7f", "\xdf\xbf", "\xef\xbf\xbf", "\xf4\x8f\xbf\xbf"}},
		{"Last possible sequence length 4/5/6 (invalid codepoints)", []string{"\xf7\xbf\xbf\xbf", "\xfb\xbf\xbf\xbf\xbf", "\xfd\xbf\xbf\xbf\xbf\xbf"}},
		{"Other boundary conditions", []string{"\xed\x9f\xbf", "\xee\x80\x80", "\xef\xbf\xbd", "\xf4\x8f\xbf\xbf", "\xf4\x90\x80\x80"}},
		{"Unexpected continuation bytes", unexpected},
		{"Lonely start characters", lonely},
		{"Sequences with last continuation byte missing", missing},
		{"Concatenation of incomplete sequences", []string{strings.Join(missing, "")}},
		{"Impossible bytes", []string{"\xfe", "\xff", "\xfe\xfe\xff\xff"}},
		{"Examples of an overlong ASCII character", []string{"\xc0\xaf", "\xe0\x80\xaf", "\xf0\x80\x80\xaf", "\xf8\x80\x80\x80\xaf", "\xfc\x80\x80\x80\x80\xaf"}},
		{"Maximum overlong sequences", []string{"\xc1\xbf", "\xe0\x9f\xbf", "\xf0\x8f\xbf\xbf", "\xf8\x87\xbf\xbf\xbf", "\xfc\x83\xbf\xbf\xbf\xbf"}},
		{"Overlong representation of the NUL character", []string{"\xc0\x80", "\xe0\x80\x80", "\xf0\x80\x80\x80", "\xf8\x80\x80\x80\x80", "\xfc\x80\x80\x80\x80\x80"}},
		{"Single UTF-16 surrogates", []string{"\xed\xa0\x80", "\xed\xad\xbf", "\xed\xae\x80", "\xed\xaf\xbf", "\xed\xb0\x80", "\xed\xbe\x80", "\xed\xbf\xbf"}},
		{"Paired UTF-16 surrogates", []string{"\xed\xa0\x80\xed\xb0\x80", "\xed\xa0\x80\xed\xbf\xbf", "\xed\xad\xbf\xed\xb0\x80", "\xed\xad\xbf\xed\xbf\xbf",
			"\xed\xae\x80\xed\xb0\x80", "\xed\xae\x80\xed\xbf\xbf", "\xed\xaf\xbf\xed\xb0\x80", "\xed\xaf\xbf\xed\xbf\xbf"}},
		{"Non-character code points (valid UTF-8)", nonChars},
		{"Unicode specials (i.e. replacement char)", []string{"\xef\xbf\xb9", "\xef\xbf\xba", "\xef\xbf\xbb", "\xef\xbf\xbc", "\xef\xbf\xbd", "\xef\xbf\xbe", "\xef\xbf\xbf"}},
	}
}
