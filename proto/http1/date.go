package http1

import (
	"encoding/binary"
	"sync"
	"sync/atomic"
	"time"
)

// imfFixdate is the Date format of RFC 9110 §5.6.7; a formatted value is always 29 bytes.
const (
	imfFixdate    = "Mon, 02 Jan 2006 15:04:05 GMT"
	imfFixdateLen = len(imfFixdate)
)

// dateCache holds the current second formatted once, shared by every goroutine. It is a
// sequence lock over atomic words rather than an atomic pointer to a fresh value so that a
// refresh allocates nothing; only atomics are touched, so readers never race with the writer.
type dateCache struct {
	refresh sync.Mutex    // one writer at a time
	seq     atomic.Uint64 // odd while a writer is updating
	sec     atomic.Int64  // the Unix second the words hold
	words   [4]atomic.Uint64
}

var currentDate dateCache

// AppendDate appends "Date: <IMF-fixdate>\r\n" for the current second. The text is formatted
// at most once per second process-wide; AppendDate allocates nothing and is safe for
// concurrent use.
func AppendDate(dst []byte) []byte {
	now := time.Now()
	sec := now.Unix()
	dst = append(dst, "Date: "...)
	if text, ok := currentDate.load(sec); ok {
		dst = append(dst, text[:imfFixdateLen]...)
	} else {
		// Another goroutine is refreshing the cache: formatting here costs less than waiting.
		dst = now.UTC().AppendFormat(dst, imfFixdate)
	}
	return append(dst, "\r\n"...)
}

// load returns the cached text for sec, refreshing the cache when it holds another second.
// ok is false when a concurrent writer is in the way.
func (c *dateCache) load(sec int64) (text [32]byte, ok bool) {
	if c.sec.Load() != sec && c.refresh.TryLock() {
		if c.sec.Load() != sec {
			var b [32]byte
			time.Unix(sec, 0).UTC().AppendFormat(b[:0], imfFixdate)
			c.seq.Add(1)
			for i := range c.words {
				c.words[i].Store(binary.LittleEndian.Uint64(b[8*i:]))
			}
			c.sec.Store(sec)
			c.seq.Add(1)
		}
		c.refresh.Unlock()
	}
	s := c.seq.Load()
	if s&1 != 0 || c.sec.Load() != sec {
		return text, false
	}
	for i := range c.words {
		binary.LittleEndian.PutUint64(text[8*i:], c.words[i].Load())
	}
	return text, c.seq.Load() == s
}
