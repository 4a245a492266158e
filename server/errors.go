package server

import "errors"

var (
	// ErrRunning is returned when a route is added, or Run called, while the
	// server runs.
	ErrRunning = errors.New("server: already running")
	// ErrNotRunning is returned by Shutdown before Run.
	ErrNotRunning = errors.New("server: not running")
	// ErrBadPattern is returned for a malformed route pattern.
	ErrBadPattern = errors.New("server: bad route pattern")
	// ErrBadOrigins is returned, wrapped with the entry and the reason, when
	// a route's Origins hold an entry no browser Origin could match, or when
	// SSEOptions.AllowCredentials is set without named origins: with none
	// there is no cross-origin reader to credential, and with "*" any site
	// would read streams with its visitors' cookies.
	ErrBadOrigins = errors.New("server: unsafe or malformed origins")
	// ErrDuplicateRoute is returned when a method and pattern are registered twice.
	ErrDuplicateRoute = errors.New("server: duplicate route")
	// ErrClosed is returned by sends on a closed or closing connection.
	ErrClosed = errors.New("server: connection closed")
	// ErrSlowClient is returned by sends when the connection's send queue is
	// full and the route's SlowClientPolicy is SlowClientError.
	ErrSlowClient = errors.New("server: send queue full")
	// ErrDropped is returned by sends when the message was dropped because the
	// send queue is full and the policy is SlowClientDrop.
	ErrDropped = errors.New("server: message dropped, send queue full")
	// ErrTooLarge is returned by sends of a message larger than the send
	// queue (MaxSendQueueBytes), or a control frame over 125 bytes.
	ErrTooLarge = errors.New("server: message larger than the send queue")
	// ErrInvalidEventID is returned by ParseEventID for a Last-Event-ID
	// that is neither a position nor a list of them.
	ErrInvalidEventID = errors.New("server: invalid event id")
)
