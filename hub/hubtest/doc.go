// Package hubtest is a deterministic hub for tests, without sockets or
// event loops: Register clients, Join channels, Publish, and read what each
// client received, in order, with positions — delivered before Publish
// returns. Its clock moves only when Advance says, so history TTLs and
// idle channels expire when the test wants them to.
//
//	h := hubtest.New(t, hub.Options{})
//	alice := h.Register("alice").Join("team")
//	pos := h.Publish("team", "refresh")
//	alice.Expect("team@1 refresh")
//	bob := h.Register("bob")
//	res := bob.Resume("team", hub.Position{Epoch: pos.Epoch}) // from before offset 1
//	// res.Recovered, res.Missed[0].Data == "refresh"
//
// It tests what rides on the hub (a tier's channel rules, an application's
// fan-out) without a server; server/servertest tests the same through
// real connections.
package hubtest
