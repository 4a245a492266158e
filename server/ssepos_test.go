package server

import (
	"testing"

	"github.com/rtd-project/rtd/hub"
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
