// Package sse encodes and decodes text/event-stream, the wire format of Server-Sent Events
// (WHATWG HTML, "Server-sent events", https://html.spec.whatwg.org/multipage/server-sent-events.html).
//
// It is pure: functions over []byte, no I/O. The server encodes each publication once with
// AppendEvent and writes the same bytes to every subscriber; AppendComment makes
// heartbeats, AppendRetry and AppendPreamble the reconnection hint and the stream start.
// Decoder is the client side, for tests and the bench client.
//
// A stream is a sequence of blocks separated by blank lines; each line is a field:
//
//	: a comment, ignored (heartbeats)
//	retry: 3000
//
//	id: 42
//	event: notification
//	data: {"message":
//	data: "Hello"}
//
// The second block dispatches one "notification" event whose data is the two data lines
// joined with LF, and whose id a reconnecting client sends back as Last-Event-ID.
//
// The encoder refuses ids and event names that contain CR, LF or NUL (they would inject
// fields or events) and splits data at every line ending, so nothing a publisher passes can
// produce more than one event.
package sse
