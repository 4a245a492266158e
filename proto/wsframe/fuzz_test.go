package wsframe

import (
	"slices"
	"testing"

	"github.com/gobwas/ws"
)

// FuzzReader feeds arbitrary bytes to a Reader whole and split at a
// fuzzer-chosen point. Next must never panic, never change bytes it does not
// consume, and the split run must see exactly the events, error and leftover
// of the whole run.
func FuzzReader(f *testing.F) {
	for _, tc := range validCases(f) {
		if len(tc.stream) > 4096 {
			continue // big frames are covered by the unit tests; here they only slow the fuzzer
		}
		f.Add(tc.stream, uint16(len(tc.stream)/2), tc.opts.Deflate, uint32(tc.opts.MaxMessageBytes))
	}
	f.Add(cat(clientFrame(false, 0, ws.OpText, []byte("κό")), clientFrame(true, 0, ws.OpContinuation, []byte("\xff"))), uint16(9), false, uint32(0))
	f.Add(clientFrame(true, 0, ws.OpClose, closePayload(1013, "x")), uint16(3), false, uint32(0))
	f.Add(clientFrame(true, rsv1, ws.OpBinary, Compress(nil, make([]byte, 5000))), uint16(7), true, uint32(4000))
	f.Add([]byte{0x82, 0xFF, 0, 0, 0x01, 0, 0, 0, 0, 0}, uint16(5), false, uint32(0))

	f.Fuzz(func(t *testing.T, data []byte, split uint16, deflate bool, limit uint32) {
		// Limits up to 1 MiB: larger ones only make inflating slower.
		limitBytes := int(limit % (1<<20 + 1))
		o := ReaderOptions{Deflate: deflate, MaxMessageBytes: limitBytes}
		k := int(split) % (len(data) + 1)

		var whole, parts Reader
		whole.Init(o)
		parts.Init(o)
		defer whole.Release()
		defer parts.Release()
		wantEv, wantRest, wantErr := feed(t, &whole, slices.Clone(data))
		s := slices.Clone(data)
		gotEv, gotRest, gotErr := feed(t, &parts, s[:k], s[k:])

		// After an error the leftover depends on what had arrived; before,
		// it must not.
		if gotErr != wantErr || (wantErr == nil && gotRest != wantRest) || !slices.Equal(gotEv, wantEv) {
			t.Fatalf("split at %d of %d:\n got %v rest %d err %v\nwant %v rest %d err %v",
				k, len(data), gotEv, gotRest, gotErr, wantEv, wantRest, wantErr)
		}
		if wantErr != nil {
			if _, ok := wantErr.(*CloseError); !ok {
				t.Fatalf("error %T is not a *CloseError", wantErr)
			}
		}
		if limitBytes == 0 {
			limitBytes = DefaultMaxMessageBytes
		}
		for _, ev := range wantEv {
			if (ev.Kind == Text || ev.Kind == Binary) && len(ev.Payload) > limitBytes {
				t.Fatalf("%d-byte message passed the %d-byte limit", len(ev.Payload), limitBytes)
			}
		}
	})
}
