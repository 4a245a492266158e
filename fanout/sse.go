package fanout

import (
	"encoding/json"
	"errors"

	"github.com/rtd-project/rtd/hub"
	"github.com/rtd-project/rtd/proto/sse"
	"github.com/rtd-project/rtd/server"
)

// authorizeSSE checks the token and every requested channel before the
// stream starts: a refusal is an HTTP status, never a half-open stream.
func (t *Tier) authorizeSSE(r *server.Request) error {
	id, err := t.identify(r, t.o.SSE.Origins)
	if err != nil {
		return err
	}
	// The channels are read from the request's input, not copied: a
	// refusal copies the one it names. The count first: a request over
	// the limit is refused as such, whatever it names.
	n := 0
	for range r.QueryValues("channel") {
		n++
	}
	switch {
	case n == 0:
		return &server.HTTPError{Status: 400, Message: `{"error":"channel required"}`}
	case n > t.o.MaxSSEChannels:
		return &server.HTTPError{Status: 400, Message: `{"error":"too many channels"}`}
	}
	for ch := range r.QueryValues("channel") {
		if why := t.whyNot(id, ch); why != "" {
			return refusal(403, "subscribe not permitted", ch, why)
		}
	}
	r.SetUser(id.User)
	r.SetValue(id)
	return nil
}

// sseOpen subscribes the stream to its channels. A Last-Event-ID (or
// ?lastEventId=) names where the client is: on a stream of several channels,
// a position in each, in the order of the query (server.ParseEventID), so
// every channel resumes exactly; a single position resumes the channel whose
// epoch it names. A channel that cannot be recovered is announced with an
// event "recovered" carrying {"channel":…,"recovered":false,"position":…}:
// the client must reload that channel's state.
//
// The notice carries an id, as publications do: where the stream is in every
// channel when the notice is written (server.Stream.Notice). Without one a
// browser would keep sending its stale Last-Event-ID and be told
// recovered:false on every reconnect.
func (t *Tier) sseOpen(st *server.Stream) {
	r := st.Request()
	if id, _ := r.Value().(*Identity); id != nil && !id.Expires.IsZero() {
		t.mu.Lock()
		t.expiringSSE[st] = id.Expires.UnixNano()
		t.mu.Unlock()
	}
	// The stream's request is detached (OpenWithoutHeaders): its values
	// are its own, shared with no input buffer.
	n := 0
	for range r.QueryValues("channel") {
		n++
	}
	resuming := st.LastEventID() != ""
	since := resumePositions(st.LastEventID(), n)
	var notices [][]byte // one per channel not recovered
	i := -1
	for ch := range r.QueryValues("channel") {
		i++
		var from *hub.Position
		if since != nil {
			from = since[i]
		}
		res, err := st.Subscribe(ch, from)
		if errors.Is(err, hub.ErrBrokerUnavailable) {
			// The bus is away: end the stream, so that the client comes
			// back (after the retry delay, with its Last-Event-ID) rather
			// than wait on a channel it is not subscribed to.
			_ = st.Send(sse.Event{Event: "error", Data: errorJSON(ch, err)})
			_ = st.Close()
			return
		}
		if err != nil {
			_ = st.Send(sse.Event{Event: "error", Data: errorJSON(ch, err)})
			continue
		}
		if resuming && !res.Recovered {
			b, _ := json.Marshal(map[string]any{"channel": ch, "recovered": false, "position": res.Position.String()})
			notices = append(notices, b)
		}
	}
	for _, b := range notices {
		_ = st.Notice(sse.Event{Event: "recovered", Data: b})
	}
}

// resumePositions maps a Last-Event-ID onto n channels: one position each
// when it names n, else the one it names for every channel (only the channel
// of that epoch recovers from it; the others are told they did not). Nil
// entries for none; nil for a fresh stream (no id).
func resumePositions(id string, n int) []*hub.Position {
	if id == "" {
		return nil
	}
	out := make([]*hub.Position, n)
	ps, err := server.ParseEventID(id)
	if err != nil {
		return out
	}
	for i := range out {
		switch {
		case len(ps) == n:
			out[i] = &ps[i]
		case len(ps) == 1:
			out[i] = &ps[0]
		}
	}
	return out
}

func errorJSON(channel string, err error) []byte {
	b, _ := json.Marshal(map[string]string{"channel": channel, "error": err.Error()})
	return b
}

func (t *Tier) sseClose(st *server.Stream) {
	t.mu.Lock()
	delete(t.expiringSSE, st)
	t.mu.Unlock()
}
