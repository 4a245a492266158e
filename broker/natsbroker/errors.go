package natsbroker

import "errors"

// ErrInvalidOptions: New was given options it cannot work with. Errors about
// the bus itself wrap hub.ErrBrokerUnavailable.
var ErrInvalidOptions = errors.New("natsbroker: invalid options")
