package autobahn

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// Autobahn's protocol timeouts: how long the client waits for the peer's
// close reply, and for the server to drop TCP after the close exchange
// (RFC 6455 §7.1.1: the server closes the TCP connection first).
const (
	closeHandshakeTimeout = time.Second
	serverDropTimeout     = time.Second
	defaultCaseLimit      = 15 * time.Second
)

// event is one entry of a case's event log; the log is compared with the
// expected lists exactly, as Autobahn compares pickles.
type event struct {
	kind   string // "message", "ping", "pong" or "timeout"
	data   string
	binary bool
}

func (e event) String() string {
	d := e.data
	if len(d) > 24 {
		d = fmt.Sprintf("%.24q…(%d octets)", d, len(e.data))
	} else {
		d = fmt.Sprintf("%q", d)
	}
	if e.kind == "message" && e.binary {
		return "binary " + d
	}
	return e.kind + " " + d
}

func message(s string) event       { return event{kind: "message", data: s} }
func binaryMessage(s string) event { return event{kind: "message", data: s, binary: true} }
func pong(s string) event          { return event{kind: "pong", data: s} }
func timeoutTag(tag string) event  { return event{kind: "timeout", data: tag} }

// expectation is one acceptable event list and the verdict it earns.
type expectation struct {
	verdict Verdict
	events  []event
}

// closeExpectation is Autobahn's expectedClose.
type closeExpectation struct {
	byMe         bool  // the client starts the closing handshake
	codes        []int // close codes the server may send; codes[0] is the client's own
	requireClean bool  // the closing handshake must complete
	// wrongEndpointFatal also fails Behavior when the wrong side closes
	// (the UTF-8 cases: a server that does not fail must not pass).
	wrongEndpointFatal bool
}

// caseDef is one case: its ID, what it does, and its script.
type caseDef struct {
	id, desc string
	limit    time.Duration // hard stop for the whole case; 0 means defaultCaseLimit
	offers   []deflateOffer
	open     func(s *session)
}

const (
	stateOpen = iota
	stateClosing
	stateClosed
)

// timer is a scheduled step of a case (continueLater, closeAfter, killAfter
// and the protocol timeouts).
type timer struct {
	at  time.Time
	seq int
	fn  func()
}

// inbox hands what the reader decoded to the driver without ever blocking
// the reader, so a case writing a large frame cannot deadlock against a
// server writing its echo.
type inbox struct {
	mu     sync.Mutex
	items  []item
	notify chan struct{}
}

func (q *inbox) push(it item) {
	q.mu.Lock()
	q.items = append(q.items, it)
	q.mu.Unlock()
	select {
	case q.notify <- struct{}{}:
	default:
	}
}

func (q *inbox) drain() []item {
	q.mu.Lock()
	defer q.mu.Unlock()
	its := q.items
	q.items = nil
	return its
}

// session is one case on one connection. Everything except the reader runs
// on the driver goroutine, so case scripts need no locking.
type session struct {
	conn   net.Conn
	in     *inbox
	rdone  chan struct{}
	state  int
	out    []byte // frames written without sync, sent together at the end of a step
	mask   [4]byte
	timers []timer
	seq    int

	received      []event
	expected      []expectation
	close         closeExpectation
	suppressClose bool // the case sends its own (odd) close frames

	// custom is set by cases that grade Behavior themselves (9, 12, 13).
	custom    bool
	behavior  Verdict
	result    string
	onMessage func(payload []byte, binary bool)

	wrongCodeFails bool // 7.x: a wrong close code fails Behavior too
	informational  bool // 7.1.6, 7.13.x: outcome undefined by the spec

	closedByMe, droppedByMe, wasClean, closeReceived bool
	remoteCode                                       int // -1 when the server sent no code
	violation                                        string
	limitHit                                         bool
	writeErr                                         error

	deflate      *deflateParams // negotiated permessage-deflate, nil when none
	negotiation  error          // the server's extension answer was invalid
	compressor   *compressor
	autoFragment int // split outgoing messages into frames of this many octets
}

// runCase dials, runs one case and grades it.
func runCase(ctx context.Context, t Target, d caseDef) Result {
	res := Result{ID: d.id, Description: d.desc}
	start := time.Now()
	limit := d.limit
	if limit == 0 {
		limit = defaultCaseLimit
	}
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	s, err := dial(ctx, t, d.offers)
	if err != nil {
		res.Behavior, res.BehaviorClose, res.Detail = Failed, Failed, err.Error()
		res.Duration = time.Since(start)
		return res
	}
	d.open(s)
	s.loop(ctx)
	<-s.rdone
	s.grade(&res)
	res.Duration = time.Since(start)
	return res
}

// dial opens the TCP connection and performs the opening handshake.
func dial(ctx context.Context, t Target, offers []deflateOffer) (*session, error) {
	var dialer net.Dialer
	conn, err := dialer.DialContext(ctx, "tcp", t.Addr)
	if err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	var keyRaw [16]byte
	rand.Read(keyRaw[:])
	key := base64.StdEncoding.EncodeToString(keyRaw[:])
	req := "GET " + t.Path + " HTTP/1.1\r\nHost: " + t.Host +
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key +
		"\r\nSec-WebSocket-Version: 13\r\n"
	if len(offers) > 0 {
		parts := make([]string, len(offers))
		for i, o := range offers {
			parts[i] = o.String()
		}
		req += "Sec-WebSocket-Extensions: " + strings.Join(parts, ", ") + "\r\n"
	}
	req += "\r\n"
	if _, err := conn.Write([]byte(req)); err != nil {
		conn.Close()
		return nil, err
	}
	br := bufio.NewReaderSize(conn, 64<<10)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		conn.Close()
		return nil, &HandshakeError{Reason: err.Error()}
	}
	if herr := checkUpgrade(resp, key); herr != nil {
		conn.Close()
		return nil, herr
	}
	s := &session{
		conn:       conn,
		in:         &inbox{notify: make(chan struct{}, 1)},
		rdone:      make(chan struct{}),
		remoteCode: -1,
	}
	ext := strings.Join(resp.Header.Values("Sec-WebSocket-Extensions"), ", ")
	switch {
	case len(offers) == 0 && strings.TrimSpace(ext) != "":
		conn.Close()
		return nil, &HandshakeError{Status: resp.StatusCode, Reason: "extension answered that was never offered: " + ext}
	case len(offers) > 0:
		s.deflate, s.negotiation = negotiate(offers, ext)
		if s.deflate != nil {
			s.compressor = newCompressor(s.deflate)
		}
	}
	go s.readLoop(br, newInflater(s.deflate))
	return s, nil
}

// checkUpgrade validates the 101 answer (RFC 6455 §4.1, client steps 1–4).
func checkUpgrade(resp *http.Response, key string) error {
	if resp.StatusCode != http.StatusSwitchingProtocols {
		return &HandshakeError{Status: resp.StatusCode, Reason: "not 101 Switching Protocols"}
	}
	if !strings.EqualFold(resp.Header.Get("Upgrade"), "websocket") {
		return &HandshakeError{Status: resp.StatusCode, Reason: "Upgrade is not websocket"}
	}
	upgrade := false
	for _, v := range resp.Header.Values("Connection") {
		for tok := range strings.SplitSeq(v, ",") {
			upgrade = upgrade || strings.EqualFold(strings.TrimSpace(tok), "upgrade")
		}
	}
	if !upgrade {
		return &HandshakeError{Status: resp.StatusCode, Reason: "Connection has no upgrade token"}
	}
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	if got, want := resp.Header.Get("Sec-WebSocket-Accept"), base64.StdEncoding.EncodeToString(h[:]); got != want {
		return &HandshakeError{Status: resp.StatusCode, Reason: fmt.Sprintf("Sec-WebSocket-Accept %q, want %q", got, want)}
	}
	return nil
}

// loop drives the case until the TCP connection is gone.
func (s *session) loop(ctx context.Context) {
	tm := time.NewTimer(time.Hour)
	defer tm.Stop()
	for s.state != stateClosed {
		s.flush()
		var due <-chan time.Time
		if len(s.timers) > 0 {
			tm.Reset(time.Until(s.timers[0].at))
			due = tm.C
		}
		select {
		case <-s.in.notify:
			for _, it := range s.in.drain() {
				if s.state == stateClosed {
					break
				}
				s.handle(it)
			}
		case <-due:
			s.fireDue()
		case <-ctx.Done():
			s.limitHit = true
			s.drop()
		}
	}
}

// after schedules fn; timers fire in time order, ties in scheduling order.
func (s *session) after(d time.Duration, fn func()) {
	s.seq++
	s.timers = append(s.timers, timer{at: time.Now().Add(d), seq: s.seq, fn: fn})
	slices.SortFunc(s.timers, func(a, b timer) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return a.seq - b.seq
	})
}

func (s *session) fireDue() {
	now := time.Now()
	for len(s.timers) > 0 && !s.timers[0].at.After(now) && s.state != stateClosed {
		t := s.timers[0]
		s.timers = s.timers[1:]
		t.fn()
		s.flush()
	}
}

// continueLater runs fn after d unless the connection is gone by then.
func (s *session) continueLater(d time.Duration, fn func()) {
	s.after(d, func() {
		if s.state != stateClosed {
			fn()
		}
	})
}

// closeAfter starts the closing handshake after d (Autobahn's closeAfter).
func (s *session) closeAfter(d time.Duration) {
	s.after(d, func() { s.sendClosePayload(nil) })
}

// killAfter fails the connection after d (Autobahn's killAfter).
func (s *session) killAfter(d time.Duration) {
	s.after(d, func() { s.failConnection(closeGoingAway, "Going Away") })
}

func (s *session) isOpen() bool { return s.state == stateOpen }

// expect adds an acceptable event list; lists are tried in the order added.
func (s *session) expect(v Verdict, evs ...event) {
	s.expected = append(s.expected, expectation{verdict: v, events: evs})
}

func (s *session) expectClose(byMe, requireClean bool, codes ...int) {
	s.close = closeExpectation{byMe: byMe, codes: codes, requireClean: requireClean}
}

// expectServerFail is the common "the server must fail the connection with
// code" expectation.
func (s *session) expectServerFail(code int) { s.expectClose(false, false, code) }

// expectCleanClose is the common "the client closes with 1000, cleanly".
func (s *session) expectCleanClose() { s.expectClose(true, true, closeNormal) }

// handle applies one item decoded by the reader.
func (s *session) handle(it item) {
	switch it.kind {
	case itemMessage:
		if s.onMessage != nil {
			s.onMessage(it.payload, it.binary)
			return
		}
		s.record(event{kind: "message", data: string(it.payload), binary: it.binary})
	case itemPing:
		if s.state == stateOpen {
			s.writeControl(opPong, it.payload)
		}
		if !s.custom {
			s.record(event{kind: "ping", data: string(it.payload)})
		}
	case itemPong:
		if !s.custom {
			s.record(event{kind: "pong", data: string(it.payload)})
		}
	case itemClose:
		if s.closeReceived {
			return
		}
		s.closeReceived = true
		s.remoteCode = it.code
		s.wasClean = true
		if s.state == stateOpen {
			// The server starts the closing handshake: echo its code.
			s.writeControl(opClose, closePayload(it.code, nil))
			s.state = stateClosing
		}
		s.after(serverDropTimeout, func() {
			if s.state != stateClosed {
				s.wasClean = false
				s.dropByMe()
			}
		})
	case itemViolation:
		if s.violation == "" {
			s.violation = it.err.Error()
		}
		s.failConnection(it.code, "")
	case itemEOF:
		if !s.closeReceived {
			s.wasClean = false
		}
		s.drop()
	}
}

func (s *session) record(e event) {
	s.received = append(s.received, e)
	s.finishWhenDone()
}

// finishWhenDone starts the closing handshake as soon as the events match
// every expected list (Autobahn's Case.finishWhenDone).
func (s *session) finishWhenDone() {
	for _, e := range s.expected {
		if !slices.Equal(s.received, e.events) {
			return
		}
	}
	if s.close.byMe && !s.suppressClose && len(s.close.codes) > 0 {
		s.sendClose(s.close.codes[0])
	}
}

// sendClose starts the closing handshake with code (Autobahn's sendClose).
func (s *session) sendClose(code int) { s.sendClosePayload(closePayload(code, nil)) }

// sendClosePayload sends a close frame with a raw body and waits for the
// reply; it does nothing once the handshake has started.
func (s *session) sendClosePayload(p []byte) {
	if s.state != stateOpen {
		return
	}
	s.writeControl(opClose, p)
	s.state = stateClosing
	s.closedByMe = true
	s.after(closeHandshakeTimeout, func() {
		if s.state == stateClosing && !s.closeReceived {
			s.wasClean = false
			s.dropByMe()
		}
	})
}

// failConnection is Autobahn's failConnection without failByDrop: start a
// closing handshake, or drop TCP when one is already under way.
func (s *session) failConnection(code int, reason string) {
	switch s.state {
	case stateOpen:
		s.sendClosePayload(closePayload(code, []byte(reason)))
	case stateClosing:
		s.wasClean = false
		s.dropByMe()
	}
}

func (s *session) dropByMe() {
	s.droppedByMe = true
	s.drop()
}

func (s *session) drop() {
	if s.state == stateClosed {
		return
	}
	s.flush()
	s.state = stateClosed
	s.conn.Close()
}

// frame is a frame a case sends, with Autobahn's sendFrame knobs.
type frame struct {
	op       byte
	more     bool // FIN = 0
	rsv      byte
	payload  []byte
	repeat   int  // repeat payload to this length (Autobahn's payload_len)
	chop     int  // write the frame in chops of this many octets
	sync     bool // write the frame on its own instead of with the step's others
	unmasked bool
}

func (s *session) nextMask() *[4]byte {
	rand.Read(s.mask[:])
	return &s.mask
}

func (s *session) sendFrame(f frame) {
	p := f.payload
	if f.repeat > 0 {
		p = repeatTo(p, f.repeat)
	}
	mask := s.nextMask()
	if f.unmasked {
		mask = nil
	}
	b := appendFrame(nil, !f.more, f.rsv, f.op, mask, p)
	switch {
	case f.chop > 0:
		s.flush()
		for len(b) > 0 {
			n := min(f.chop, len(b))
			s.write(b[:n])
			b = b[n:]
		}
	case f.sync:
		s.flush()
		s.write(b)
	default:
		s.out = append(s.out, b...)
	}
}

// sendMessage sends a data message, compressed when permessage-deflate is
// on, split into frames of fragSize octets (0: s.autoFragment, then whole).
func (s *session) sendMessage(op byte, payload []byte, fragSize int) {
	var rsv byte
	if s.compressor != nil {
		payload = s.compressor.compress(payload)
		rsv = 0b100
	}
	if fragSize == 0 {
		fragSize = s.autoFragment
	}
	if fragSize <= 0 || len(payload) <= fragSize {
		s.out = appendFrame(s.out, true, rsv, op, s.nextMask(), payload)
		return
	}
	for first := true; len(payload) > 0; first = false {
		n := min(fragSize, len(payload))
		code, r := opContinuation, byte(0)
		if first {
			code, r = op, rsv
		}
		s.out = appendFrame(s.out, n == len(payload), r, code, s.nextMask(), payload[:n])
		payload = payload[n:]
	}
}

func (s *session) writeControl(op byte, p []byte) {
	s.out = appendFrame(s.out, true, 0, op, s.nextMask(), p)
}

// sendRaw queues octets as they are: 6.4.3/6.4.4 stream one frame in parts.
func (s *session) sendRaw(b []byte) { s.out = append(s.out, b...) }

func (s *session) flush() {
	if len(s.out) == 0 {
		return
	}
	s.write(s.out)
	s.out = s.out[:0]
}

func (s *session) write(b []byte) {
	if s.state == stateClosed {
		return
	}
	if _, err := s.conn.Write(b); err != nil && s.writeErr == nil {
		s.writeErr = err
	}
}

// repeatTo repeats p up to n octets.
func repeatTo(p []byte, n int) []byte {
	out := make([]byte, n)
	if len(p) == 0 {
		return out
	}
	for i := 0; i < n; i += len(p) {
		copy(out[i:], p)
	}
	return out
}

// grade computes both verdicts like Autobahn's Case.onConnectionLost plus
// the overrides of the case families.
func (s *session) grade(r *Result) {
	behavior, result := Failed, "actual events differ from any expected"
	if s.custom {
		behavior, result = s.behavior, s.result
	} else {
		for _, e := range s.expected {
			if slices.Equal(s.received, e.events) {
				behavior, result = e.verdict, "actual events match an expected list"
				break
			}
		}
	}
	var closeV Verdict
	var closeResult string
	switch {
	case s.close.byMe != s.closedByMe:
		closeV, closeResult = Failed, "the connection was failed by the wrong endpoint"
		if s.close.wrongEndpointFatal {
			behavior = Failed
		}
	case s.close.requireClean && !s.wasClean:
		closeV, closeResult = Unclean, "the spec requires a clean close here"
	case s.remoteCode >= 0 && !slices.Contains(s.close.codes, s.remoteCode):
		closeV, closeResult = WrongCode, fmt.Sprintf("close code should have been %v or empty", s.close.codes)
		if s.wrongCodeFails {
			behavior, result = Failed, closeResult
		}
	case s.droppedByMe:
		closeV, closeResult = FailedByClient, "the server should close the TCP connection"
	default:
		closeV, closeResult = OK, "connection was properly closed"
	}
	if s.informational {
		behavior, closeV = Informational, Informational
	}
	if s.violation != "" {
		behavior, result = Failed, s.violation
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s; %s (closedByMe=%t clean=%t droppedByMe=%t remoteCode=%d)",
		result, closeResult, s.closedByMe, s.wasClean, s.droppedByMe, s.remoteCode)
	if s.limitHit {
		b.WriteString("; case time limit reached")
	}
	if behavior != OK && !s.custom {
		fmt.Fprintf(&b, "; events %v", s.received)
	}
	r.Behavior, r.BehaviorClose, r.Detail = behavior, closeV, b.String()
}
