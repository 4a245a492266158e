package sse_test

import (
	"fmt"
	"time"

	"github.com/rtd-project/rtd/proto/sse"
)

func ExampleAppendEvent() {
	b, err := sse.AppendEvent(nil, sse.Event{
		ID:    "msg-123",
		Event: "notification",
		Data:  []byte("line one\nline two"),
	})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s", b)

	// A line break in the id would inject fields, so it is refused.
	_, err = sse.AppendEvent(nil, sse.Event{ID: "1\nevent: fake"})
	fmt.Println(err)
	// Output:
	// id: msg-123
	// event: notification
	// data: line one
	// data: line two
	//
	// sse: event id contains CR, LF or NUL
}

func ExampleAppendComment() {
	fmt.Printf("%q\n", sse.AppendComment(nil, "heartbeat"))
	fmt.Printf("%q\n", sse.AppendComment(nil, "two\nlines"))
	// Output:
	// ": heartbeat\n\n"
	// ": two\n: lines\n\n"
}

func ExampleAppendRetry() {
	fmt.Printf("%q\n", sse.AppendRetry(nil, 2*time.Second))
	// Output: "retry: 2000\n\n"
}

func ExampleAppendPreamble() {
	b := sse.AppendPreamble(nil, 3*time.Second)
	fmt.Println(len(b), b[0] == ':')
	fmt.Printf("%q\n", b[sse.PreamblePadding:])
	// Output:
	// 2061 true
	// "retry: 3000\n\n"
}

func ExampleDecoder() {
	d := sse.NewDecoder(sse.Options{MaxEventBytes: 64 << 10})
	emit := func(e sse.Event) {
		fmt.Printf("id=%q event=%q data=%q\n", e.ID, e.Event, e.Data)
	}
	// Chunks may split the stream anywhere, even a CRLF.
	for _, chunk := range []string{
		"retry: 1000\r\n\r\nid: 1\r\nevent: add\r\nda", "ta: 42\r\n\r",
		"\n: heartbeat\n\ndata: a\ndata: b\n\n",
	} {
		if err := d.Feed([]byte(chunk), emit); err != nil {
			panic(err)
		}
	}
	fmt.Println(d.LastEventID(), d.Retry())
	// Output:
	// id="1" event="add" data="42"
	// id="1" event="message" data="a\nb"
	// 1 1s
}
