package fanout

import (
	"encoding/json"
	"errors"
	"strings"

	"github.com/rtd-project/rtd/hub"
	"github.com/rtd-project/rtd/proto/sse"
	"github.com/rtd-project/rtd/server"
)

// authorizeSSE checks the token and every requested channel before the
// stream starts: a refusal is an HTTP status, never a half-open stream.
func (t *Tier) authorizeSSE(r *server.Request) error {
	id, err := t.identify(r)
	if err != nil {
		return err
	}
	chans := r.QueryAll("channel")
	switch {
	case len(chans) == 0:
		return &server.HTTPError{Status: 400, Message: `{"error":"channel required"}`}
	case len(chans) > t.o.MaxSSEChannels:
		return &server.HTTPError{Status: 400, Message: `{"error":"too many channels"}`}
	}
	for _, ch := range chans {
		if !t.canSubscribe(id, ch) {
			return &server.HTTPError{Status: 403, Message: `{"error":"subscribe not permitted"}`}
		}
	}
	r.SetUser(id.User)
	r.SetValue(id)
	return nil
}

// sseOpen subscribes the stream to its channels. A Last-Event-ID (or
// ?lastEventId=) is the position "epoch:offset" of the last event the client
// saw; each channel's epoch is unique, so the channel it belongs to resumes
// from it. A channel that cannot be recovered is announced with an event
// "recovered" carrying {"channel":…,"recovered":false}: the client must
// reload that channel's state.
func (t *Tier) sseOpen(st *server.Stream) {
	r := st.Request()
	if id, _ := r.Value().(*Identity); id != nil && !id.Expires.IsZero() {
		t.mu.Lock()
		t.expiringSSE[st] = id.Expires.UnixNano()
		t.mu.Unlock()
	}
	var last *hub.Position
	if v := st.LastEventID(); v != "" {
		if p, err := hub.ParsePosition(v); err == nil {
			last = &p
		}
	}
	for _, ch := range r.QueryAll("channel") {
		var since *hub.Position
		if last != nil {
			// Only the channel whose history holds that epoch can resume
			// from it; hub.Subscribe reports recovered=false otherwise.
			since = last
		}
		res, err := st.Subscribe(ch, since)
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
		if since != nil && !res.Recovered && !strings.EqualFold(res.Position.Epoch, since.Epoch) && len(r.QueryAll("channel")) > 1 {
			// Another channel's position: nothing was lost here that the
			// client ever saw from this stream.
			continue
		}
		if since != nil && !res.Recovered {
			b, _ := json.Marshal(map[string]any{"channel": ch, "recovered": false, "position": res.Position.String()})
			_ = st.Send(sse.Event{Event: "recovered", Data: b})
		}
	}
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
