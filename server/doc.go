// Package server is rtd's network engine: a gnet v2 event loop per CPU that
// speaks HTTP/1.1 itself (proto/http1), upgrades to WebSocket (proto/wsframe,
// on gobwas/ws) and writes Server-Sent Events (proto/sse) straight into the
// connections' buffers, with a sharded hub (package hub) for fan-out. It is
// the only rtd package that imports gnet.
//
// # Routes
//
// HandleFunc registers plain HTTP handlers, WebSocket and SSE register
// long-lived routes, and Group puts routes under a prefix behind guards.
// Patterns are "/"-separated literals, ":name" parameters and a final
// "*name" wildcard; literals win over parameters, parameters over
// wildcards. Routes are registered before Run; Routes lists them.
//
// # Threads
//
// Handlers and the OnOpen, OnMessage and OnClose callbacks run on the
// connection's event loop, one at a time and in order, and must not block:
// a plain handler that has to wait calls ResponseWriter.Defer and finishes
// on a goroutine of its own. Every send method of Socket and Stream is safe
// from any goroutine, never blocks, and reports the slow-client outcome
// (ErrSlowClient, ErrClosed) instead.
//
// # Fan-out
//
// Hub returns the server's hub. Socket.Subscribe and Stream.Subscribe join a
// channel (with recovery from a position); hub.Publish encodes a publication
// once — WebSocket frame, compressed frame, SSE event — and each loop writes
// every subscriber of it once per flush. What a subscriber receives is
// Options.Encoder's: by default the published data as is (see Encoder). Each connection's queue is bounded
// (MaxSendQueueBytes, counting gnet's outbound buffer); past it the route's
// SlowClientPolicy drops, refuses or closes (1013 on WebSocket).
//
// # Limits and timeouts
//
// Every size a peer controls is capped before it is buffered (request line,
// headers, body, message, send queue), and gnet has no timers, so the server
// keeps its own: header and keep-alive timeouts, WebSocket pings, idle and
// close deadlines, SSE heartbeats. The zero WSOptions and SSEOptions protect
// as rtd serve does: WebSocket pings every 25s and a socket silent for 60s
// (a dead peer) closed, SSE heartbeats every 30s, a slow client closed (1013
// after a 1s grace) rather than left to fall behind; negative durations and
// the other SlowClientPolicy values say otherwise. Shutdown stops accepting,
// closes WebSockets with 1001 and ends streams with a jittered retry hint.
//
// # Metrics and tests
//
// Metrics holds the server's counters; RouteMetrics the same per WebSocket
// and SSE route, for series labelled by route pattern (fanout.RouteMetrics
// turns them into Prometheus series). Package servertest runs a server in a
// test with fluent WebSocket, SSE and HTTP clients.
//
// # Logs
//
// Options.Logger (zerolog) receives the server's and gnet's logs; lines per
// request and per connection are sampled (Options.LogSampler) and never hold
// a query string or a header.
package server
