// Package autobahn is rtd's in-repo port of the Autobahn|Testsuite fuzzing
// client: it connects to a WebSocket server over raw TCP, replays the
// Autobahn cases (groups 1–7, 9, 10 and, with Options.Compression, 12 and
// 13) plus rtd's own X.1, and grades each case the way the suite does.
//
// The real suite needs Python 2 or Docker, neither of which this project can
// install, so the cases are re-implemented here from the suite's case
// definitions: the frames each case sends, how the octets are chopped onto
// the wire (whole, per frame, per N octets), the pauses between parts, the
// ordered lists of expected events per verdict and the expected closing
// behaviour (who closes, which codes, whether the close must be clean).
//
// A case yields two verdicts, as in Autobahn. Behavior grades the
// message/ping/pong/timeout events seen against the expected lists (OK,
// NON-STRICT, else FAILED; INFORMATIONAL where the spec leaves the outcome
// open; UNIMPLEMENTED when permessage-deflate was not negotiated).
// BehaviorClose grades the closing handshake (OK, WRONG CODE, UNCLEAN,
// FAILED BY CLIENT, FAILED). Result.Overall folds both into one verdict.
//
// Deviations from the suite, each stricter or forced by Go:
//   - the client fails a case on any protocol violation by the server
//     (masked server frame, bad RSV, bad UTF-8 in a text message, …);
//   - 13.x checks the server's extension answer against RFC 7692: an answer
//     that does not conform to any offer (for example one that drops an
//     offered server_max_window_bits) is FAILED, and a server that answers
//     server_max_window_bits=N must not reach back further than 2^N octets;
//     declining an offer whose only form asks for server_max_window_bits < 15
//     is what the RFC allows a server that cannot honour it, and is OK;
//   - compress/flate has no window knob, so when a server limits
//     client_max_window_bits the client compresses Huffman-only (no back
//     references), which honours any window.
//
// The package is a test-support library: it uses net directly and is not
// part of the rtd server.
package autobahn
