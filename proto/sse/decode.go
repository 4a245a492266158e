package sse

import (
	"bytes"
	"math"
	"time"
)

// DefaultMaxEventBytes is the size limit a zero Options.MaxEventBytes stands for.
const DefaultMaxEventBytes = 1 << 20

// Options configures a Decoder. The zero value means the defaults.
type Options struct {
	// MaxEventBytes bounds the longest line and the data of one event, so that a hostile
	// or broken server cannot make the decoder buffer without end. Default
	// DefaultMaxEventBytes.
	MaxEventBytes int
}

// Decoder parses a text/event-stream incrementally, following the WHATWG "Interpreting an
// event stream" rules: a UTF-8 BOM at the stream start is skipped; invalid UTF-8 becomes
// U+FFFD; lines end at CRLF, LF or CR, also when a CRLF is split between two Feed calls;
// comments and unknown fields are ignored; an id containing NUL is ignored; a retry that
// is not all ASCII digits is ignored; a blank line dispatches the event unless it has no
// data, and the last event ID updates either way.
//
// The zero Decoder is ready to use with default Options. A Decoder is not safe for
// concurrent use.
type Decoder struct {
	maxBytes int
	err      error

	partial     []byte // the unfinished last line of the previous Feed
	pendingLF   bool   // the previous Feed ended with CR: a leading LF belongs to it
	streamBegun bool   // the first line (and a BOM) has been seen
	data        []byte
	eventType   []byte
	idBuf       []byte // the WHATWG "last event ID buffer"
	lastID      string // the "last event ID string", set at dispatch
	typeName    string // the last event type emitted, kept to avoid a string per event
	retry       time.Duration
	retrySet    bool
	blockRetry  time.Duration
}

// NewDecoder returns a Decoder configured by opts.
func NewDecoder(opts Options) *Decoder {
	return &Decoder{maxBytes: opts.MaxEventBytes}
}

// Feed parses the next chunk of the stream and calls emit for every event it completes,
// in order. Event.Data is only valid until emit returns; copy it to keep it. After
// ErrEventTooLarge every Feed fails until Reset.
func (d *Decoder) Feed(p []byte, emit func(Event)) error {
	if d.err != nil {
		return d.err
	}
	limit := d.maxBytes
	if limit <= 0 {
		limit = DefaultMaxEventBytes
	}
	for len(p) > 0 {
		if d.pendingLF {
			d.pendingLF = false
			if p[0] == '\n' {
				p = p[1:]
				continue
			}
		}
		end := bytes.IndexByte(p, '\n')
		window := p
		if end >= 0 {
			window = p[:end]
		}
		if cr := bytes.IndexByte(window, '\r'); cr >= 0 {
			end = cr
		}
		if end < 0 {
			if len(d.partial)+len(p) > limit {
				return d.fail()
			}
			d.partial = append(d.partial, p...)
			return nil
		}
		if len(d.partial)+end > limit {
			return d.fail()
		}
		line := p[:end]
		if len(d.partial) > 0 {
			d.partial = append(d.partial, line...)
			line = d.partial
		}
		next := end + 1
		if p[end] == '\r' {
			if next == len(p) {
				d.pendingLF = true
			} else if p[next] == '\n' {
				next++
			}
		}
		p = p[next:]
		if err := d.processLine(line, limit, emit); err != nil {
			return err
		}
		d.partial = d.partial[:0]
	}
	return nil
}

func (d *Decoder) fail() error {
	d.err = ErrEventTooLarge
	return d.err
}

var bom = []byte("\xEF\xBB\xBF")

func (d *Decoder) processLine(line []byte, limit int, emit func(Event)) error {
	if !d.streamBegun {
		d.streamBegun = true
		line = bytes.TrimPrefix(line, bom)
	}
	if len(line) == 0 {
		d.dispatch(emit)
		return nil
	}
	if line[0] == ':' {
		return nil
	}
	field, value := line, line[len(line):]
	if colon := bytes.IndexByte(line, ':'); colon >= 0 {
		field, value = line[:colon], line[colon+1:]
		if len(value) > 0 && value[0] == ' ' {
			value = value[1:]
		}
	}
	switch string(field) {
	case "event":
		d.eventType = appendUTF8(d.eventType[:0], value)
	case "data":
		if len(d.data)+len(value)+1 > limit {
			return d.fail()
		}
		d.data = appendUTF8(d.data, value)
		d.data = append(d.data, '\n')
	case "id":
		if bytes.IndexByte(value, 0) < 0 {
			d.idBuf = appendUTF8(d.idBuf[:0], value)
		}
	case "retry":
		if ms, ok := parseRetry(value); ok {
			d.retry, d.retrySet, d.blockRetry = ms, true, ms
		}
	}
	return nil
}

func (d *Decoder) dispatch(emit func(Event)) {
	if string(d.idBuf) != d.lastID {
		d.lastID = string(d.idBuf)
	}
	retry := d.blockRetry
	d.blockRetry = 0
	if len(d.data) == 0 {
		d.eventType = d.eventType[:0]
		return
	}
	typ := "message"
	if len(d.eventType) > 0 {
		if string(d.eventType) != d.typeName {
			d.typeName = string(d.eventType)
		}
		typ = d.typeName
	}
	data := d.data[:len(d.data)-1]
	d.data, d.eventType = d.data[:0], d.eventType[:0]
	emit(Event{ID: d.lastID, Event: typ, Data: data, Retry: retry})
}

// parseRetry accepts a non-empty run of ASCII digits that fits a time.Duration of
// milliseconds; browsers ignore the field otherwise.
func parseRetry(v []byte) (time.Duration, bool) {
	if len(v) == 0 {
		return 0, false
	}
	const maxMS = math.MaxInt64 / int64(time.Millisecond)
	var ms int64
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
		ms = ms*10 + int64(c-'0')
		if ms > maxMS {
			return 0, false
		}
	}
	return time.Duration(ms) * time.Millisecond, true
}

// LastEventID returns the last event ID string: what a client sends as Last-Event-ID when
// it reconnects.
func (d *Decoder) LastEventID() string { return d.lastID }

// Retry returns the reconnection time the stream last set, or 0 if it set none.
func (d *Decoder) Retry() time.Duration { return d.retry }

// RetrySet reports whether the stream has set a reconnection time, which tells an explicit
// "retry: 0" from none.
func (d *Decoder) RetrySet() bool { return d.retrySet }

// Reset starts a new stream, as a client does when it reconnects: the unfinished line and
// event are discarded (the spec never dispatches an event cut off by the end of a stream),
// a BOM is skipped again, and a failure is cleared; the last event ID and the reconnection
// time are kept.
func (d *Decoder) Reset() {
	d.err = nil
	d.partial = d.partial[:0]
	d.pendingLF = false
	d.streamBegun = false
	d.data = d.data[:0]
	d.eventType = d.eventType[:0]
	d.idBuf = append(d.idBuf[:0], d.lastID...)
	d.blockRetry = 0
}
