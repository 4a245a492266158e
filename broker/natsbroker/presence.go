package natsbroker

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"

	"github.com/rtd-project/rtd/hub"
)

// Presence across nodes: every node writes, per channel it has subscribers
// for, its counts to a JetStream key-value bucket under
// <channel base64url>.<node>, refreshed each interval; the bucket's TTL (three
// intervals) removes the keys of a node that died. Cluster counts are the sum
// over the channel's keys. Distinct users are summed per node, so a user
// connected to two nodes counts twice.

// LocalCounts yields a node's channels with their subscriber counts; Hub.Counts
// is one.
type LocalCounts func(yield func(channel string, clients, users int) bool)

// SharePresence writes the node's counts every interval until ctx ends.
// Errors (the bus away) are skipped: the next round writes again.
func (b *Broker) SharePresence(ctx context.Context, interval time.Duration, counts LocalCounts) error {
	kv, err := b.presenceBucket(ctx, interval)
	if err != nil {
		return err
	}
	node := nuid.Next()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		counts(func(channel string, clients, users int) bool {
			wctx, cancel := context.WithTimeout(ctx, b.o.Timeout)
			defer cancel()
			key := base64.RawURLEncoding.EncodeToString([]byte(channel)) + "." + node
			_, err := kv.Put(wctx, key, fmt.Appendf(nil, "%d %d", clients, users))
			return err == nil
		})
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (b *Broker) presenceBucket(ctx context.Context, interval time.Duration) (jetstream.KeyValue, error) {
	ctx, cancel := context.WithTimeout(ctx, b.o.Timeout)
	defer cancel()
	kv, err := b.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:  b.o.Stream + "_presence",
		TTL:     3 * interval,
		Storage: jetstream.MemoryStorage,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", hub.ErrBrokerUnavailable, err)
	}
	return kv, nil
}

// ClusterPresence returns the channel's counts over every node sharing its
// presence (as of their last writes).
func (b *Broker) ClusterPresence(channel string) (clients, users int, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), b.o.Timeout)
	defer cancel()
	kv, err := b.js.KeyValue(ctx, b.o.Stream+"_presence")
	if err != nil {
		return 0, 0, fmt.Errorf("%w: %w", hub.ErrBrokerUnavailable, err)
	}
	prefix := base64.RawURLEncoding.EncodeToString([]byte(channel)) + "."
	keys, err := kv.ListKeysFiltered(ctx, prefix+"*")
	if err != nil {
		return 0, 0, fmt.Errorf("%w: %w", hub.ErrBrokerUnavailable, err)
	}
	for key := range keys.Keys() {
		e, err := kv.Get(ctx, key)
		if err != nil {
			continue // expired meanwhile
		}
		c, u, _ := strings.Cut(string(e.Value()), " ")
		nc, _ := strconv.Atoi(c)
		nu, _ := strconv.Atoi(u)
		clients, users = clients+nc, users+nu
	}
	return clients, users, nil
}
