package jsonenc

import (
	"bytes"
	"encoding/json"
	"testing"
)

var samples = []string{
	"", "news", `q"uo\te`, "a\x00b\x01\x1f\x7f", "\b\f\n\r\t", "<script>&</script>",
	"\u2028\u2029", "héllo, 世界 🎉", "\xff", "a\xe2\x82", "\xe2\x82a", "\xed\xa0\x80", "\xf4\x90\x80\x80",
}

func TestAppendStringMatchesMarshal(t *testing.T) {
	for _, s := range samples {
		want, _ := json.Marshal(s)
		if got := AppendString([]byte("x"), s); !bytes.Equal(got[1:], want) || got[0] != 'x' {
			t.Errorf("AppendString(%q) = %s, want %s", s, got[1:], want)
		}
		if got := AppendString(nil, []byte(s)); !bytes.Equal(got, want) {
			t.Errorf("AppendString([]byte %q) = %s, want %s", s, got, want)
		}
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range samples {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := AppendString(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("AppendString(%q) = %s, json.Marshal = %s", s, got, want)
		}
	})
}
