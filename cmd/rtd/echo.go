package main

import (
	"strconv"
	"time"

	"github.com/rtd-project/rtd/proto/sse"
	"github.com/rtd-project/rtd/server"
)

// mountEcho registers the test routes of `rtd serve --echo`:
//
//	GET /echo      WebSocket: every text and binary message is sent back unchanged
//	GET /echo/sse  SSE: numbered events "id: N", "data: N", resuming after
//	               Last-Event-ID; ?rate=R events per second (default 10, 0 = no
//	               pause), ?count=C ends the response after C events
//
// Both refuse what a slow client has no room for (SlowClientError) rather
// than close it: an echo is skipped, and /echo/sse retries the event.
func mountEcho(srv *server.Server) error {
	err := srv.WebSocket("/echo", server.WSHandler{
		OnMessage: func(s *server.Socket, m server.Message) {
			_ = s.Send(m)
		},
	}, server.WSOptions{Compression: true, MaxMessageBytes: 16 << 20, MaxSendQueueBytes: 64 << 20, SlowClientPolicy: server.SlowClientError})
	if err != nil {
		return err
	}
	return srv.SSE("/echo/sse", server.SSEHandler{OnOpen: echoStream}, server.SSEOptions{Origins: []string{"*"}, SlowClientPolicy: server.SlowClientError})
}

// echoStream feeds one /echo/sse stream from its own goroutine; Send is safe
// off the loop.
func echoStream(st *server.Stream) {
	r := st.Request()
	rate := 10.0
	if v, err := strconv.ParseFloat(r.Query("rate"), 64); err == nil && v >= 0 {
		rate = v
	}
	count := -1
	if v, err := strconv.Atoi(r.Query("count")); err == nil && v >= 0 {
		count = v
	}
	next, _ := strconv.ParseUint(st.LastEventID(), 10, 64)
	ctx := st.Context()
	go func() {
		var tick <-chan time.Time
		if rate > 0 {
			t := time.NewTicker(time.Duration(float64(time.Second) / rate))
			defer t.Stop()
			tick = t.C
		}
		for sent := 0; count < 0 || sent < count; sent++ {
			if tick != nil {
				select {
				case <-ctx.Done():
					return
				case <-tick:
				}
			} else if ctx.Err() != nil {
				return
			}
			next++
			n := strconv.FormatUint(next, 10)
			if err := st.Send(sse.Event{ID: n, Data: []byte(n)}); err != nil && err != server.ErrSlowClient {
				return
			}
		}
		_ = st.Close()
	}()
}
