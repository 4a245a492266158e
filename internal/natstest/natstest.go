package natstest

import (
	"net"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Start runs a NATS server with JetStream on a loopback port, storing in dir:
// a random port when port is 0, or port (to restart a server where it was).
// The server is shut down at cleanup; stopping it earlier is fine.
func Start(t testing.TB, dir string, port int) *server.Server {
	t.Helper()
	if port == 0 {
		port = -1
	}
	ns, err := server.NewServer(&server.Options{
		Host:      "127.0.0.1",
		Port:      port,
		JetStream: true,
		StoreDir:  dir,
		NoLog:     true,
		NoSigs:    true,
	})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("NATS server not ready")
	}
	t.Cleanup(func() { Stop(ns) })
	return ns
}

// Stop shuts ns down and waits until it is gone.
func Stop(ns *server.Server) {
	ns.Shutdown()
	ns.WaitForShutdown()
}

// Port returns the port ns listens on for clients.
func Port(ns *server.Server) int { return ns.Addr().(*net.TCPAddr).Port }
