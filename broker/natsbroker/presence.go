package natsbroker

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/rtd-project/rtd/hub"
)

// Presence and stats across nodes: every node writes, per channel it has
// subscribers for, its counts to a JetStream key-value bucket under
// <channel base64url>.<node>, and its totals to a second bucket under <node>,
// refreshed each interval; the buckets' TTL (three intervals) removes the keys
// of a node that died. Cluster counts are the sum over the channel's keys.
// Distinct users are summed per node, so a user connected to two nodes counts
// twice. The buckets live in the NATS server's memory: after a NATS restart
// every node writes its figures again within an interval.

// LocalCounts yields a node's channels with their subscriber counts; Hub.Counts
// is one.
type LocalCounts func(yield func(channel string, clients, users int) bool)

// NodeCounts are one node's counts for a channel, as it last shared them.
type NodeCounts struct {
	Node           string
	Clients, Users int
}

// SharePresence writes the node's counts every interval until ctx ends, and
// deletes the keys of channels it no longer has subscribers for (all of them
// when ctx ends). Errors (the bus away) are skipped: the next round writes
// again. It returns nil when ctx ends.
func (b *Broker) SharePresence(ctx context.Context, interval time.Duration, counts LocalCounts) error {
	written := map[string]bool{} // keys this node wrote and did not delete
	leave := func(ctx context.Context, kv jetstream.KeyValue) {
		for key := range written {
			_ = b.delete(ctx, kv, key)
		}
	}
	return b.share(ctx, interval, b.presenceBucketName(), leave, func(ctx context.Context, kv jetstream.KeyValue) error {
		var err error
		seen := make(map[string]bool, len(written))
		counts(func(channel string, clients, users int) bool {
			key := presenceKey(channel) + b.node
			seen[key] = true
			if _, err = b.put(ctx, kv, key, fmt.Appendf(nil, "%d %d", clients, users)); err != nil {
				return false
			}
			written[key] = true
			return true
		})
		if err != nil {
			return err
		}
		for key := range written {
			if !seen[key] {
				if err := b.delete(ctx, kv, key); err != nil {
					return err
				}
				delete(written, key)
			}
		}
		return nil
	})
}

// ShareStats writes what stats returns (the node's totals, in whatever
// encoding the readers of ClusterStats expect) every interval until ctx ends,
// then deletes it. Errors are skipped as in SharePresence.
func (b *Broker) ShareStats(ctx context.Context, interval time.Duration, stats func() []byte) error {
	leave := func(ctx context.Context, kv jetstream.KeyValue) { _ = b.delete(ctx, kv, b.node) }
	return b.share(ctx, interval, b.o.Stream+"_nodes", leave, func(ctx context.Context, kv jetstream.KeyValue) error {
		_, err := b.put(ctx, kv, b.node, stats())
		return err
	})
}

// share runs round every interval with the bucket, (re)creating the bucket
// when it is missing (the bus was away, or restarted without it), and leave
// once ctx ends.
func (b *Broker) share(ctx context.Context, interval time.Duration, bucket string, leave func(context.Context, jetstream.KeyValue), round func(context.Context, jetstream.KeyValue) error) error {
	var kv jetstream.KeyValue
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if kv == nil && b.Healthy() {
			kv, _ = b.bucket(ctx, bucket, interval)
		}
		if kv != nil {
			if err := round(ctx, kv); err != nil {
				kv = nil // gone with a NATS restart, say: set up again
			}
		}
		select {
		case <-ctx.Done():
			if kv != nil && b.Healthy() {
				leave(context.WithoutCancel(ctx), kv)
			}
			return nil
		case <-t.C:
		}
	}
}

func (b *Broker) put(ctx context.Context, kv jetstream.KeyValue, key string, value []byte) (uint64, error) {
	ctx, cancel := context.WithTimeout(ctx, b.o.Timeout)
	defer cancel()
	return kv.Put(ctx, key, value)
}

func (b *Broker) delete(ctx context.Context, kv jetstream.KeyValue, key string) error {
	ctx, cancel := context.WithTimeout(ctx, b.o.Timeout)
	defer cancel()
	return kv.Purge(ctx, key)
}

func (b *Broker) presenceBucketName() string { return b.o.Stream + "_presence" }

// presenceKey is the prefix of a channel's keys: <channel base64url>.
func presenceKey(channel string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(channel)) + "."
}

func (b *Broker) bucket(ctx context.Context, name string, interval time.Duration) (jetstream.KeyValue, error) {
	ctx, cancel := context.WithTimeout(ctx, b.o.Timeout)
	defer cancel()
	kv, err := b.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:   name,
		TTL:      3 * interval,
		Storage:  jetstream.MemoryStorage,
		Replicas: b.o.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", hub.ErrBrokerUnavailable, err)
	}
	return kv, nil
}

// readBucket returns the bucket's live entries whose keys match filter, as
// key → value. A bucket nobody has written yet is empty.
func (b *Broker) readBucket(name, filter string) (map[string][]byte, error) {
	if err := b.Status(); err != nil {
		return nil, fmt.Errorf("%w: %w", hub.ErrBrokerUnavailable, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), b.o.Timeout)
	defer cancel()
	kv, err := b.js.KeyValue(ctx, name)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", hub.ErrBrokerUnavailable, err)
	}
	keys, err := kv.ListKeysFiltered(ctx, filter)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", hub.ErrBrokerUnavailable, err)
	}
	out := map[string][]byte{}
	for key := range keys.Keys() {
		e, err := kv.Get(ctx, key)
		if err != nil {
			continue // expired or deleted meanwhile
		}
		out[key] = e.Value()
	}
	return out, nil
}

// PresenceByNode returns the channel's counts on every node sharing its
// presence (as of their last writes), this one included.
func (b *Broker) PresenceByNode(channel string) ([]NodeCounts, error) {
	prefix := presenceKey(channel)
	m, err := b.readBucket(b.presenceBucketName(), prefix+"*")
	if err != nil {
		return nil, err
	}
	out := make([]NodeCounts, 0, len(m))
	for key, v := range m {
		c, u, _ := strings.Cut(string(v), " ")
		nc := NodeCounts{Node: strings.TrimPrefix(key, prefix)}
		nc.Clients, _ = strconv.Atoi(c)
		nc.Users, _ = strconv.Atoi(u)
		out = append(out, nc)
	}
	return out, nil
}

// ClusterPresence returns the channel's counts over every node sharing its
// presence (as of their last writes).
func (b *Broker) ClusterPresence(channel string) (clients, users int, err error) {
	ns, err := b.PresenceByNode(channel)
	for _, n := range ns {
		clients, users = clients+n.Clients, users+n.Users
	}
	return clients, users, err
}

// ClusterStats returns what every live node last shared with ShareStats, by
// node ID (this one included).
func (b *Broker) ClusterStats() (map[string][]byte, error) {
	return b.readBucket(b.o.Stream+"_nodes", ">")
}
