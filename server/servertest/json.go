package servertest

import (
	"encoding/json"
	"reflect"
)

// jsonValue returns want as the generic JSON value it encodes to (a
// string or []byte is taken as JSON text).
func jsonValue(h *Host, want any) any {
	h.t.Helper()
	var b []byte
	switch w := want.(type) {
	case string:
		b = []byte(w)
	case []byte:
		b = w
	case json.RawMessage:
		b = w
	default:
		var err error
		if b, err = json.Marshal(want); err != nil {
			h.t.Fatalf("servertest: encoding %v: %v", want, err)
		}
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		h.t.Fatalf("servertest: want %q is not JSON: %v", b, err)
	}
	return v
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// jsonEqual reports whether data holds want; with subset, objects of want
// need only be part of data's.
func jsonEqual(data []byte, want any, subset bool) bool {
	var got any
	if json.Unmarshal(data, &got) != nil {
		return false
	}
	if !subset {
		return reflect.DeepEqual(got, want)
	}
	return jsonContains(got, want)
}

func jsonContains(got, want any) bool {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return false
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok || !jsonContains(gv, wv) {
				return false
			}
		}
		return true
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !jsonContains(g[i], w[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(got, want)
}
