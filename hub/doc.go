// Package hub is rtd's fan-out core: channels, subscriber sets, publishing,
// presence, history and recovery. It does no I/O and knows no protocol: the
// server (package server) implements Subscriber, Deliverer and Encoder, and
// the hub hands it prepared publications in per-loop batches (see seam.go).
//
// # Data flow
//
// The server registers each connection with Connect (its Client carries the
// event loop index) and subscribes it with Subscribe. Publish hashes the
// channel to one of a fixed power-of-two set of shards (maphash with a
// per-hub seed, so channel names cannot be chosen to pile onto one shard) and,
// under that shard's lock, assigns the next offset, calls Encoder.Encode once,
// appends the publication to the channel's history and hands every loop that
// has subscribers exactly one Batch through Deliverer.Deliver. The loop later
// walks the batch with Batch.Each, on its own goroutine and without any hub
// lock, and releases it.
//
// # Ordering and exactly-once recovery
//
// Offsets, history, membership changes and Deliver calls of a channel all
// happen under its shard lock, so every subscriber gets a channel's
// publications in offset order even with concurrent publishers, and a
// Subscribe with a position (epoch:offset) decides atomically which
// publications it returns in SubscribeResult.Missed and from which one live
// delivery starts: each publication is in exactly one of the two. A channel
// lives while it has subscribers or unexpired history. Going idle it leaves
// its stream (epoch and last offset, a 16-byte record under a hash of its
// name) for Options.HistoryMetaTTL: back within it, it continues that epoch
// and its offsets, so a client that missed nothing is recovered and one that
// missed expired publications is told so, in the same epoch. Offsets never
// restart within an epoch. A channel with no record starts a new incarnation
// with a new random epoch, so a position from an older one is never taken as
// recoverable; a process restart (without a Broker) is such a new start.
//
// # Several nodes: the Broker seam
//
// With Options.Broker set (package broker/natsbroker is the NATS one), the bus
// numbers publications instead of the hub: Publish hands the publication to
// the bus and returns the bus's position, or an error wrapping
// ErrBrokerUnavailable when the bus did not accept it. A node registers
// interest in a channel on the bus while it has local subscribers; each
// publication the bus delivers is encoded once per node and routed under the
// shard lock through the same per-loop batches as on a single node. The
// channel's ring is then a cache of the bus's stream: the first local
// subscriber loads it (Broker.Read) before it is added, every delivery names
// the channel's previous offset on the bus, and a delivery that does not
// follow the last one routed (a lost delivery, a reconnection) parks the
// channel's arrivals while it reads the gap back from the bus, so order and
// exactly-once hold on every node. Bus offsets of one channel increase but
// are sparse: recovery searches the ring and checks the ring's floor (the
// newest publication it no longer holds) rather than counting. A channel
// without local subscribers is forgotten (its history stays on the bus, and
// History reads it there). Presence and join/leave events stay node-local.
//
// # Subscriber sets
//
// Each channel keeps one subscriber set per event loop, and each set hands
// out immutable snapshots: a Batch carries a snapshot (a slice header, a count
// and a pointer: no allocation) and walks it without locks while the set
// keeps changing. Members live in fixed chunks of 256 behind a directory.
// While none of the set's batches is in flight, changes happen in place.
// While one is, a change never writes memory a snapshot can see: adding writes
// a slot no snapshot has seen, in place, or else a copy of its chunk; removing
// moves the last member into the hole in a copy of that chunk and a copy of
// the directory; chunks copied since the last snapshot are private and change
// in place. So subscribe and unsubscribe cost O(n/256 + 256) pointer copies at
// worst (about 6 KiB at 50k subscribers on a loop, against 800 KiB for
// copying a whole slice), a publish costs O(loops), and walking costs one
// interface call per recipient. Measured on the shared 2-vCPU machine
// (BenchmarkFanout, BenchmarkSubscribeUnsubscribe): about 2-4 ns of CPU and
// 0.00003 allocations per delivery; at 100k subscribers an unsubscribe plus a
// subscribe in the middle of the set costs about 1.3 µs in place and 12 µs
// (12 KiB) when every change has to copy.
//
// The alternative, reading live sets under a read lock in Each with a join
// offset per subscription, was rejected: a loop would hold a hub lock while
// the server queues bytes (and a Visit that closes a slow client would call
// back into the hub under it), and publishers would wait for the slowest
// loop's walk. With snapshots, a batch may still name a connection that has
// since unsubscribed or closed; the server skips closed connections, and an
// unsubscribed one receives at most the publications routed before it left.
//
// # Locks
//
// Lock order: a Client's lock, then a shard lock or the registry lock (never
// both). Deliverer.Deliver and Encoder.Encode run under a shard or the
// registry lock and must not call the hub; Deliverer.Evict runs with no hub
// lock held. The per-loop batch pools have their own small locks.
//
// # Bounds
//
// Everything a client controls is bounded: channels per connection
// (Options.MaxChannelsPerClient), channel name length and content
// (ErrInvalidChannel for empty names, names over Options.MaxChannelNameBytes,
// invalid UTF-8 and control characters), connections per user and per node,
// and the presence list. History is bounded by size and TTL per channel;
// channels with history but no subscribers are dropped by lookups and Sweep
// once their history expires. Idle channels' records are bounded in count
// (Options.MaxHistoryMeta) and time (Options.HistoryMetaTTL, swept by Sweep).
package hub
