package server

import (
	"testing"
	"unsafe"

	"github.com/rtd-project/rtd/hub"
)

// TestIdleConnectionStructSizes keeps the per-connection structs within the
// allocation size classes they were packed for: a field added carelessly
// moves every idle connection up a class (16 to 32 bytes each, at 100,000
// connections several megabytes).
func TestIdleConnectionStructSizes(t *testing.T) {
	for _, c := range []struct {
		name      string
		size, max uintptr
	}{
		// 144 and 128 bytes: the 144 and 128 classes (with a 112-byte
		// hub.Client and the endpoint's rare state inline they were 216
		// and 200, in the 224 and 208 classes; with the subprotocol and
		// deflate in Socket, not the endpoint's padding, Socket was 168;
		// with a conn pointer of the endpoint's own and the hub.Client's
		// info inline, 160 and 144)
		{"Socket", unsafe.Sizeof(Socket{}), 144},
		{"Stream", unsafe.Sizeof(Stream{}), 128},
		// made for few connections (a context, a close's text, a resume)
		{"endpointExt", unsafe.Sizeof(endpointExt{}), 64},
		{"conn", unsafe.Sizeof(conn{}), 64},
		{"Request", unsafe.Sizeof(Request{}), 64},
		// embedded in Socket and Stream: 80 bytes; any more moves both up a class
		{"hub.Client", unsafe.Sizeof(hub.Client{}), 80},
	} {
		if c.size > c.max {
			t.Errorf("%s is %d bytes, more than the %d its size class allows", c.name, c.size, c.max)
		}
	}
}

// TestHeadedRequestClass: the copies of a request with its headers, which
// live only while OnOpen runs, are allocated in a size class of their own
// (80), not among the 64-byte Requests and conns every idle connection
// keeps, where as garbage they would leave holes after a collection.
func TestHeadedRequestClass(t *testing.T) {
	if n, r := unsafe.Sizeof(headedRequest{}), unsafe.Sizeof(Request{}); n <= 64 || n > 80 || r > 64 {
		t.Fatalf("headedRequest is %d bytes and Request %d: want the 80 and 64 classes", n, r)
	}
}
