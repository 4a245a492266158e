package server

import (
	"bytes"
	"testing"

	"github.com/rtd-project/rtd/hub"
	"github.com/rtd-project/rtd/proto/sse"
)

func TestParseEventID(t *testing.T) {
	for _, c := range []struct {
		id   string
		want []hub.Position
	}{
		{"e1:5", []hub.Position{{Epoch: "e1", Offset: 5}}},
		{"e1:5,e2:0,e3:18", []hub.Position{{Epoch: "e1", Offset: 5}, {Epoch: "e2"}, {Epoch: "e3", Offset: 18}}},
		{":0,e2:7", []hub.Position{{}, {Epoch: "e2", Offset: 7}}}, // a channel at an unknown position
	} {
		got, err := ParseEventID(c.id)
		if err != nil || len(got) != len(c.want) {
			t.Fatalf("ParseEventID(%q) = %v, %v", c.id, got, err)
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Fatalf("ParseEventID(%q)[%d] = %v, want %v", c.id, i, got[i], c.want[i])
			}
		}
	}
	for _, bad := range []string{"", "nocolon", "e1:5,", "e1:x", "e1:5,,e2:6"} {
		if _, err := ParseEventID(bad); err == nil {
			t.Errorf("ParseEventID(%q) accepted", bad)
		}
	}
}

// TestMultiChannelIDSkipsDroppedEvents: on a stream of two channels, an
// event the slow-client policy drops does not move its channel's position,
// so the id of the next event still points before it and a resume would
// recover it.
func TestMultiChannelIDSkipsDroppedEvents(t *testing.T) {
	opened := make(chan struct{}, 1)
	s := startServer(t, Options{}, func(s *Server) {
		err := s.SSE("/m", SSEHandler{OnOpen: func(st *Stream) {
			for _, ch := range []string{"a", "b"} {
				if _, err := st.Subscribe(ch, nil); err != nil {
					t.Error(err)
				}
			}
			opened <- struct{}{}
		}}, SSEOptions{MaxSendQueueBytes: 512, SlowClientPolicy: SlowClientDrop})
		if err != nil {
			t.Fatal(err)
		}
	})
	resp := getStream(t, httpURL(s, "/m"))
	defer resp.Body.Close()
	<-opened
	big := bytes.Repeat([]byte("x"), 2048) // over the queue limit: dropped
	for _, p := range []struct {
		ch   string
		data []byte
	}{{"a", big}, {"b", []byte("small")}} {
		if _, err := s.Hub().Publish(p.ch, hub.Publication{Data: p.data}); err != nil {
			t.Fatal(err)
		}
	}
	dec := sse.NewDecoder(sse.Options{})
	events := make(chan sse.Event, 4)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := resp.Body.Read(buf)
			_ = dec.Feed(buf[:n], func(e sse.Event) { events <- e })
			if err != nil {
				close(events)
				return
			}
		}
	}()
	e, ok := <-events
	if !ok {
		t.Fatal("stream ended")
	}
	ps, err := ParseEventID(e.ID)
	// The default Encoder's data on a stream of several channels: the
	// channel, a newline, the data.
	if err != nil || string(e.Data) != "b\nsmall" || len(ps) != 2 {
		t.Fatalf("event %q id %q (%v)", e.Data, e.ID, err)
	}
	if ps[0].Offset != 0 || ps[1].Offset != 1 {
		t.Fatalf("id %q: channel a at offset %d (its only publication was dropped, want 0), b at %d (want 1)", e.ID, ps[0].Offset, ps[1].Offset)
	}
}
