package hub

import "errors"

// Errors returned by the hub. Callers compare with errors.Is; New wraps
// ErrInvalidOptions with the offending field.
var (
	// ErrInvalidOptions: New was given options it cannot work with.
	ErrInvalidOptions = errors.New("hub: invalid options")
	// ErrShutdown: the hub has been shut down.
	ErrShutdown = errors.New("hub: shut down")

	// ErrTooManyConns: the node's connection limit (Options.MaxConns) is reached.
	ErrTooManyConns = errors.New("hub: too many connections")
	// ErrTooManyUserConns: the user's connection limit (Options.MaxConnsPerUser)
	// is reached and the policy is UserLimitReject.
	ErrTooManyUserConns = errors.New("hub: too many connections for user")
	// ErrDuplicateClient: another connected client has the same ID.
	ErrDuplicateClient = errors.New("hub: duplicate client ID")
	// ErrAlreadyConnected: Connect was called twice for the same connection.
	ErrAlreadyConnected = errors.New("hub: already connected")
	// ErrInvalidLoop: Client.Loop is outside [0, Options.Loops).
	ErrInvalidLoop = errors.New("hub: client loop out of range")
	// ErrNotConnected: the connection is not (or no longer) connected.
	ErrNotConnected = errors.New("hub: not connected")

	// ErrInvalidChannel: the channel name is empty, too long, not UTF-8 or
	// contains control characters.
	ErrInvalidChannel = errors.New("hub: invalid channel name")
	// ErrInvalidEvent: an event name is too long (MaxEventBytes), not UTF-8
	// or contains control characters. It would break the SSE framing (a CR
	// or LF ends the "event:" line) and ends up in logs.
	ErrInvalidEvent = errors.New("hub: invalid event name")
	// ErrTooManyChannels: the connection has Options.MaxChannelsPerClient
	// subscriptions already.
	ErrTooManyChannels = errors.New("hub: too many channels for connection")
	// ErrAlreadySubscribed: the connection is subscribed to the channel already.
	ErrAlreadySubscribed = errors.New("hub: already subscribed")
	// ErrNotSubscribed: the connection is not subscribed to the channel.
	ErrNotSubscribed = errors.New("hub: not subscribed")

	// ErrTooManyHistoryChannels: a publication would create a channel with
	// history while Options.MaxHistoryChannels of them are alive, or the
	// histories retain Options.MaxHistoryBytes. Channels that exist are not
	// affected; an HTTP API answers 429.
	ErrTooManyHistoryChannels = errors.New("hub: too many channels with history")

	// ErrHistoryDisabled: the channel keeps no history.
	ErrHistoryDisabled = errors.New("hub: history disabled for channel")
	// ErrPresenceDisabled: the channel keeps no presence.
	ErrPresenceDisabled = errors.New("hub: presence disabled for channel")
	// ErrInvalidPosition: a position is not of the form "epoch:offset".
	ErrInvalidPosition = errors.New("hub: invalid position")

	// ErrBrokerUnavailable: the bus (Options.Broker) cannot be reached, so a
	// publication was not accepted or a channel could not join the bus.
	// Retrying later may succeed; an HTTP API answers 503.
	ErrBrokerUnavailable = errors.New("hub: broker unavailable")
)

// Reasons passed to Deliverer.Evict.
const (
	ReasonUserLimit = "too many connections for user"
	ReasonShutdown  = "shutdown"
)
