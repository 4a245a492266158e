package autobahn

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
)

// The suite compresses five files it ships (JSON, a BMP picture, German
// prose, HTML, a PDF). They are not available here, so corpus generates
// stand-ins of the same kinds and sizes from a fixed seed: the same octets on
// every run, with the redundancy of real documents rather than noise.
type corpus struct {
	name   string
	binary bool // sent as binary messages, as the suite does
	data   []byte
}

var corpora = sync.OnceValue(func() []corpus {
	rng := rand.New(rand.NewPCG(6455, 7692))
	return []corpus{
		{"JSON data (utf8)", false, genJSON(rng, 194<<10)},
		{"Bitmap picture 512x512 (binary)", true, genBitmap(rng)},
		{"Human readable German text (binary)", true, genText(rng, 200<<10)},
		{"HTML (utf8)", false, genHTML(rng, 100<<10)},
		{"PDF-like document (binary)", true, genPDF(rng, 1<<20)},
	}
})

var words = strings.Fields(`der die das und ist nicht ein eine zu mit sich auf für von
	Faust Gretchen Mephistopheles Himmel Erde Geist Nacht Zeit Welt Herz Liebe
	über schön größer Straße müde fröhlich Mädchen Bürger Äpfel öffnen wäre
	habe nun ach Philosophie Juristerei Medizin leider auch Theologie durchaus
	studiert mit heißem Bemühn da steh ich armer Tor bin so klug als wie zuvor`)

// asciiWords feed the utf8 corpora: messages are cut from them at any
// octet, which must never split a code point.
var asciiWords = func() []string {
	var out []string
	for _, w := range words {
		if strings.IndexFunc(w, func(r rune) bool { return r > 0x7f }) < 0 {
			out = append(out, w)
		}
	}
	return out
}()

func pick[T any](rng *rand.Rand, xs []T) T { return xs[rng.IntN(len(xs))] }

func genText(rng *rand.Rand, n int) []byte {
	var b strings.Builder
	for b.Len() < n {
		for i := 3 + rng.IntN(12); i > 0; i-- {
			b.WriteString(pick(rng, words))
			b.WriteByte(' ')
		}
		b.WriteString(pick(rng, []string{".\n", ",\n", "!\n\n", "?\n"}))
	}
	return []byte(b.String()[:n])
}

func genJSON(rng *rand.Rand, n int) []byte {
	var b strings.Builder
	b.WriteString("[\n")
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, `  {"id": %d, "name": "%s %s", "active": %t, "score": %.3f, "tags": ["%s", "%s"], "city": "%s", "zip": "%05d"},`+"\n",
			i, pick(rng, asciiWords), pick(rng, asciiWords), rng.IntN(2) == 0, rng.Float64()*100,
			pick(rng, asciiWords), pick(rng, asciiWords), pick(rng, []string{"Koeln", "Muenchen", "Zuerich", "Wien", "Berlin"}), rng.IntN(100000))
	}
	b.WriteString(`  {"end": true}` + "\n]\n")
	return []byte(b.String())
}

func genHTML(rng *rand.Rand, n int) []byte {
	var b strings.Builder
	b.WriteString("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Autobahn</title></head><body>\n")
	for b.Len() < n {
		fmt.Fprintf(&b, "<div class=\"%s\"><h2>%s</h2><p>", pick(rng, []string{"row", "cell", "box"}), pick(rng, asciiWords))
		for i := 5 + rng.IntN(20); i > 0; i-- {
			if rng.IntN(6) == 0 {
				fmt.Fprintf(&b, "<a href=\"/%s/%d\">%s</a> ", pick(rng, asciiWords), rng.IntN(1000), pick(rng, asciiWords))
			} else {
				b.WriteString(pick(rng, asciiWords) + " ")
			}
		}
		b.WriteString("</p></div>\n")
	}
	b.WriteString("</body></html>\n")
	return []byte(b.String())
}

// genBitmap is an 8-bit greyscale 512x512 BMP: smooth shapes plus noise.
func genBitmap(rng *rand.Rand) []byte {
	const w, h = 512, 512
	const header = 14 + 40 + 256*4
	b := make([]byte, header, header+w*h)
	copy(b, "BM")
	binary.LittleEndian.PutUint32(b[2:], uint32(header+w*h))
	binary.LittleEndian.PutUint32(b[10:], header)
	binary.LittleEndian.PutUint32(b[14:], 40)
	binary.LittleEndian.PutUint32(b[18:], w)
	binary.LittleEndian.PutUint32(b[22:], h)
	binary.LittleEndian.PutUint16(b[26:], 1)
	binary.LittleEndian.PutUint16(b[28:], 8)
	for i := range 256 {
		b[54+4*i], b[55+4*i], b[56+4*i] = byte(i), byte(i), byte(i)
	}
	for y := range h {
		for x := range w {
			v := (x*x+y*y)/2048 + (x^y)&31 + rng.IntN(8)
			b = append(b, byte(v))
		}
	}
	return b
}

// genPDF mixes readable object syntax with incompressible streams.
func genPDF(rng *rand.Rand, n int) []byte {
	b := []byte("%PDF-1.4\n")
	for obj := 1; len(b) < n; obj++ {
		b = fmt.Appendf(b, "%d 0 obj\n<< /Type /Page /Parent 2 0 R /Contents %d 0 R /Font /F%d >>\nstream\n", obj, obj+1, rng.IntN(9))
		for i := 64 + rng.IntN(1024); i > 0; i-- {
			b = append(b, byte(rng.Uint32()))
		}
		b = append(b, "\nendstream\nendobj\n"...)
	}
	return b[:n]
}
