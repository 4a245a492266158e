package wsframe

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"strconv"
)

// acceptGUID is appended to the client's key before hashing (RFC 6455 §1.3).
const acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// HeaderGetter gives CheckUpgrade the request's header fields. Header looks
// name up case-insensitively and returns nil when the field is absent. When
// a field occurs on several lines it should return the values joined with
// ", " (RFC 9110 §5.3); CheckUpgrade reads every list-valued field as a
// comma-separated list. rtd's http1.Request implements it.
type HeaderGetter interface {
	Header(name string) []byte
}

// UpgradeOptions configures CheckUpgrade. The zero value accepts same-origin
// requests (and clients that send no Origin), negotiates no subprotocol and
// no compression.
type UpgradeOptions struct {
	// Protocols are the subprotocols the server speaks, in its order of
	// preference. When set, the client must offer one of them: the first one
	// of Protocols that the client offered is chosen, and a client that
	// offers none is rejected with 400 (ErrNoProtocol) rather than connected
	// to a server that cannot understand it. RFC 6455 §4.2.2 lets a server
	// answer without a subprotocol, but then a client that offered none would
	// speak a protocol the server does not expect.
	Protocols []string
	// Origins are the cross-site origins allowed to connect, as MatchOrigin
	// reads them: exact origins, patterns ("https://*.example.com") or "*".
	// Empty: same-origin only (the Origin must name the Host the request was
	// sent to), which is what stops another site's page from opening a
	// WebSocket with its visitors' cookies (cross-site WebSocket hijacking).
	// A request without Origin is always allowed: only browsers send it.
	// Check the list with CheckOrigins when configuring.
	Origins []string
	// Compression negotiates permessage-deflate (RFC 7692) when the client
	// offers it.
	Compression bool
}

// Upgrade is the outcome of a successful CheckUpgrade.
type Upgrade struct {
	// Protocol is the chosen subprotocol, "" when none.
	Protocol string
	// Deflate says permessage-deflate was negotiated, always with
	// server_no_context_takeover and client_no_context_takeover: every
	// message is compressed on its own. Pass it to ReaderOptions.Deflate.
	Deflate bool
}

// CheckUpgrade validates a WebSocket upgrade request (RFC 6455 §4.2.1) and
// negotiates subprotocol and compression. method, major and minor come from the
// request line. The error is a *HandshakeError (one of the Err* rejections of
// this package); AppendHandshakeRejection turns it into the response.
//
// The checks run in this order, so a request with several faults gets the
// first one's status: method (405), HTTP version (505), Upgrade, Connection,
// Sec-WebSocket-Key (400), Sec-WebSocket-Version (426), Origin (403),
// subprotocol (400).
func CheckUpgrade(method []byte, major, minor int, h HeaderGetter, o *UpgradeOptions) (Upgrade, error) {
	var u Upgrade
	if o == nil {
		o = &UpgradeOptions{}
	}
	if string(method) != "GET" {
		return u, ErrBadMethod
	}
	if major < 1 || major == 1 && minor < 1 {
		return u, ErrBadHTTPVersion
	}
	if !hasToken(h.Header("Upgrade"), "websocket") {
		return u, ErrBadUpgrade
	}
	if !hasToken(h.Header("Connection"), "upgrade") {
		return u, ErrBadConnection
	}
	if !validKey(h.Header("Sec-WebSocket-Key")) {
		return u, ErrBadKey
	}
	if string(bytes.TrimSpace(h.Header("Sec-WebSocket-Version"))) != "13" {
		return u, ErrBadVersion
	}
	if !MatchOrigin(h.Header("Origin"), h.Header("Host"), o.Origins).Allowed() {
		return u, ErrOriginNotAllowed
	}
	if len(o.Protocols) > 0 {
		offered := h.Header("Sec-WebSocket-Protocol")
		for _, p := range o.Protocols {
			if hasToken(offered, p) {
				u.Protocol = p
				break
			}
		}
		if u.Protocol == "" {
			return u, ErrNoProtocol
		}
	}
	if o.Compression {
		u.Deflate = acceptDeflate(h.Header("Sec-WebSocket-Extensions"))
	}
	return u, nil
}

// hasToken reports whether the comma-separated list holds token,
// case-insensitively (RFC 9110 §5.6.1).
func hasToken(list []byte, token string) bool {
	for len(list) > 0 {
		var item []byte
		if i := bytes.IndexByte(list, ','); i >= 0 {
			item, list = list[:i], list[i+1:]
		} else {
			item, list = list, nil
		}
		if bytes.EqualFold(trimOWS(item), []byte(token)) {
			return true
		}
	}
	return false
}

// trimOWS trims HTTP optional whitespace (space and tab).
func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// strictBase64 rejects non-canonical encodings (nonzero padding bits).
var strictBase64 = base64.StdEncoding.Strict()

// validKey reports whether key is the base64 encoding of exactly 16 bytes
// (RFC 6455 §4.2.1 item 5).
func validKey(key []byte) bool {
	key = trimOWS(key)
	if len(key) != 24 {
		return false
	}
	var raw [18]byte // DecodedLen(24)
	n, err := strictBase64.Decode(raw[:], key)
	return err == nil && n == 16
}

// AppendAcceptKey appends the Sec-WebSocket-Accept value for the client's
// Sec-WebSocket-Key: base64(SHA-1(key + GUID)) (RFC 6455 §4.2.2). gobwas/ws
// keeps its version unexported.
func AppendAcceptKey(dst, key []byte) []byte {
	key = trimOWS(key)
	var in [24 + len(acceptGUID)]byte
	var sum [sha1.Size]byte
	if len(key) == 24 {
		copy(in[copy(in[:], key):], acceptGUID)
		sum = sha1.Sum(in[:])
	} else {
		// Only reached for keys CheckUpgrade rejects; kept correct anyway.
		d := sha1.New()
		d.Write(key)
		d.Write([]byte(acceptGUID))
		d.Sum(sum[:0])
	}
	return base64.StdEncoding.AppendEncode(dst, sum[:])
}

// deflateResponse is the only permessage-deflate answer rtd gives: no context
// takeover in either direction (RFC 7692 §7.1.1.1, §7.1.1.2), so that neither
// side keeps a (de)compressor per connection.
const deflateResponse = "permessage-deflate; server_no_context_takeover; client_no_context_takeover"

// AppendUpgradeResponse appends the complete 101 Switching Protocols response
// head for an accepted upgrade with the client's Sec-WebSocket-Key.
func AppendUpgradeResponse(dst []byte, key []byte, u *Upgrade) []byte {
	dst = append(dst, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "...)
	dst = AppendAcceptKey(dst, key)
	dst = append(dst, "\r\n"...)
	if u != nil && u.Protocol != "" {
		dst = append(dst, "Sec-WebSocket-Protocol: "...)
		dst = append(dst, u.Protocol...)
		dst = append(dst, "\r\n"...)
	}
	if u != nil && u.Deflate {
		dst = append(dst, "Sec-WebSocket-Extensions: "+deflateResponse+"\r\n"...)
	}
	return append(dst, "\r\n"...)
}

// HandshakeStatus is the HTTP status AppendHandshakeRejection answers err
// with: a HandshakeError's, else 400.
func HandshakeStatus(err error) int {
	if he, ok := err.(*HandshakeError); ok {
		return he.Status
	}
	return 400
}

// AppendHandshakeRejection appends a complete HTTP error response for err, a
// *HandshakeError from CheckUpgrade (any other error is answered with 400). The
// response closes the connection; a 426 carries "Sec-WebSocket-Version: 13"
// (RFC 6455 §4.4) and a 405 carries "Allow: GET".
func AppendHandshakeRejection(dst []byte, err error) []byte {
	status, reason := HandshakeStatus(err), "bad websocket upgrade request"
	if he, ok := err.(*HandshakeError); ok {
		reason = he.Reason
	}
	dst = append(dst, "HTTP/1.1 "...)
	dst = strconv.AppendInt(dst, int64(status), 10)
	dst = append(dst, ' ')
	dst = append(dst, statusText(status)...)
	dst = append(dst, "\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: "...)
	dst = strconv.AppendInt(dst, int64(len(reason)+1), 10)
	dst = append(dst, "\r\n"...)
	switch status {
	case 426:
		dst = append(dst, "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"...)
	case 405:
		dst = append(dst, "Allow: GET\r\n"...)
	}
	dst = append(dst, "\r\n"...)
	dst = append(dst, reason...)
	return append(dst, '\n')
}

// statusText covers the statuses this package produces; net/http is not
// imported by proto packages.
func statusText(status int) string {
	switch status {
	case 400:
		return "Bad Request"
	case 403:
		return "Forbidden"
	case 405:
		return "Method Not Allowed"
	case 426:
		return "Upgrade Required"
	case 505:
		return "HTTP Version Not Supported"
	}
	return "Error"
}
