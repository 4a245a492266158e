// Package natstest runs a NATS server with JetStream inside a test binary,
// for the tests of rtd on a message bus (package broker/natsbroker and the
// end-to-end tests of cmd/rtd).
package natstest
