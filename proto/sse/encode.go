package sse

import (
	"strconv"
	"time"
)

// Event is one server-sent event: what AppendEvent writes and what Decoder emits.
type Event struct {
	// ID is the event id. AppendEvent omits an empty ID (the client keeps its last event
	// ID). Decoder reports the stream's last event ID at dispatch, which is the ID of an
	// earlier event when this one has none, as EventSource's MessageEvent.lastEventId does.
	ID string
	// Event is the event type. AppendEvent omits an empty one; Decoder reports "message"
	// when the stream set none.
	Event string
	// Data is the payload. AppendEvent splits it at every line ending (LF, CRLF or CR)
	// into "data:" lines, so a decoder sees the lines joined with LF. It should be
	// UTF-8: decoders replace invalid sequences with U+FFFD. An event always carries at
	// least one "data:" line, because a decoder dispatches nothing without one.
	Data []byte
	// Retry is the reconnection time, written as "retry: <ms>" when positive (rounded
	// down to the millisecond). Decoder reports the retry field seen since the previous
	// blank line, or 0.
	Retry time.Duration
}

// AppendEvent appends e to dst as one event block ended by a blank line. It returns
// ErrInvalidID or ErrInvalidEventName, with dst unchanged, when a field would break out of
// its line. It allocates nothing when dst has room.
func AppendEvent(dst []byte, e Event) ([]byte, error) {
	if !isFieldValue(e.ID) {
		return dst, ErrInvalidID
	}
	if !isFieldValue(e.Event) {
		return dst, ErrInvalidEventName
	}
	if e.ID != "" {
		dst = append(dst, "id: "...)
		dst = append(dst, e.ID...)
		dst = append(dst, '\n')
	}
	if e.Event != "" {
		dst = append(dst, "event: "...)
		dst = append(dst, e.Event...)
		dst = append(dst, '\n')
	}
	if e.Retry > 0 {
		dst = appendRetryLine(dst, e.Retry)
	}
	dst = appendLines(dst, "data:", e.Data)
	return append(dst, '\n'), nil
}

// AppendComment appends text as a comment block (": text" and a blank line), which
// clients ignore: servers send it as a heartbeat that keeps proxies from timing the
// stream out. A line ending inside text starts another comment line, so text can never
// end the comment and inject a field.
func AppendComment(dst []byte, text string) []byte {
	dst = appendLines(dst, ":", text)
	return append(dst, '\n')
}

// AppendRetry appends a block that only sets the client's reconnection time to d (rounded
// down to the millisecond; negative counts as 0). It dispatches no event.
func AppendRetry(dst []byte, d time.Duration) []byte {
	dst = appendRetryLine(dst, d)
	return append(dst, '\n')
}

// PreamblePadding is the size of the comment line AppendPreamble starts a stream with.
// 2 KiB is what IE's XDomainRequest (used by the common EventSource polyfill) and some
// buffering proxies and antivirus filters wait for before they pass a response on; the
// cost is one 2 KiB write per stream.
const PreamblePadding = 2048

// AppendPreamble appends what a server sends right after the response head: a
// PreamblePadding-byte comment line, so that intermediaries that buffer the start of a
// response forward the stream at once, then the retry hint when retry is positive, ended
// by a blank line so the hint never joins the first event's block.
func AppendPreamble(dst []byte, retry time.Duration) []byte {
	dst = append(dst, ':')
	for range PreamblePadding - 2 {
		dst = append(dst, ' ')
	}
	dst = append(dst, '\n')
	if retry > 0 {
		dst = appendRetryLine(dst, retry)
	}
	return append(dst, '\n')
}

func appendRetryLine(dst []byte, d time.Duration) []byte {
	dst = append(dst, "retry: "...)
	dst = strconv.AppendInt(dst, max(d, 0).Milliseconds(), 10)
	return append(dst, '\n')
}

// appendLines appends one "prefix value" line per line of text, splitting at LF, CRLF and
// CR as decoders do; an empty line is written as the bare prefix.
func appendLines[T string | []byte](dst []byte, prefix string, text T) []byte {
	for {
		end := lineEnd(text)
		dst = append(dst, prefix...)
		if end > 0 {
			dst = append(dst, ' ')
			dst = append(dst, text[:end]...)
		}
		dst = append(dst, '\n')
		if end == len(text) {
			return dst
		}
		next := end + 1
		if text[end] == '\r' && next < len(text) && text[next] == '\n' {
			next++
		}
		text = text[next:]
	}
}

// lineEnd returns the index of the first CR or LF in text, or len(text).
func lineEnd[T string | []byte](text T) int {
	for i := 0; i < len(text); i++ {
		if text[i] == '\n' || text[i] == '\r' {
			return i
		}
	}
	return len(text)
}

func isFieldValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\n' || c == '\r' || c == 0 {
			return false
		}
	}
	return true
}
