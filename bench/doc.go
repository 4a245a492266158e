// Package bench is rtd's load generator, `rtd bench SCENARIO`: a black-box
// client that measures a fan-out server over its public endpoints only (it
// imports none of rtd's server packages), so that the same run can target rtd
// and the peer servers in bench/peers.
//
// # Scenarios
//
//   - connect: open and hold N WebSocket (/ws) and/or SSE (/sse) connections at
//     a rate; connect rate, handshake latency, and the server's memory per
//     connection from /proc/PID/status.
//   - fanout: N subscribers on C channels; publishers POST stamped
//     publications to /api/publish at a rate R, or as fast as delivery keeps
//     up; delivered/s, publish→receive latency, lost and duplicated messages.
//   - echo: WebSocket round trips on /echo with N connections.
//   - slow: fanout where a share of the subscribers never read; the healthy
//     subscribers' latency and the server's memory over time.
//   - churn: fanout while connections open and close at a rate.
//   - recover: N subscribers disconnect, K publications are made on each
//     channel, they reconnect and resubscribe from their positions; the time
//     until every subscriber has caught up, and each one's own catch-up time.
//
// # Protocols
//
// The client speaks rtd's JSON channel protocol (which the gorilla, gws and
// nbio peers speak too) or, with --protocol centrifuge, Centrifuge's JSON
// protocol (ProtocolCentrifuge), so that a server built on
// github.com/centrifugal/centrifuge (the centrifuge peer, or Centrifugo) is
// measured with the same accounting.
//
// # How it measures
//
// Every publication's data carries its channel, publisher, sequence number and
// wall-clock publish time (see stamp.go), so each subscriber times it into a
// log-linear Histogram (0.8% precision, exact merge) and checks the sequence
// per channel per publisher: gaps are lost, repeats duplicated. Latency
// includes the publish request, the server's fan-out and the client's own
// queueing; with --rate 0 it also includes the publisher's window.
//
// The client is a few epoll loops (golang.org/x/sys/unix), not a goroutine per
// connection: an idle connection costs a struct and a socket. So the load
// generator runs on Linux only: elsewhere the package builds (rtd does), and
// Run and Main fail with ErrLinuxOnly. --procs K re-runs
// the executable K times as children holding a share of the connections each;
// the parent publishes and samples, the children report JSON lines, and the
// results (histograms included) merge exactly. --src spreads the source
// addresses over 127.0.X.1… with IP_BIND_ADDRESS_NO_PORT so that no source/
// destination pair runs out of ports.
//
// # Output
//
// A progress line on a terminal, a table (Result.WriteTable), JSON
// (Result.WriteJSON) and an HTML report with charts of latency percentiles,
// deliveries and memory over time (Result.WriteHTML).
package bench
