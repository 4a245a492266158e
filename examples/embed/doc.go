// Command embed is the program of the README's embedding section: a
// service that embeds rtd, with the whole fan-out tier (/ws, /sse, /api/*,
// /metrics) and a route of its own, /rooms/:room, where what one member
// sends goes to everyone in the room. The server is created with
// fanout.Encoder, which the tier requires, so the room's subscribers get the
// tier's JSON push too.
//
// readme_test.go checks that the README shows main.go and example_test.go
// verbatim, so the README's program is one that compiles and is tested.
package main
