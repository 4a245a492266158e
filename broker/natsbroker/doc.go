// Package natsbroker joins rtd nodes through NATS: it implements hub.Broker
// with core NATS for fan-out and JetStream for shared history.
//
// # Subjects
//
// Every publication is stored in one JetStream stream (Options.Stream, "RTD")
// on PREFIX.ch.<channel>, where <channel> is the channel name in base64url
// without padding: names can carry no subject separator, wildcard or
// whitespace into a subject, and no two names share one. The stream
// republishes each publication once stored, in stream order, on
// PREFIX.live.<channel> with its sequence and the channel's previous sequence
// as headers. A node subscribes (core NATS) to the live subject of exactly
// the channels it has subscribers for, so publications travel only to nodes
// that want them, and only publications the stream accepted travel at all.
//
// # Positions
//
// A publication's offset is its stream sequence; the epoch is derived from the
// stream's creation time. Every node therefore hands out the same position
// for the same publication, and a client that reconnects to another node
// recovers from it. Offsets of one channel increase but are not consecutive;
// the previous-sequence header chains them, so a node sees a missed
// publication as a gap and reads it back from the stream. A stream deleted and
// created again has a new epoch, and older positions recover nothing
// (recovered: false), as do positions older than what the stream retains.
//
// # Retention
//
// Options.HistorySize and Options.HistoryTTL become the stream's
// MaxMsgsPerSubject and MaxAge: they must be at least the largest of any
// namespace, whose own (smaller) limits the hub applies on each node.
//
// # Failures
//
// Publish returns an error wrapping hub.ErrBrokerUnavailable unless the
// stream acknowledged the publication; nothing is buffered while the
// connection is down. The connection reconnects for ever; on reconnection
// interest is registered again, the stream is set up again (retried until the
// NATS server answers JetStream requests) and the hub reads back from the
// stream what its channels missed. Healthy is true only between the stream
// being set up and the connection dropping; Status says why not, for a
// readiness probe. With Options.RetryOnFailedConnect, New returns even when
// NATS cannot be reached yet, and the broker is unhealthy until it is.
//
// # Cluster view
//
// SharePresence and ShareStats keep a node's per-channel counts and totals in
// two JetStream key-value buckets (in memory, with a TTL of three share
// intervals, so a dead node's figures expire); PresenceByNode,
// ClusterPresence and ClusterStats read them back. Relay hands a message to
// every other node's OnRelay function on the core subject PREFIX.ctl (at
// most once, not stored): the server API's operations on connections.
package natsbroker
