package natsbroker

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/nats-io/nats.go"

	"github.com/rtd-project/rtd/hub"
)

// Relays: operations one node hands to every other (the server API's
// disconnect, send and broadcast) travel on the core subject PREFIX.ctl, with
// the sending node's ID in a header so that it skips its own. Core NATS
// delivers them at most once and stores nothing: a node that is cut off
// while one travels misses it.

const hdrNode = "Rtd-Node"

// relayState is the broker's relay subscription and the function it feeds.
type relayState struct {
	once sync.Once
	fn   atomic.Pointer[func([]byte)]
}

// RelaySubject returns the subject relays travel on.
func (b *Broker) RelaySubject() string { return b.o.Prefix + ".ctl" }

// Relay hands msg to the OnRelay function of every other node. It returns
// once the NATS server has the message (a round trip), or an error wrapping
// hub.ErrBrokerUnavailable when the connection is down or the server did not
// answer in time (then the message may or may not have gone out).
func (b *Broker) Relay(msg []byte) error {
	if !b.nc.IsConnected() {
		return fmt.Errorf("%w: %w (%s)", hub.ErrBrokerUnavailable, errDisconnected, b.nc.Status())
	}
	m := nats.NewMsg(b.RelaySubject())
	m.Header.Set(hdrNode, b.node)
	m.Data = msg
	if err := b.nc.PublishMsg(m); err != nil {
		return fmt.Errorf("%w: relay: %w", hub.ErrBrokerUnavailable, err)
	}
	if err := b.nc.FlushTimeout(b.o.Timeout); err != nil {
		return fmt.Errorf("%w: relay: %w", hub.ErrBrokerUnavailable, err)
	}
	return nil
}

// OnRelay sets f to receive what the other nodes relay (a later call replaces
// it; nil drops them). The first call subscribes to the relay subject; the
// subscription outlives reconnections; when connected, it is registered on
// the NATS server before OnRelay returns (or Options.Timeout passed). f runs on one goroutine of the NATS
// client's, a message at a time, in the order the NATS server forwarded them;
// msg is f's to keep.
func (b *Broker) OnRelay(f func(msg []byte)) {
	if f == nil {
		b.relay.fn.Store(nil)
		return
	}
	b.relay.fn.Store(&f)
	b.relay.once.Do(func() {
		// Subscribe fails only on a closed connection, where nothing would
		// arrive anyway; the flush fails only when the bus is away, and
		// the subscription is registered when it is back.
		defer func() {
			if b.nc.IsConnected() {
				_ = b.nc.FlushTimeout(b.o.Timeout)
			}
		}()
		_, _ = b.nc.Subscribe(b.RelaySubject(), func(m *nats.Msg) {
			if m.Header.Get(hdrNode) == b.node {
				return
			}
			if f := b.relay.fn.Load(); f != nil {
				(*f)(m.Data)
			}
		})
	})
}
