package fanout

import (
	"encoding/json"
	"errors"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/rtd-project/rtd/hub"
	"github.com/rtd-project/rtd/internal/jsonenc"
	"github.com/rtd-project/rtd/server"
)

// Error codes of the channel protocol ({"error":{"code":…,"message":…}}).
const (
	CodeBadRequest         = 100 // malformed command
	CodeUnknownOp          = 101
	CodePermissionDenied   = 103
	CodeInvalidChannel     = 104
	CodeAlreadySubscribed  = 105
	CodeNotSubscribed      = 106
	CodeLimitExceeded      = 107
	CodeUnavailable        = 108 // history or presence off for the channel
	CodeTokenInvalid       = 109
	CodeInternal           = 110
	CodeInvalidPosition    = 111
	CodeBrokerUnavailable  = 112  // the cluster bus is down: nothing was published or subscribed; retry
	closeTokenExpired      = 3000 // IANA "Unauthorized": the token expired and was not refreshed
	closeTokenInvalid      = 3000
	closeTryAgainLater     = 1013 // a reply the send queue had no room for
	defaultHistoryLimit    = 100
	maxHistoryLimit        = 1000
	tokenCheckPeriod       = time.Second
	expiredReason          = "token expired"
	refreshMismatchMessage = "token is for another user"
	// An anonymous connection stays anonymous: it reconnects with a token.
	refreshAnonymousMessage = "an anonymous connection cannot take a token: reconnect with it"
	revokedReason           = "the refreshed token does not permit this channel"
)

// command is one client command.
type command struct {
	ID      *json.RawMessage `json:"id"`
	Op      string           `json:"op"`
	Channel string           `json:"channel"`
	Since   string           `json:"since"`
	Data    json.RawMessage  `json:"data"`
	Event   string           `json:"event"`
	Limit   int              `json:"limit"`
	Token   string           `json:"token"`
}

// session is the tier's state of one /ws connection.
type session struct {
	id      atomic.Pointer[Identity]
	expires atomic.Int64 // unix nanoseconds; 0: none
	bus     *busQueue    // publications waiting for the bus (loop only; made on first use)
}

// sessionOf returns the tier's state of a /ws socket (set by authorize;
// Tier.anon, shared, for an anonymous one).
func sessionOf(sock *server.Socket) *session {
	return sock.Request().Value().(*session)
}

// ownSession returns sock's session, giving an anonymous socket one of its
// own first (loop only: sessionOf is read by the socket's loop alone).
func (t *Tier) ownSession(sock *server.Socket, ss *session) *session {
	if ss != t.anon {
		return ss
	}
	own := &session{}
	own.id.Store(anonymous)
	sock.Request().SetValue(own)
	return own
}

func (t *Tier) wsOpen(sock *server.Socket) {
	ss := sessionOf(sock)
	if id := ss.id.Load(); !id.Expires.IsZero() {
		ss.expires.Store(id.Expires.UnixNano())
		t.track(sock, ss)
	}
}

func (t *Tier) wsClose(sock *server.Socket, _ int, _ string) {
	t.untrack(sock)
}

func (t *Tier) wsMessage(sock *server.Socket, m server.Message) {
	ss := sessionOf(sock)
	if m.Type != server.Text {
		t.reply(sock, nil, errReply(CodeBadRequest, "malformed command"))
		return
	}
	cmd, err := parseCommand(m.Data)
	switch {
	case errors.Is(err, hub.ErrInvalidEvent):
		t.reply(sock, cmd.ID, errReply(CodeBadRequest, invalidEvent))
		return
	case err != nil:
		t.reply(sock, nil, errReply(CodeBadRequest, "malformed command"))
		return
	}
	id := ss.id.Load()
	switch cmd.Op {
	case "ping":
		if cmd.ID == nil {
			_ = sock.SendText(`{"op":"pong"}`)
			break
		}
		t.reply(sock, cmd.ID, func(b []byte) []byte { return append(b, `,"op":"pong"`...) })
	case "subscribe":
		t.subscribe(sock, id, &cmd)
	case "unsubscribe":
		err := sock.Unsubscribe(cmd.Channel)
		t.reply(sock, cmd.ID, hubErr(err, nil))
	case "publish":
		if !t.canPublish(id, cmd.Channel) {
			t.reply(sock, cmd.ID, errReply(CodePermissionDenied, publishRefusal(id)))
			return
		}
		if len(cmd.Data) == 0 {
			t.reply(sock, cmd.ID, errReply(CodeBadRequest, "data required"))
			return
		}
		t.clientPublish(sock, ss, cmd.ID, cmd.Channel, hub.Publication{Event: cmd.Event, Data: cmd.Data})
	case "presence":
		if why := t.whyNot(id, cmd.Channel); why != "" {
			t.reply(sock, cmd.ID, errReply(CodePermissionDenied, "presence not permitted: "+why))
			return
		}
		p, err := t.hub.Presence(cmd.Channel)
		if err != nil || t.o.Cluster == nil {
			t.reply(sock, cmd.ID, hubErr(err, func(b []byte) []byte { return appendPresence(b, &p) }))
			return
		}
		// Counted over every node, as /api/presence does: a read from the
		// bus, so off the loop (replies may be sent from any goroutine).
		reqID, channel := cmd.ID, cmd.Channel
		go func() {
			all, err := t.clusterPresence(channel, &p)
			t.reply(sock, reqID, hubErr(err, func(b []byte) []byte {
				return appendNodePresence(appendPresence(b, &all), &p)
			}))
		}()
	case "history":
		if why := t.whyNot(id, cmd.Channel); why != "" {
			t.reply(sock, cmd.ID, errReply(CodePermissionDenied, "history not permitted: "+why))
			return
		}
		since, perr := parseSince(cmd.Since)
		if perr != nil {
			t.reply(sock, cmd.ID, errReply(CodeInvalidPosition, "invalid position"))
			return
		}
		limit := clampLimit(cmd.Limit)
		if since != nil {
			limit++ // one more tells whether there is a next page
		}
		res, err := t.hub.History(cmd.Channel, since, limit)
		budget := t.replyBudget()
		t.reply(sock, cmd.ID, hubErr(err, func(b []byte) []byte { return appendHistory(b, &res, since, limit, budget) }))
	case "refresh":
		t.refresh(sock, ss, id, &cmd)
	default:
		t.reply(sock, cmd.ID, errReply(CodeUnknownOp, "unknown op"))
	}
}

// parseCommand decodes one client command. An event name hub.CheckEvent
// refuses is refused here, whatever the op, with the command's id (the rest
// decoded): the same rule /api/publish and /api/send apply.
func parseCommand(data []byte) (command, error) {
	var cmd command
	if err := json.Unmarshal(data, &cmd); err != nil {
		return command{}, err
	}
	return cmd, hub.CheckEvent(cmd.Event)
}

// subscribe answers with the reply first, then what the client missed, then
// live publications: SubscribeWith keeps that order on the socket's loop.
func (t *Tier) subscribe(sock *server.Socket, id *Identity, cmd *command) {
	if why := t.whyNot(id, cmd.Channel); why != "" {
		t.reply(sock, cmd.ID, errReply(CodePermissionDenied, "subscribe not permitted: "+why))
		return
	}
	since, err := parseSince(cmd.Since)
	if err != nil {
		t.reply(sock, cmd.ID, errReply(CodeInvalidPosition, "invalid position"))
		return
	}
	sock.SubscribeWith(cmd.Channel, since, func(b []byte, res hub.SubscribeResult, err error) []byte {
		return appendReply(b, cmd.ID, hubErr(err, func(b []byte) []byte {
			b = appendField(b, "position", res.Position.String())
			if since != nil {
				b = append(b, `,"recovered":`...)
				b = strconv.AppendBool(b, res.Recovered)
			}
			return b
		}))
	})
}

func (t *Tier) refresh(sock *server.Socket, ss *session, old *Identity, cmd *command) {
	if t.o.Verifier == nil {
		t.reply(sock, cmd.ID, okReply(nil))
		return
	}
	id, err := t.o.Verifier.Verify(cmd.Token)
	switch {
	case err != nil || id.User == "":
		// No subject: refused at connect too (identify); it would make an
		// anonymous connection's shared session someone's.
		t.authFailures.Add(1)
		t.reply(sock, cmd.ID, errReply(CodeTokenInvalid, "invalid token"))
		return
	case id.User != old.User:
		// The hub knows the connection as the user it connected as (per-user
		// limits, presence, /api/send and /api/disconnect): a token for anyone
		// else, an anonymous connection's included, would change who it is to
		// the channel rules only.
		t.authFailures.Add(1)
		msg := refreshMismatchMessage
		if old.User == "" {
			msg = refreshAnonymousMessage
		}
		t.reply(sock, cmd.ID, errReply(CodeTokenInvalid, msg))
		return
	}
	ss.id.Store(id)
	if id.Expires.IsZero() {
		ss.expires.Store(0)
		t.untrack(sock)
	} else {
		ss.expires.Store(id.Expires.UnixNano())
		t.track(sock, ss)
	}
	t.dropRevoked(sock, id)
	t.reply(sock, cmd.ID, okReply(nil))
}

// dropRevoked unsubscribes sock from the channels id no longer permits (a
// refreshed token with narrower channels), each with a push saying so:
// {"op":"unsubscribed","channel":…,"code":103,"reason":…}. The pushes go out
// before the refresh's reply, so a client that reads the reply knows what it
// is still subscribed to.
func (t *Tier) dropRevoked(sock *server.Socket, id *Identity) {
	c, ok := t.hub.Client(sock.ID())
	if !ok {
		return
	}
	for _, ch := range c.Channels() {
		if t.canSubscribe(id, ch) || sock.Unsubscribe(ch) != nil {
			continue
		}
		t.reply(sock, nil, func(b []byte) []byte {
			b = append(b, `,"op":"unsubscribed"`...)
			b = appendField(b, "channel", ch)
			b = append(b, `,"code":`...)
			b = strconv.AppendInt(b, CodePermissionDenied, 10)
			return appendField(b, "reason", revokedReason)
		})
	}
}

// replyBody writes the fields of a reply after the id.
type replyBody func(b []byte) []byte

func okReply(fields replyBody) replyBody {
	return func(b []byte) []byte {
		b = append(b, `,"ok":true`...)
		if fields != nil {
			b = fields(b)
		}
		return b
	}
}

func errReply(code int, msg string) replyBody {
	return func(b []byte) []byte {
		b = append(b, `,"error":{"code":`...)
		b = strconv.AppendInt(b, int64(code), 10)
		b = appendField(b, "message", msg)
		return append(b, '}')
	}
}

// hubErr turns a hub error into an error reply, or nil into an ok reply.
func hubErr(err error, fields replyBody) replyBody {
	switch {
	case err == nil:
		return okReply(fields)
	case errors.Is(err, hub.ErrInvalidChannel):
		return errReply(CodeInvalidChannel, "invalid channel")
	case errors.Is(err, hub.ErrAlreadySubscribed):
		return errReply(CodeAlreadySubscribed, "already subscribed")
	case errors.Is(err, hub.ErrNotSubscribed):
		return errReply(CodeNotSubscribed, "not subscribed")
	case errors.Is(err, hub.ErrTooManyChannels):
		return errReply(CodeLimitExceeded, "too many channels")
	case errors.Is(err, hub.ErrTooManyHistoryChannels):
		return errReply(CodeLimitExceeded, "too many channels with history on this node")
	case errors.Is(err, hub.ErrHistoryDisabled):
		return errReply(CodeUnavailable, "history disabled for channel")
	case errors.Is(err, hub.ErrPresenceDisabled):
		return errReply(CodeUnavailable, "presence disabled for channel")
	case errors.Is(err, hub.ErrInvalidPosition):
		return errReply(CodeInvalidPosition, "invalid position")
	case errors.Is(err, hub.ErrBrokerUnavailable):
		return errReply(CodeBrokerUnavailable, "broker unavailable, retry later")
	}
	return errReply(CodeInternal, "internal error")
}

// appendReply writes {"id":…, <body>} (no id member when the command had none).
func appendReply(b []byte, id *json.RawMessage, body replyBody) []byte {
	start := len(b)
	b = append(b, '{')
	if id != nil {
		b = append(b, `"id":`...)
		b = append(b, *id...)
		b = body(b)
	} else if b = body(b); len(b) > start+1 && b[start+1] == ',' {
		b = append(b[:start+1], b[start+2:]...) // no id member: drop the body's leading comma
	}
	return append(b, '}')
}

// reply answers a command: every command gets an answer. One too large for
// the socket's send queue is answered with an error instead; one the queue
// has no room for now closes the socket (1013, whatever the slow-client
// policy), so the client knows and reconnects rather than wait for an
// answer that will never come.
func (t *Tier) reply(sock *server.Socket, id *json.RawMessage, body replyBody) {
	b := appendReply(make([]byte, 0, 128), id, body)
	err := sock.Send(server.Message{Type: server.Text, Data: b})
	if errors.Is(err, server.ErrTooLarge) {
		b = appendReply(b[:0], id, errReply(CodeLimitExceeded, "reply too large"))
		err = sock.Send(server.Message{Type: server.Text, Data: b})
	}
	if errors.Is(err, server.ErrSlowClient) || errors.Is(err, server.ErrDropped) {
		_ = sock.Close(closeTryAgainLater, "slow client")
	}
}

// replyBudget bounds a paged reply (history): half the send queue, so that
// it fits beside what is already queued.
func (t *Tier) replyBudget() int { return t.o.WS.MaxSendQueueBytes / 2 }

func appendField(b []byte, name, value string) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return jsonenc.AppendString(b, value)
}

func parseSince(s string) (*hub.Position, error) {
	if s == "" {
		return nil, nil
	}
	p, err := hub.ParsePosition(s)
	if err != nil {
		return nil, err
	}
	return &p, nil
}

func clampLimit(n int) int {
	switch {
	case n <= 0:
		return defaultHistoryLimit
	case n > maxHistoryLimit:
		return maxHistoryLimit
	}
	return n
}

func appendPresence(b []byte, p *hub.Presence) []byte {
	b = append(b, `,"clients":`...)
	b = strconv.AppendInt(b, int64(p.Clients), 10)
	b = append(b, `,"users":`...)
	q, _ := json.Marshal(p.UserIDs)
	b = append(b, q...)
	b = append(b, `,"user_count":`...)
	b = strconv.AppendInt(b, int64(p.Users), 10)
	b = append(b, `,"list":[`...)
	for i, c := range p.List {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"client":`...)
		b = jsonenc.AppendString(b, c.Client)
		b = appendField(b, "user", c.User)
		if len(c.Info) > 0 && json.Valid(c.Info) {
			b = append(b, `,"info":`...)
			b = append(b, c.Info...)
		}
		b = append(b, '}')
	}
	return append(b, ']')
}

// appendHistory writes a history reply: the publications, oldest first, as
// many as limit and budget bytes allow (at least one). With since, limit is
// one more than the client asked for: that one only tells whether there is
// more. When there is, "more":true and "next" (the position of the last
// publication sent) let the client ask for the next page with since=next.
func appendHistory(b []byte, h *hub.HistoryResult, since *hub.Position, limit, budget int) []byte {
	b = appendField(b, "position", h.Position.String())
	if since != nil {
		b = append(b, `,"recovered":`...)
		b = strconv.AppendBool(b, h.Recovered)
	}
	pubs := h.Publications
	more := since != nil && len(pubs) == limit
	if more {
		pubs = pubs[:limit-1]
	}
	b = append(b, `,"publications":[`...)
	start := len(b)
	for i, m := range pubs {
		n := len(b)
		if i > 0 {
			b = append(b, ',')
		}
		// The push each publication's subscribers got, as encoded then
		// (Mount made sure the server's Encoder is the tier's).
		if push := server.EncodedMessage(m); push != nil {
			b = append(b, push...)
		} else {
			b = appendPush(b, &m.Publication)
		}
		if i > 0 && len(b)-start-1 > budget { // the comma aside, as budget was counted
			b, pubs, more = b[:n], pubs[:i], true
			break
		}
	}
	b = append(b, ']')
	if more && len(pubs) > 0 {
		last := pubs[len(pubs)-1]
		b = append(b, `,"more":true`...)
		b = appendField(b, "next", hub.Position{Epoch: last.Epoch, Offset: last.Offset}.String())
	}
	return b
}

// clientPublish publishes for a /ws client and replies with the position. On a
// bus it runs off the loop, in the connection's order; cmd's fields are
// copies (json.Unmarshal), so they outlive the message.
func (t *Tier) clientPublish(sock *server.Socket, ss *session, id *json.RawMessage, channel string, p hub.Publication) {
	publish := func() {
		pos, err := t.hub.Publish(channel, p)
		t.reply(sock, id, hubErr(err, func(b []byte) []byte {
			b = append(b, `,"offset":`...)
			b = strconv.AppendUint(b, pos.Offset, 10)
			return appendField(b, "epoch", pos.Epoch)
		}))
	}
	if !t.hub.HasBroker() {
		publish()
		return
	}
	if ss.bus == nil {
		ss = t.ownSession(sock, ss)
		ss.bus = &busQueue{}
	}
	if !ss.bus.push(publish) {
		t.reply(sock, id, errReply(CodeLimitExceeded, "too many publications waiting for the bus"))
	}
}
