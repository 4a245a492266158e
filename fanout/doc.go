// Package fanout is the fan-out tier of rtd serve, mounted on a
// server.Server by Mount:
//
//   - GET /ws speaks the JSON channel protocol (subscribe with since,
//     unsubscribe, publish where permitted, presence, history, refresh to a
//     token of the same user, ping; errors with codes).
//   - GET /sse?channel=… streams one or more channels, resumable from
//     Last-Event-ID across all of them.
//   - /api/* is the server API behind an API key: publish (single and
//     batch), presence, history, stats, send, broadcast, disconnect; and
//     GET /metrics in Prometheus format, behind the same key.
//
// Browsers are admitted from the server's own site only, unless
// Options.WS.Origins and Options.SSE.Origins name others. Connection tokens
// (JWT, package auth) are checked before every upgrade or stream; namespaces give channel patterns their history, presence and
// publish rules. With a message bus (hub.Options.Broker and Options.Cluster)
// the tier works across nodes, and whatever waits for the bus runs off the
// event loop.
package fanout
