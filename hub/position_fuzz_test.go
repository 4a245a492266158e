package hub

import "testing"

// FuzzParsePosition: whatever parses prints back to something that parses to
// the same position, and every position survives String then ParsePosition.
func FuzzParsePosition(f *testing.F) {
	for _, s := range []string{"0a1b2c3d:42", ":0", "a:b:7", "x:18446744073709551615", "x:-1", "", "x:+1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePosition(s)
		if err != nil {
			return
		}
		q, err := ParsePosition(p.String())
		if err != nil || q != p {
			t.Fatalf("%q parsed to %+v, which prints as %q and parses to %+v, %v", s, p, p.String(), q, err)
		}
	})
}
