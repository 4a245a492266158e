package http1

import (
	"bytes"
	"testing"
)

// FuzzParse checks, for any input and split point, that Parse neither panics nor writes to its
// input, that n stays within the input, that any error is ErrNeedMore or an *Error, and that a
// prefix of the input either asks for more or gives exactly the whole input's result. It runs
// every input under the default limits and under small ones, so the limit paths are reached.
func FuzzParse(f *testing.F) {
	for _, c := range parseCases {
		f.Add([]byte(c.in), uint16(len(c.in)/2))
	}
	for _, in := range []string{browserGET, upgradeGET, postJSON} {
		f.Add([]byte(in), uint16(len(in)/3))
	}
	f.Fuzz(func(t *testing.T, data []byte, split uint16) {
		for _, lim := range []*Limits{nil, smallLimits} {
			orig := bytes.Clone(data)
			var whole Request
			n, err := Parse(data, &whole, lim)
			checkResult(t, data, orig, n, err)

			prefix := data[:int(split)%(len(data)+1)]
			var part Request
			pn, perr := Parse(prefix, &part, lim)
			checkResult(t, prefix, orig[:len(prefix)], pn, perr)
			if perr == ErrNeedMore {
				if len(prefix) == len(data) && err != ErrNeedMore {
					t.Fatalf("same input, different results: %v then %v", err, perr)
				}
				continue
			}
			if pn != n || perr != err {
				t.Fatalf("prefix of %d bytes gives %d, %v; whole input of %d gives %d, %v", len(prefix), pn, perr, len(data), n, err)
			}
			if err == nil && describe(&part) != describe(&whole) {
				t.Fatalf("prefix parse:\n%s\nwhole parse:\n%s", describe(&part), describe(&whole))
			}
		}
	})
}

func checkResult(t *testing.T, buf, orig []byte, n int, err error) {
	t.Helper()
	if !bytes.Equal(buf, orig) {
		t.Fatalf("Parse modified its input")
	}
	if n < 0 || n > len(buf) {
		t.Fatalf("Parse = %d for %d bytes", n, len(buf))
	}
	if err != nil {
		if n != 0 {
			t.Fatalf("Parse = %d with error %v", n, err)
		}
		if _, ok := err.(*Error); !ok && err != ErrNeedMore {
			t.Fatalf("Parse error %v is %T", err, err)
		}
	} else if n == 0 {
		t.Fatalf("Parse succeeded without consuming bytes")
	}
}
