package hub

import (
	"fmt"
	"runtime"
	"time"
)

// Defaults applied by New to zero-valued Options fields.
const (
	DefaultShards               = 64
	DefaultHistorySize          = 100
	DefaultHistoryTTL           = 5 * time.Minute
	DefaultHistoryMetaTTL       = 24 * time.Hour
	DefaultMaxHistoryMeta       = 1_000_000
	DefaultMaxChannelsPerClient = 128
	DefaultMaxChannelNameBytes  = 255
	DefaultMaxPresenceList      = 100
	DefaultMaxHistoryChannels   = 100_000
	DefaultMaxHistoryBytes      = 1 << 30
)

// UserLimitPolicy says what Connect does when a user already has
// Options.MaxConnsPerUser connections.
type UserLimitPolicy uint8

const (
	// UserLimitReject refuses the new connection with ErrTooManyUserConns.
	UserLimitReject UserLimitPolicy = iota
	// UserLimitEvictOldest admits the new connection and evicts the user's
	// oldest one (Deliverer.Evict with ReasonUserLimit).
	UserLimitEvictOldest
)

// Options configures a Hub. The zero value of every field means its default;
// Deliverer and Encoder are required.
type Options struct {
	// Loops is the number of event loops (Client.Loop is in [0, Loops)).
	// Default runtime.NumCPU(), which is what gnet's multicore mode uses.
	Loops int
	// Shards is the number of channel shards, a power of two. Default 64.
	Shards int

	Deliverer Deliverer // required
	Encoder   Encoder   // required

	// Broker joins this hub to the hubs of other nodes (see Broker). Default
	// nil: the hub serves one node from memory. With a Broker, offsets and
	// epochs come from the bus, Publish fails when the bus cannot take the
	// publication, and a channel's history is the bus's (bounded on this node
	// by the channel's HistorySize and HistoryTTL); join/leave events and
	// Presence stay node-local.
	Broker Broker

	// HistorySize is how many publications each channel retains for recovery
	// and History. Default 100; negative disables history.
	HistorySize int
	// HistoryTTL is how long a retained publication lives. Default 5 minutes;
	// negative keeps publications until they are pushed out by newer ones.
	// A channel without subscribers lives as long as its history (see Sweep).
	HistoryTTL time.Duration
	// HistoryMetaTTL is how long an idle channel's stream (its epoch and last
	// offset) is remembered once it has neither subscribers nor retained
	// publications. A channel that comes back within it continues the same
	// epoch and offsets, so a client at the channel's last position is
	// recovered (it missed nothing) and one that missed expired publications
	// is told so in the same epoch. Default 24 hours; negative forgets a
	// channel as soon as it is idle (its next incarnation gets a new epoch).
	// Without a Broker the streams live in this process: a restart starts
	// every channel in a new epoch. With one, the bus keeps them.
	HistoryMetaTTL time.Duration
	// MaxHistoryMeta bounds how many idle channels' streams are remembered
	// (about 40 B each); past it an arbitrary one is forgotten. Default
	// 1,000,000.
	MaxHistoryMeta int

	// MaxHistoryChannels bounds the channels alive with history on. A
	// publication on a channel without subscribers creates a channel that
	// lives as long as its history: without a bound, anyone allowed to
	// publish could fill memory with channels nobody reads. At the bound,
	// Publish refuses to create more (ErrTooManyHistoryChannels); existing
	// channels and subscribers' channels are unaffected. Default 100000;
	// negative: unlimited. With a Broker, history lives on the bus and the
	// bound does not apply.
	MaxHistoryChannels int
	// MaxHistoryBytes bounds, as MaxHistoryChannels does, the creation of
	// channels with history by the bytes every history retains (data and
	// encodings): past it Publish creates no new channel with history
	// (ErrTooManyHistoryChannels). Each existing channel stays bounded by
	// its own HistorySize. Default 1 GiB; negative: unlimited.
	MaxHistoryBytes int64

	// MaxChannelsPerClient bounds the subscriptions of one connection.
	// Default 128.
	MaxChannelsPerClient int
	// MaxChannelNameBytes bounds channel names. Default 255.
	MaxChannelNameBytes int
	// MaxConns bounds the connections of the node. Default 0: unlimited.
	MaxConns int
	// MaxConnsPerUser bounds the connections of one (non-anonymous) user.
	// Default 0: unlimited. UserLimit says what happens at the limit.
	MaxConnsPerUser int
	UserLimit       UserLimitPolicy

	// DisablePresence turns off per-channel presence (distinct users and the
	// presence list); subscriber counts are always kept.
	DisablePresence bool
	// JoinLeave publishes a KindJoin / KindLeave event to a channel's
	// subscribers when a connection subscribes or unsubscribes. Default off.
	JoinLeave bool
	// MaxPresenceList bounds the list returned by Presence. Default 100.
	MaxPresenceList int

	// ChannelOptions, when set, adjusts the settings of a channel when it
	// becomes live (created, or back from idle). It gets the settings that
	// the fields above give and returns the ones to use. It runs with the
	// channel's shard locked: it must be quick and must not call the hub.
	ChannelOptions func(channel string, base ChannelOptions) ChannelOptions

	// OnJoin and OnLeave, when set, run after a connection subscribed to a
	// channel, and after it left one (Unsubscribe, or Disconnect for each
	// of its channels). They run outside the hub's locks, on the goroutine
	// that made the change (for rtd's server, the connection's event loop):
	// keep them short; they may call the hub.
	OnJoin, OnLeave func(channel string, c ClientInfo)

	// Now returns the current time; default time.Now. For tests.
	Now func() time.Time
}

// ChannelOptions are the resolved settings of one channel. Unlike Options,
// zero means "off" here.
type ChannelOptions struct {
	HistorySize int           // publications retained; 0: no history
	HistoryTTL  time.Duration // lifetime of a retained publication; 0: no expiry
	Presence    bool          // track distinct users and answer Presence
	JoinLeave   bool          // publish join/leave events
}

// withDefaults returns a copy of o with defaults applied, or an error
// wrapping ErrInvalidOptions.
func (o Options) withDefaults() (Options, error) {
	if o.Deliverer == nil || o.Encoder == nil {
		return o, fmt.Errorf("%w: Deliverer and Encoder are required", ErrInvalidOptions)
	}
	if o.Loops == 0 {
		o.Loops = runtime.NumCPU()
	}
	if o.Shards == 0 {
		o.Shards = DefaultShards
	}
	if o.Loops < 0 {
		return o, fmt.Errorf("%w: Loops %d", ErrInvalidOptions, o.Loops)
	}
	if o.Shards < 0 || o.Shards&(o.Shards-1) != 0 {
		return o, fmt.Errorf("%w: Shards %d is not a power of two", ErrInvalidOptions, o.Shards)
	}
	if o.MaxChannelsPerClient < 0 || o.MaxChannelNameBytes < 0 || o.MaxConns < 0 ||
		o.MaxConnsPerUser < 0 || o.MaxPresenceList < 0 || o.MaxHistoryMeta < 0 {
		return o, fmt.Errorf("%w: negative limit", ErrInvalidOptions)
	}
	if o.UserLimit > UserLimitEvictOldest {
		return o, fmt.Errorf("%w: UserLimit %d", ErrInvalidOptions, o.UserLimit)
	}
	switch {
	case o.HistorySize == 0:
		o.HistorySize = DefaultHistorySize
	case o.HistorySize < 0:
		o.HistorySize = 0
	}
	switch {
	case o.HistoryTTL == 0:
		o.HistoryTTL = DefaultHistoryTTL
	case o.HistoryTTL < 0:
		o.HistoryTTL = 0
	}
	switch {
	case o.HistoryMetaTTL == 0:
		o.HistoryMetaTTL = DefaultHistoryMetaTTL
	case o.HistoryMetaTTL < 0:
		o.HistoryMetaTTL = 0
	}
	if o.MaxHistoryMeta == 0 {
		o.MaxHistoryMeta = DefaultMaxHistoryMeta
	}
	if o.MaxChannelsPerClient == 0 {
		o.MaxChannelsPerClient = DefaultMaxChannelsPerClient
	}
	if o.MaxChannelNameBytes == 0 {
		o.MaxChannelNameBytes = DefaultMaxChannelNameBytes
	}
	if o.MaxPresenceList == 0 {
		o.MaxPresenceList = DefaultMaxPresenceList
	}
	if o.MaxHistoryChannels == 0 {
		o.MaxHistoryChannels = DefaultMaxHistoryChannels
	}
	if o.MaxHistoryBytes == 0 {
		o.MaxHistoryBytes = DefaultMaxHistoryBytes
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o, nil
}

// channelOptions resolves the settings of a channel being created.
func (o *Options) channelOptions(channel string) ChannelOptions {
	co := ChannelOptions{
		HistorySize: o.HistorySize,
		HistoryTTL:  o.HistoryTTL,
		Presence:    !o.DisablePresence,
		JoinLeave:   o.JoinLeave,
	}
	if o.ChannelOptions != nil {
		co = o.ChannelOptions(channel, co)
		co.HistorySize = max(co.HistorySize, 0)
		co.HistoryTTL = max(co.HistoryTTL, 0)
	}
	return co
}
