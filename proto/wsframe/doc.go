// Package wsframe is rtd's server-side WebSocket protocol: the opening
// handshake (RFC 6455 §4), frames (§5), closing (§7) and permessage-deflate
// (RFC 7692), as pure functions over byte slices. It does no I/O, so the
// server can run it inside gnet's OnTraffic on whatever bytes have arrived.
// It builds on gobwas/ws's types and checks (ws.Header, ws.OpCode,
// ws.StatusCode, ws.CheckHeader, ws.Cipher) and replaces gobwas's blocking,
// io.Reader based layers.
//
// # Handshake
//
// CheckUpgrade validates a parsed upgrade request and negotiates subprotocol
// and compression; AppendUpgradeResponse writes the 101 response and
// AppendHandshakeRejection the HTTP error for a *HandshakeError.
// permessage-deflate is only ever agreed with server_no_context_takeover and
// client_no_context_takeover: every message is a deflate stream of its own, so
// no connection holds a compressor or decompressor, the pooled ones are shared
// by all, and a message compressed once can be sent to every subscriber.
//
// # Reading
//
// A Reader per connection turns the received bytes into events:
//
//	for {
//		buf, _ := c.Peek(-1)
//		n, ev, err := r.Next(buf)
//		if err != nil { /* send AppendClose(err.(*CloseError).Code, ...), close */ }
//		if n == 0 { break } // need more bytes
//		handle(ev)          // before Discard: ev.Payload may alias buf
//		c.Discard(n)        // may free buf: Peek again
//	}
//
// Next only consumes whole frames and never changes buf unless it consumes
// a frame (it unmasks the payload in place), so it works however the bytes
// were split by the network. Every size a peer controls is checked from the
// frame header, before the payload is waited for: a peer cannot make the
// server buffer more than ReaderOptions.MaxMessageBytes per connection.
// Text is validated as it arrives, so an invalid byte fails the connection
// (close 1007) without waiting for the end of the message. Protocol
// violations are *CloseError values carrying the close code to send
// (1002, 1007, 1009).
//
// # Writing
//
// Server frames are unmasked and built with AppendFrameHeader, AppendFrame and
// AppendClose; Compress produces a compressed payload; Prepared encodes one
// message once for many recipients, plain and compressed.
//
// # Memory
//
// An idle Reader holds no buffer. Reassembly (fragmented messages) and inflate
// buffers come from a pool when such a message starts and go back when it has
// been handed out. Parsing a masked frame, appending frames and compressing
// allocate nothing in steady state.
package wsframe
