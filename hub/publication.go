package hub

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxEventBytes bounds a publication's event name.
const MaxEventBytes = 128

// CheckEvent returns ErrInvalidEvent unless name may be a publication's
// event name: empty, or at most MaxEventBytes of UTF-8 without control
// characters. Publish and Broadcast apply it; callers that validate a batch
// before publishing any of it (or that send with SendTo and SendToUser, which
// return no error) call it themselves, so every entry point has one rule.
func CheckEvent(name string) error {
	if len(name) > MaxEventBytes || !printable(name) {
		return ErrInvalidEvent
	}
	return nil
}

// printable reports whether s is UTF-8 without control characters (C0, DEL,
// C1): what channel and event names may hold, since they end up in logs,
// JSON and SSE lines.
func printable(s string) bool {
	for _, r := range s {
		if r < 0x20 || (r >= 0x7f && r < 0xa0) || r == utf8.RuneError {
			return false
		}
	}
	return true
}

// Kind tells a channel message from a presence event.
type Kind uint8

// Kinds of publication.
const (
	KindMessage Kind = iota // published data; has an offset and is kept in history
	KindJoin                // a connection subscribed (Info says who); offset 0, not kept
	KindLeave               // a connection unsubscribed (Info says who); offset 0, not kept
)

func (k Kind) String() string {
	switch k {
	case KindMessage:
		return "message"
	case KindJoin:
		return "join"
	case KindLeave:
		return "leave"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Publication is one message on a channel (or to a client, user or everyone).
// The caller fills Event, ID and Data; the hub assigns Channel, Offset, Epoch,
// Kind and Time. Data is retained (history) and shared with every recipient:
// the caller must not modify it after publishing.
type Publication struct {
	Channel string
	Event   string // optional event name (SSE "event:", WS "event")
	ID      string // optional idempotency or application ID, passed through
	Data    []byte
	Offset  uint64 // position in the channel's stream; 0 for join/leave and direct sends
	Epoch   string // the channel incarnation the offset belongs to
	Kind    Kind
	Info    *ClientInfo // who joined or left (KindJoin, KindLeave); shared, read-only
	Time    int64       // when the hub accepted it, Unix milliseconds
}

// Position returns the publication's place in its channel's stream.
func (p *Publication) Position() Position { return Position{Epoch: p.Epoch, Offset: p.Offset} }

// ClientInfo describes a connection in presence lists and join/leave events.
type ClientInfo struct {
	Client string
	User   string
	Info   []byte // Client.Info(); read-only
}

// Position is a place in a channel's stream: the channel incarnation (Epoch)
// and the offset of the last publication seen. A client that resubscribes with
// its last Position receives exactly what it missed, if history still has it.
type Position struct {
	Epoch  string
	Offset uint64
}

// String formats the position as "epoch:offset", the form clients send back.
func (p Position) String() string {
	return p.Epoch + ":" + strconv.FormatUint(p.Offset, 10)
}

// AppendTo appends the position as String writes it.
func (p Position) AppendTo(dst []byte) []byte {
	dst = append(dst, p.Epoch...)
	dst = append(dst, ':')
	return strconv.AppendUint(dst, p.Offset, 10)
}

// ParsePosition parses "epoch:offset" as written by Position.String. The epoch
// is everything before the last colon.
func ParsePosition(s string) (Position, error) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return Position{}, ErrInvalidPosition
	}
	off, err := strconv.ParseUint(s[i+1:], 10, 64)
	if err != nil {
		return Position{}, ErrInvalidPosition
	}
	return Position{Epoch: s[:i], Offset: off}, nil
}
