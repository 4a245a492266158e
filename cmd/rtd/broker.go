package main

import (
	"context"
	"errors"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"

	"github.com/rtd-project/rtd/broker/natsbroker"
	"github.com/rtd-project/rtd/fanout"
	"github.com/rtd-project/rtd/hub"
)

// shareInterval is how often a node shares its presence counts and totals
// with the others; a dead node's shares expire after three intervals.
const shareInterval = time.Second

// newBroker connects to the NATS server(s) of --broker. It does not wait for
// them: with the bus down rtd starts, and /readyz answers 503 until the
// broker has connected and set the stream up.
func newBroker(cfg *config, log *zerolog.Logger) (*natsbroker.Broker, error) {
	if errs := cfg.checkBroker(); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	opts := []nats.Option{
		// Asynchronous errors (permissions, a slow subscription, a write
		// that failed) go to the log rather than raw to stderr.
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			ev := log.Warn().Err(err)
			if sub != nil {
				ev = ev.Str("subject", sub.Subject)
			}
			ev.Msg("broker error")
		}),
	}
	if cfg.BrokerCreds != "" {
		opts = append(opts, nats.UserCredentials(cfg.BrokerCreds))
	}
	if cfg.BrokerTLSCA != "" {
		opts = append(opts, nats.RootCAs(cfg.BrokerTLSCA))
	}
	if cfg.BrokerTLSCert != "" {
		opts = append(opts, nats.ClientCert(cfg.BrokerTLSCert, cfg.BrokerTLSKey))
	}
	size, ttl := streamLimits(cfg)
	host, _ := os.Hostname()
	b, err := natsbroker.New(natsbroker.Options{
		URL:                  strings.ReplaceAll(cfg.Broker, " ", ""),
		Name:                 "rtd " + host + " " + cfg.Addr,
		NATS:                 opts,
		HistorySize:          size,
		HistoryTTL:           ttl,
		Replicas:             cfg.BrokerReplicas,
		RetryOnFailedConnect: true,
		OnHealth: func(ok bool, reason error) {
			if ok {
				log.Info().Msg("broker ready")
				return
			}
			log.Warn().Err(reason).Msg("broker unavailable")
		},
	})
	if err != nil {
		return nil, err
	}
	log.Info().Str("node", b.Node()).Int("history_size", size).Dur("history_ttl", ttl).Msg("broker configured")
	return b, nil
}

// streamLimits maps retention onto the stream: its per-channel count and age
// limits must hold what the most generous namespace keeps; each node then
// applies every namespace's own limits to what it reads. Negative means
// unlimited, as natsbroker.Options has it.
func streamLimits(cfg *config) (size int, ttl time.Duration) {
	size = cfg.HistorySize
	switch {
	case size == 0:
		size = hub.DefaultHistorySize
	case size < 0:
		size = 0
	}
	ttl = cfg.HistoryTTL
	if ttl == 0 {
		ttl = hub.DefaultHistoryTTL
	}
	for _, ns := range cfg.Namespaces {
		size = max(size, ns.HistorySize)
		if ttl > 0 && ns.HistoryTTL > ttl {
			ttl = ns.HistoryTTL
		}
	}
	if size == 0 {
		// History off everywhere: the stream still numbers and republishes
		// every publication, and needs to keep only the latest.
		size = 1
	}
	return size, ttl
}

// cluster adapts the broker to what the fan-out tier asks of the other nodes.
type cluster struct {
	b *natsbroker.Broker
}

var _ fanout.Cluster = cluster{}

func (c cluster) Node() string { return c.b.Node() }

func (c cluster) PeerPresence(channel string) (clients, users int, err error) {
	ns, err := c.b.PresenceByNode(channel)
	for _, n := range ns {
		if n.Node != c.b.Node() {
			clients, users = clients+n.Clients, users+n.Users
		}
	}
	return clients, users, err
}

func (c cluster) NodeStats() (map[string][]byte, error) { return c.b.ClusterStats() }

func (c cluster) Relay(op []byte) error { return c.b.Relay(op) }

func (c cluster) OnRelay(f func(op []byte)) { c.b.OnRelay(f) }

// share keeps this node's presence counts and totals on the bus until ctx
// ends.
func share(ctx context.Context, b *natsbroker.Broker, h *hub.Hub, stats func() []byte) {
	go func() { _ = b.SharePresence(ctx, shareInterval, h.Counts) }()
	go func() { _ = b.ShareStats(ctx, shareInterval, stats) }()
}
