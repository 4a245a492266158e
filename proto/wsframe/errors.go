package wsframe

import (
	"strconv"

	"github.com/gobwas/ws"
)

// HandshakeError rejects an upgrade request. Status is the HTTP status to answer
// with (AppendHandshakeRejection builds the response); Reason is a short text
// for the response body and for logs.
type HandshakeError struct {
	Status int
	Reason string
}

func (e *HandshakeError) Error() string {
	return "wsframe: handshake rejected (" + strconv.Itoa(e.Status) + "): " + e.Reason
}

// CloseError is a protocol violation by the peer. Code is the close code the
// server sends in its close frame before closing the connection; Reason is a
// short text that fits a close frame.
type CloseError struct {
	Code   ws.StatusCode
	Reason string
}

func (e *CloseError) Error() string {
	return "wsframe: close " + strconv.Itoa(int(e.Code)) + ": " + e.Reason
}

// Handshake rejections returned by CheckUpgrade. They are shared values so that
// rejecting allocates nothing; compare with errors.Is or read Status.
var (
	// ErrBadMethod: the method of an upgrade request must be GET (RFC 6455 §4.1).
	ErrBadMethod = &HandshakeError{Status: 405, Reason: "websocket upgrade requires GET"}
	// ErrBadHTTPVersion: an upgrade needs HTTP/1.1 or later.
	ErrBadHTTPVersion = &HandshakeError{Status: 505, Reason: "websocket upgrade requires HTTP/1.1"}
	// ErrBadUpgrade: the Upgrade header does not list the "websocket" token.
	ErrBadUpgrade = &HandshakeError{Status: 400, Reason: "missing or bad Upgrade header"}
	// ErrBadConnection: the Connection header does not list the "upgrade" token.
	ErrBadConnection = &HandshakeError{Status: 400, Reason: "missing or bad Connection header"}
	// ErrBadKey: Sec-WebSocket-Key is not the base64 encoding of 16 bytes.
	ErrBadKey = &HandshakeError{Status: 400, Reason: "missing or bad Sec-WebSocket-Key header"}
	// ErrBadVersion: Sec-WebSocket-Version is missing or not 13. The
	// rejection carries "Sec-WebSocket-Version: 13" (RFC 6455 §4.4).
	ErrBadVersion = &HandshakeError{Status: 426, Reason: "unsupported Sec-WebSocket-Version"}
	// ErrOriginNotAllowed: the Origin header names another site than the
	// request's Host, and UpgradeOptions.Origins does not allow it.
	ErrOriginNotAllowed = &HandshakeError{Status: 403, Reason: "origin not allowed"}
	// ErrNoProtocol: UpgradeOptions.Protocols is set and the client offered
	// none of them.
	ErrNoProtocol = &HandshakeError{Status: 400, Reason: "no acceptable subprotocol"}
)

// Protocol violations returned by Reader.Next. Each tells the server which close
// frame to send. They are shared values so that failing allocates nothing.
var (
	// ErrUnmasked: a client frame without a mask (RFC 6455 §5.1).
	ErrUnmasked = &CloseError{Code: ws.StatusProtocolError, Reason: "unmasked client frame"}
	// ErrReservedOpCode: opcode 0x3-0x7 or 0xB-0xF.
	ErrReservedOpCode = &CloseError{Code: ws.StatusProtocolError, Reason: "reserved opcode"}
	// ErrReservedBits: RSV2/RSV3, or RSV1 without permessage-deflate, on a
	// control frame or on a continuation frame.
	ErrReservedBits = &CloseError{Code: ws.StatusProtocolError, Reason: "reserved bits set"}
	// ErrBadControlFrame: a control frame longer than 125 bytes or fragmented.
	ErrBadControlFrame = &CloseError{Code: ws.StatusProtocolError, Reason: "bad control frame"}
	// ErrUnexpectedContinuation: a continuation frame with no message in progress.
	ErrUnexpectedContinuation = &CloseError{Code: ws.StatusProtocolError, Reason: "unexpected continuation frame"}
	// ErrContinuationExpected: a new data message while one is in progress.
	ErrContinuationExpected = &CloseError{Code: ws.StatusProtocolError, Reason: "continuation frame expected"}
	// ErrBadLength: a 64-bit payload length with the most significant bit set.
	ErrBadLength = &CloseError{Code: ws.StatusProtocolError, Reason: "bad payload length"}
	// ErrBadClosePayload: a close frame with a 1-byte payload.
	ErrBadClosePayload = &CloseError{Code: ws.StatusProtocolError, Reason: "bad close frame payload"}
	// ErrBadCloseCode: a close code that must not appear on the wire (RFC 6455 §7.4).
	ErrBadCloseCode = &CloseError{Code: ws.StatusProtocolError, Reason: "bad close code"}
	// ErrInvalidUTF8: a text message or a close reason that is not UTF-8.
	ErrInvalidUTF8 = &CloseError{Code: ws.StatusInvalidFramePayloadData, Reason: "invalid UTF-8"}
	// ErrBadCompression: a compressed message that does not inflate.
	ErrBadCompression = &CloseError{Code: ws.StatusInvalidFramePayloadData, Reason: "bad compressed data"}
	// ErrMessageTooBig: a frame or message (compressed or inflated) larger
	// than ReaderOptions.MaxMessageBytes.
	ErrMessageTooBig = &CloseError{Code: ws.StatusMessageTooBig, Reason: "message too big"}
)
