package http1

import "errors"

// Error is a request that cannot be served, with the status to answer before closing the
// connection. Parse returns only *Error values (or ErrNeedMore), so a caller can always turn
// a failure into a response with StatusOf.
type Error struct {
	Status int    // HTTP status code to answer with
	Reason string // short, fixed description; never contains request bytes

	// kind is the broad sentinel this specific error belongs to (for example ErrMalformed for
	// an obs-fold line), so errors.Is works with the sentinels below.
	kind *Error
}

func (e *Error) Error() string { return "http1: " + e.Reason }

// Unwrap returns the broad sentinel a specific error belongs to, or nil.
func (e *Error) Unwrap() error {
	if e.kind == nil {
		return nil
	}
	return e.kind
}

// ErrNeedMore means buf holds only a prefix of a request: keep the bytes and call Parse again
// once more have arrived.
var ErrNeedMore = errors.New("http1: need more data")

// Sentinels, one per response status family. Parse may return a more specific *Error whose
// errors.Is matches one of these.
var (
	// ErrMalformed is a request that breaks the RFC 9112 grammar (400).
	ErrMalformed = &Error{Status: 400, Reason: "malformed request"}
	// ErrAmbiguousLength is a request whose body length could be read two ways: both
	// Content-Length and Transfer-Encoding, or several Content-Length lines (400). Answering it
	// instead of guessing is what prevents request smuggling.
	ErrAmbiguousLength = &Error{Status: 400, Reason: "ambiguous message length"}
	// ErrURITooLong is a request line longer than Limits.MaxRequestLine (414).
	ErrURITooLong = &Error{Status: 414, Reason: "request line too long"}
	// ErrHeadersTooLarge is a head over Limits.MaxHeaderBytes or Limits.MaxHeaders, or chunk
	// extensions and trailers over what is left of it (431).
	ErrHeadersTooLarge = &Error{Status: 431, Reason: "request header fields too large"}
	// ErrBodyTooLarge is a body over Limits.MaxBodyBytes, or a chunked body of more than
	// Limits.MaxChunks chunks (413).
	ErrBodyTooLarge = &Error{Status: 413, Reason: "request body too large"}
	// ErrUnsupportedTransferCoding is a Transfer-Encoding other than exactly "chunked" (501).
	ErrUnsupportedTransferCoding = &Error{Status: 501, Reason: "unsupported transfer coding"}
	// ErrVersion is a well-formed HTTP version other than 1.0 and 1.1 (505).
	ErrVersion = &Error{Status: 505, Reason: "HTTP version not supported"}
)

// Specific 400 errors; each unwraps to ErrMalformed.
var (
	errMethod           = malformed("invalid method")
	errRequestLine      = malformed("invalid request line")
	errTarget           = malformed("invalid request target")
	errVersionSyntax    = malformed("invalid HTTP version")
	errBareLF           = malformed("line ends in LF without CR")
	errBareCR           = malformed("CR not followed by LF")
	errFieldName        = malformed("invalid header field name")
	errSpaceBeforeColon = malformed("whitespace between header field name and colon")
	errObsFold          = malformed("header line starts with whitespace (obs-fold)")
	errFieldValue       = malformed("control character in header field value")
	errHost             = malformed("missing or repeated Host header")
	errContentLength    = malformed("invalid Content-Length")
	errTransferHTTP10   = malformed("Transfer-Encoding in an HTTP/1.0 request")
	errChunkSize        = malformed("invalid chunk size line")
	errChunkData        = malformed("chunk data not followed by CRLF")
)

// errTooManyChunks is a chunked body over Limits.MaxChunks.
var errTooManyChunks = &Error{Status: 413, Reason: "too many chunks in request body", kind: ErrBodyTooLarge}

// errDuplicateLength is a second Content-Length line, even with an equal value.
var errDuplicateLength = &Error{Status: 400, Reason: "repeated Content-Length", kind: ErrAmbiguousLength}

func malformed(reason string) *Error {
	return &Error{Status: 400, Reason: reason, kind: ErrMalformed}
}

// StatusOf returns the status to answer a Parse error with: the *Error's status, or 400 for
// any other error.
func StatusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 400
}
