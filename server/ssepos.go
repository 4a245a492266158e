package server

import "github.com/rtd-project/rtd/hub"

// Event ids of streams on several channels. A stream's event id is what the
// client brings back as Last-Event-ID after a reconnect. With one channel it
// is that channel's position, "epoch:offset", which is part of the event
// encoded once for every subscriber. With several it must name a position in
// every channel, or the channels other than the last event's could not be
// resumed: such a stream writes each publication with an id of its own,
// "pos1,pos2,…" in the order it subscribed to the channels, and, so that the
// client can tell the channels apart, with the event data the Encoder makes
// for such streams (tagged), encoded once per publication and copied after
// the id into the loop's arena (no allocation per stream). ParseEventID
// (stream.go) reads both id forms back. The positions are tracked from Subscribe on, before any replay
// is written (replays are written from the inbox), so every event names all
// of them.

// Most streams have one channel and pay nothing for this: the loop remembers
// the position of the last stream that subscribed to its first channel
// (loop.firstSSE), which is all a second subscription made right after (in
// the same OnOpen) needs. Only then does the stream get its positions.

type streamPosition struct {
	channel string
	pos     hub.Position
}

var idField = []byte("id: ")

// firstSSE is a loop's record of the stream that last subscribed to its first
// channel, and where that stream is in it.
type firstSSE struct {
	st *Stream
	streamPosition
}

// trackPosition records that st, on l, has subscribed to channel at pos.
func (st *Stream) trackPosition(l *loop, channel string, pos hub.Position) {
	if e := st.ext.Load(); e != nil && len(e.positions) > 0 {
		e.positions = append(e.positions, streamPosition{channel, pos})
		return
	}
	if st.hc.Subscriptions() <= 1 {
		l.firstSSE = firstSSE{st, streamPosition{channel, pos}}
		return
	}
	// Positions from now on. The channels before this one: from the loop's
	// record, or, subscribed too long ago for it, at an unknown position (a
	// resume from it reports recovered:false).
	var ps []streamPosition
	if l.firstSSE.st == st {
		ps = append(ps, l.firstSSE.streamPosition)
	} else {
		for _, ch := range st.hc.Channels() {
			if ch != channel {
				ps = append(ps, streamPosition{channel: ch})
			}
		}
	}
	st.extension().positions = append(ps, streamPosition{channel, pos})
}

// untrackPosition forgets channel.
func (st *Stream) untrackPosition(channel string) {
	if e := st.ext.Load(); e != nil {
		for i, p := range e.positions {
			if p.channel == channel {
				e.positions = append(e.positions[:i], e.positions[i+1:]...)
				return
			}
		}
	}
}

// deliverSSE queues publication m on stream c: as encoded for everyone, or,
// on a stream of several channels, under an id naming all of them. A
// position moves only when the event is queued: one the slow-client policy
// dropped is not named as seen, so a resume recovers it.
func (l *loop) deliverSSE(c *conn, m *hub.Prepared, a admission) {
	at := hub.Position{Epoch: m.Epoch, Offset: m.Offset}
	e := c.sse.ext.Load()
	if e == nil || len(e.positions) < 2 || m.Offset == 0 {
		if !l.deliver(c, m.SSE, a) || m.Offset == 0 {
			return
		}
		switch {
		case e != nil && len(e.positions) == 1: // down to one channel
			e.positions[0].pos = at
		case l.firstSSE.st == c.sse:
			l.firstSSE.pos = at
		}
		return
	}
	var moved *streamPosition
	var was hub.Position
	for i := range e.positions {
		if p := &e.positions[i]; p.channel == m.Channel {
			moved, was, p.pos = p, p.pos, at
			break
		}
	}
	// The id line is the stream's own; the rest of the event (its name,
	// and data from which the client tells the channel) is encoded once
	// for every such stream.
	start := len(l.arena)
	l.arena = appendPositions(l.arena, e.positions)
	l.arena = append(l.arena, taggedEvent(m)...)
	if !l.deliver(c, l.arena[start:len(l.arena):len(l.arena)], a) && moved != nil {
		moved.pos = was
	}
}

// appendPositions appends an id line naming every position of ps.
func appendPositions(b []byte, ps []streamPosition) []byte {
	b = append(b, idField...)
	for i, p := range ps {
		if i > 0 {
			b = append(b, ',')
		}
		b = p.pos.AppendTo(b)
	}
	return append(b, '\n')
}

// pinPositions makes st track its position even on one channel (which
// most streams do not, see firstSSE), so that a notice written later names
// where the stream is then.
func (st *Stream) pinPositions(l *loop) {
	if e := st.ext.Load(); (e != nil && len(e.positions) > 0) || l.firstSSE.st != st {
		return
	}
	st.extension().positions = []streamPosition{l.firstSSE.streamPosition}
	l.firstSSE = firstSSE{}
}
