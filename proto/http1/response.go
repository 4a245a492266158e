package http1

import "strconv"

// AppendStatusLine appends "HTTP/1.1 <status> <reason>\r\n". An unknown status gets an empty
// reason phrase, which RFC 9112 §4 allows.
func AppendStatusLine(dst []byte, status int) []byte {
	dst = append(dst, "HTTP/1.1 "...)
	dst = strconv.AppendInt(dst, int64(status), 10)
	dst = append(dst, ' ')
	dst = append(dst, StatusText(status)...)
	return append(dst, "\r\n"...)
}

// AppendHeader appends "name: value\r\n". Control bytes in value (CR and LF above all) are
// replaced by spaces so that a value that came from a client can never end the line early and
// inject a header of its own.
func AppendHeader(dst []byte, name, value string) []byte {
	dst = append(dst, name...)
	dst = append(dst, ": "...)
	for {
		i := indexCTLString(value)
		if i < 0 {
			break
		}
		dst = append(dst, value[:i]...)
		dst = append(dst, ' ')
		value = value[i+1:]
	}
	dst = append(dst, value...)
	return append(dst, "\r\n"...)
}

func indexCTLString(s string) int {
	for i := 0; i < len(s); i++ {
		if isCTL(s[i]) {
			return i
		}
	}
	return -1
}

// AppendResponse appends a complete small response: status line, Date, Content-Type when
// contentType is not empty, Content-Length, "Connection: close" when !keepAlive, the blank
// line and body. For 1xx, 204 and 304, which cannot have a body (RFC 9110 §6.4.1), it writes
// neither Content-Length nor body.
func AppendResponse(dst []byte, status int, contentType string, body []byte, keepAlive bool) []byte {
	dst = AppendStatusLine(dst, status)
	dst = AppendDate(dst)
	if contentType != "" {
		dst = AppendHeader(dst, "Content-Type", contentType)
	}
	hasBody := status >= 200 && status != 204 && status != 304
	if hasBody {
		dst = append(dst, "Content-Length: "...)
		dst = strconv.AppendInt(dst, int64(len(body)), 10)
		dst = append(dst, "\r\n"...)
	}
	if !keepAlive {
		dst = append(dst, "Connection: close\r\n"...)
	}
	dst = append(dst, "\r\n"...)
	if hasBody {
		dst = append(dst, body...)
	}
	return dst
}

// StatusText returns the reason phrase of an HTTP status code (RFC 9110 §15), or "" for a
// code it does not know.
func StatusText(code int) string {
	switch code {
	case 100:
		return "Continue"
	case 101:
		return "Switching Protocols"
	case 102:
		return "Processing"
	case 103:
		return "Early Hints"
	case 200:
		return "OK"
	case 201:
		return "Created"
	case 202:
		return "Accepted"
	case 203:
		return "Non-Authoritative Information"
	case 204:
		return "No Content"
	case 205:
		return "Reset Content"
	case 206:
		return "Partial Content"
	case 300:
		return "Multiple Choices"
	case 301:
		return "Moved Permanently"
	case 302:
		return "Found"
	case 303:
		return "See Other"
	case 304:
		return "Not Modified"
	case 307:
		return "Temporary Redirect"
	case 308:
		return "Permanent Redirect"
	case 400:
		return "Bad Request"
	case 401:
		return "Unauthorized"
	case 403:
		return "Forbidden"
	case 404:
		return "Not Found"
	case 405:
		return "Method Not Allowed"
	case 406:
		return "Not Acceptable"
	case 408:
		return "Request Timeout"
	case 409:
		return "Conflict"
	case 410:
		return "Gone"
	case 411:
		return "Length Required"
	case 412:
		return "Precondition Failed"
	case 413:
		return "Content Too Large"
	case 414:
		return "URI Too Long"
	case 415:
		return "Unsupported Media Type"
	case 416:
		return "Range Not Satisfiable"
	case 417:
		return "Expectation Failed"
	case 421:
		return "Misdirected Request"
	case 422:
		return "Unprocessable Content"
	case 426:
		return "Upgrade Required"
	case 428:
		return "Precondition Required"
	case 429:
		return "Too Many Requests"
	case 431:
		return "Request Header Fields Too Large"
	case 451:
		return "Unavailable For Legal Reasons"
	case 500:
		return "Internal Server Error"
	case 501:
		return "Not Implemented"
	case 502:
		return "Bad Gateway"
	case 503:
		return "Service Unavailable"
	case 504:
		return "Gateway Timeout"
	case 505:
		return "HTTP Version Not Supported"
	}
	return ""
}
