package fanout

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/rtd-project/rtd/hub"
)

// FuzzParseCommand feeds client-controlled /ws messages to the command
// decoder: it must never panic; a command it accepts has an event name every
// route accepts; a refused event keeps the command's id; and the reply built
// with the decoded id (echoed raw) is valid JSON naming that same id.
func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{
		`{"id":1,"op":"subscribe","channel":"news","since":"ab12cd34:7"}`,
		`{"id":"x","op":"publish","channel":"chat","event":"msg","data":{"a":[1,2]}}`,
		`{"id":2,"op":"publish","channel":"chat","event":"a\r\ndata: x","data":1}`,
		`{"id":{"nested":[null]},"op":"ping"}`,
		`{"id":null,"op":"refresh","token":"a.b.c"}`,
		`{"op":"history","channel":"room 1","limit":-5}`,
		`{"id":1e400,"op":"ping"}`,
		`{"id":"\u2028","event":"\u0000"}`,
		`[1,2]`, `null`, `"ping"`, `{`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cmd, err := parseCommand(data)
		switch {
		case errors.Is(err, hub.ErrInvalidEvent):
			if hub.CheckEvent(cmd.Event) == nil {
				t.Fatalf("event %q refused but valid", cmd.Event)
			}
		case err != nil:
			if cmd.ID != nil {
				t.Fatalf("malformed command kept id %s", *cmd.ID)
			}
			return
		case hub.CheckEvent(cmd.Event) != nil:
			t.Fatalf("accepted event %q", cmd.Event)
		}
		b := appendReply(nil, cmd.ID, errReply(CodeBadRequest, "x"))
		var back struct {
			ID    *json.RawMessage `json:"id"`
			Error struct {
				Code int `json:"code"`
			} `json:"error"`
		}
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("reply %q is not JSON: %v", b, err)
		}
		if back.Error.Code != CodeBadRequest {
			t.Fatalf("reply %q lost its error", b)
		}
		if (cmd.ID == nil) != (back.ID == nil) || cmd.ID != nil && !bytes.Equal(*cmd.ID, *back.ID) {
			t.Fatalf("reply %q does not name the id of %q", b, data)
		}
	})
}
