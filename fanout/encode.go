package fanout

import (
	"encoding/json"
	"errors"
	"strconv"

	"github.com/rtd-project/rtd/hub"
	"github.com/rtd-project/rtd/internal/jsonenc"
	"github.com/rtd-project/rtd/server"
)

// Encoder is the tier's wire format as a server.Encoder: pass Encoder{} as
// server.Options.Encoder when creating the server the tier is mounted on
// (Mount refuses a server without it). /ws subscribers receive each
// publication as the JSON push of the channel protocol:
//
//	{"channel":"news","offset":18,"epoch":"…","event":"update","data":{…}}
//	{"channel":"news","join":{"client":"…","user":"…"}}      (presence: join, leave)
//	{"event":"…","data":…}                                  (direct sends: no channel)
//
// with data as published when it is JSON, else as a JSON string. /sse
// streams receive a publication's data as published (presence events: the
// push), and streams of several channels the push, which names the channel.
// Every route of the server gets the same: one format per server.
type Encoder struct{}

var _ server.Encoder = Encoder{}

// ErrEncoder: Mount was given a server whose Options.Encoder is not the
// tier's.
var ErrEncoder = errors.New("fanout: the server's Options.Encoder must be fanout.Encoder{}")

// AppendMessage implements server.Encoder: the JSON push.
func (Encoder) AppendMessage(dst []byte, p *hub.Publication) []byte { return appendPush(dst, p) }

// AppendEventData implements server.Encoder: the data as published, the push
// for presence events and for streams of several channels.
func (Encoder) AppendEventData(dst []byte, p *hub.Publication, tagged bool) []byte {
	if tagged || p.Kind != hub.KindMessage {
		return appendPush(dst, p)
	}
	return append(dst, p.Data...)
}

// appendPush appends the channel protocol's JSON push of a publication (see
// Encoder).
func appendPush(b []byte, p *hub.Publication) []byte {
	b = append(b, '{')
	sep := false
	field := func(name string) {
		if sep {
			b = append(b, ',')
		}
		sep = true
		b = append(b, '"')
		b = append(b, name...)
		b = append(b, '"', ':')
	}
	if p.Channel != "" {
		field("channel")
		b = jsonenc.AppendString(b, p.Channel)
	}
	switch p.Kind {
	case hub.KindJoin, hub.KindLeave:
		field(p.Kind.String())
		b = append(b, `{"client":`...)
		b = jsonenc.AppendString(b, p.Info.Client)
		if p.Info.User != "" {
			b = append(b, `,"user":`...)
			b = jsonenc.AppendString(b, p.Info.User)
		}
		return append(b, '}', '}')
	}
	if p.Offset > 0 {
		field("offset")
		b = strconv.AppendUint(b, p.Offset, 10)
		field("epoch")
		b = jsonenc.AppendString(b, p.Epoch)
	}
	if p.Event != "" {
		field("event")
		b = jsonenc.AppendString(b, p.Event)
	}
	if p.ID != "" {
		field("id")
		b = jsonenc.AppendString(b, p.ID)
	}
	field("data")
	b = appendJSONValue(b, p.Data)
	return append(b, '}')
}

// appendJSONValue appends data as is when it is valid JSON, else as a JSON
// string, so that whatever an embedder publishes yields a valid push.
func appendJSONValue(b, data []byte) []byte {
	if mayBeJSON(data) && json.Valid(data) {
		return append(b, data...)
	}
	return jsonenc.AppendString(b, data)
}

// mayBeJSON reports whether data starts as a JSON value can: most text that
// is not JSON is told at its first byte, without json.Valid (which
// allocates the error it finds).
func mayBeJSON(data []byte) bool {
	for _, c := range data {
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		case '{', '[', '"', '-', 't', 'f', 'n', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
			return true
		}
		return false
	}
	return false
}
