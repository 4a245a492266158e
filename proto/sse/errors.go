package sse

import "errors"

var (
	// ErrInvalidID is returned by AppendEvent when Event.ID contains CR, LF or NUL: a line
	// break would let the ID inject fields or whole events, and a decoder ignores an id
	// containing NUL, so the event would silently keep the previous ID.
	ErrInvalidID = errors.New("sse: event id contains CR, LF or NUL")

	// ErrInvalidEventName is returned by AppendEvent when Event.Event contains CR, LF or
	// NUL, for the same injection reason as ErrInvalidID.
	ErrInvalidEventName = errors.New("sse: event name contains CR, LF or NUL")

	// ErrEventTooLarge is returned by Decoder.Feed when a line, or the data of one event,
	// exceeds Options.MaxEventBytes. The decoder stays failed until Reset.
	ErrEventTooLarge = errors.New("sse: event exceeds the size limit")
)
