package natsbroker

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"

	"github.com/rtd-project/rtd/hub"
)

// Defaults applied by New to zero-valued Options fields.
const (
	DefaultStream      = "RTD"
	DefaultPrefix      = "rtd"
	DefaultHistorySize = hub.DefaultHistorySize
	DefaultHistoryTTL  = hub.DefaultHistoryTTL
	DefaultTimeout     = 2 * time.Second
)

// Options configures a Broker. The zero value of every field but URL means its
// default.
type Options struct {
	// URL is the NATS server to connect to: "nats://host:port", or several
	// comma-separated URLs of one NATS cluster. Required.
	URL string
	// Name names the connection on the NATS server (monitoring). Default none.
	Name string
	// NATS are further connection options: credentials (nats.UserCredentials,
	// nats.UserInfo, nats.Token), TLS (nats.RootCAs, nats.ClientCert) and the
	// like. Reconnect behaviour is the broker's own and is set after these.
	NATS []nats.Option

	// Stream is the JetStream stream holding every channel's history.
	// Default "RTD". Nodes that serve the same channels must share it.
	Stream string
	// Prefix starts every subject: channels are stored on PREFIX.ch.<name>
	// and fanned out on PREFIX.live.<name>. Default "rtd".
	Prefix string
	// HistorySize is the stream's limit of publications per channel
	// (MaxMsgsPerSubject): the most any namespace retains. Default 100;
	// negative: unlimited.
	HistorySize int
	// HistoryTTL is the stream's limit of age (MaxAge): the longest any
	// namespace retains. Default 5 minutes; negative: unlimited.
	HistoryTTL time.Duration
	// Memory keeps the stream in the NATS server's memory rather than on
	// disk: history is lost when the NATS server restarts.
	Memory bool
	// Replicas is how many servers of a NATS cluster hold the stream and the
	// presence buckets (at most 5). Default 1; 3 survives the loss of a NATS
	// server.
	Replicas int
	// Timeout bounds every request to the bus. Default 2 s.
	Timeout time.Duration
	// RetryOnFailedConnect lets New return when NATS cannot be reached yet:
	// the broker keeps connecting in the background and is unhealthy (every
	// Publish and Subscribe fails) until it has connected and set up the
	// stream. Without it New fails when NATS is away.
	RetryOnFailedConnect bool
	// OnHealth, when set, is called each time Healthy changes, with the
	// reason when it turns false (a log line, say). It runs on a goroutine of
	// the broker's with the broker's lock held: it must be quick and must
	// not call the broker.
	OnHealth func(healthy bool, reason error)
}

// Broker is a hub.Broker on NATS: publications are stored in one JetStream
// stream, which republishes each stored one on a per-channel core subject that
// the nodes with subscribers listen to.
type Broker struct {
	o       Options
	nc      *nats.Conn
	js      jetstream.JetStream
	node    string // this node's ID in the cluster view (presence, stats)
	epoch   atomic.Pointer[string]
	perSubj int64 // the stream's MaxMsgsPerSubject (-1: unlimited)

	ready  atomic.Bool   // connected and the stream set up
	kick   chan struct{} // (re)connected: set the stream up (capacity 1)
	closed chan struct{}

	mu        sync.Mutex
	reconnect func()
	reason    error // why the broker is not ready
	closeOnce sync.Once

	relay relayState // operations from the other nodes (relay.go)
}

// New connects to NATS, creates or updates the stream and returns the broker.
// Unless Options.RetryOnFailedConnect is set the NATS server must be
// reachable now; afterwards the broker reconnects for ever, and Publish fails
// while the bus is away.
func New(o Options) (*Broker, error) {
	if o.URL == "" {
		return nil, fmt.Errorf("%w: URL is required", ErrInvalidOptions)
	}
	if o.Stream == "" {
		o.Stream = DefaultStream
	}
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if !validToken(o.Stream) || !validToken(o.Prefix) {
		return nil, fmt.Errorf("%w: Stream and Prefix must be plain subject tokens", ErrInvalidOptions)
	}
	switch {
	case o.HistorySize == 0:
		o.HistorySize = DefaultHistorySize
	case o.HistorySize < 0:
		o.HistorySize = -1
	}
	switch {
	case o.HistoryTTL == 0:
		o.HistoryTTL = DefaultHistoryTTL
	case o.HistoryTTL < 0:
		o.HistoryTTL = 0
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Replicas > 5 || o.Replicas < 0 {
		return nil, fmt.Errorf("%w: Replicas %d (1 to 5)", ErrInvalidOptions, o.Replicas)
	}
	o.Replicas = max(o.Replicas, 1)
	b := &Broker{
		o:       o,
		node:    nuid.Next(),
		perSubj: int64(o.HistorySize),
		kick:    make(chan struct{}, 1),
		closed:  make(chan struct{}),
		reason:  errConnecting,
	}
	opts := append([]nats.Option{nats.Name(o.Name)}, o.NATS...)
	opts = append(opts,
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250*time.Millisecond),
		// Nothing is buffered while the connection is down: a publication
		// is either acknowledged by the stream or refused at once.
		nats.ReconnectBufSize(-1),
		nats.RetryOnFailedConnect(o.RetryOnFailedConnect),
		// With RetryOnFailedConnect a first connection that comes late is
		// reported to the ConnectHandler.
		nats.ConnectHandler(func(*nats.Conn) { b.connected() }),
		nats.ReconnectHandler(func(*nats.Conn) { b.connected() }),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) { b.disconnected(err) }),
	)
	nc, err := nats.Connect(o.URL, opts...)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", hub.ErrBrokerUnavailable, err)
	}
	b.nc = nc
	if b.js, err = jetstream.New(nc); err != nil {
		nc.Close()
		return nil, err
	}
	if nc.IsConnected() {
		err := b.ensureStream()
		if err != nil && !o.RetryOnFailedConnect {
			nc.Close()
			return nil, err
		}
		if err == nil {
			b.setHealth(true, nil)
		} else {
			b.setHealth(false, err)
			b.connected()
		}
	}
	go b.keep()
	return b, nil
}

var (
	errConnecting   = errors.New("connecting to NATS")
	errDisconnected = errors.New("disconnected from NATS")
)

// connected asks the keeper to set the stream up (again).
func (b *Broker) connected() {
	select {
	case b.kick <- struct{}{}:
	default:
	}
}

func (b *Broker) disconnected(err error) {
	if err != nil {
		err = fmt.Errorf("%w: %w", errDisconnected, err)
	} else {
		err = errDisconnected
	}
	b.setHealth(false, err)
}

// keep sets the stream up after each (re)connection, retrying until it works
// (a NATS server that restarts answers JetStream requests only once it has
// recovered its streams), then lets the hub catch up.
func (b *Broker) keep() {
	for {
		select {
		case <-b.closed:
			return
		case <-b.kick:
		}
		backoff := 50 * time.Millisecond
		for b.nc.IsConnected() {
			err := b.ensureStream()
			if err == nil {
				b.setHealth(true, nil)
				b.mu.Lock()
				f := b.reconnect
				b.mu.Unlock()
				if f != nil {
					f()
				}
				break
			}
			b.setHealth(false, err)
			t := time.NewTimer(backoff)
			select {
			case <-b.closed:
				t.Stop()
				return
			case <-t.C:
			}
			backoff = min(2*backoff, time.Second)
		}
	}
}

// setHealth records the broker's state and reports a change to OnHealth (in
// order: under the lock).
func (b *Broker) setHealth(ok bool, reason error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.reason = reason
	if b.ready.Swap(ok) != ok && b.o.OnHealth != nil {
		b.o.OnHealth(ok, reason)
	}
}

// validToken reports whether s is one non-empty subject token without
// wildcards.
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '.' || c == '*' || c == '>' || c <= ' ' || c == 0x7f:
			return false
		}
	}
	return true
}

// ensureStream creates the stream or brings its limits up to date, and reads
// its epoch.
func (b *Broker) ensureStream() error {
	ctx, cancel := context.WithTimeout(context.Background(), b.o.Timeout)
	defer cancel()
	cfg := jetstream.StreamConfig{
		Name:              b.o.Stream,
		Subjects:          []string{b.o.Prefix + ".ch.>"},
		MaxMsgsPerSubject: b.perSubj,
		MaxAge:            b.o.HistoryTTL,
		Discard:           jetstream.DiscardOld,
		Storage:           jetstream.FileStorage,
		AllowDirect:       true,
		Replicas:          b.o.Replicas,
		RePublish:         &jetstream.RePublish{Source: b.o.Prefix + ".ch.>", Destination: b.o.Prefix + ".live.>"},
	}
	if b.o.Memory {
		cfg.Storage = jetstream.MemoryStorage
	}
	s, err := b.js.CreateOrUpdateStream(ctx, cfg)
	if err != nil {
		return fmt.Errorf("%w: stream %s: %w", hub.ErrBrokerUnavailable, b.o.Stream, err)
	}
	b.setEpoch(s.CachedInfo())
	return nil
}

// setEpoch derives the epoch from the stream's creation time: a stream that
// was deleted and created again (its history lost) has a new one.
func (b *Broker) setEpoch(info *jetstream.StreamInfo) string {
	e := strconv.FormatInt(info.Created.UnixNano(), 36)
	b.epoch.Store(&e)
	return e
}

// Epoch returns the stream's epoch as last seen ("" before the broker first
// reached the stream).
func (b *Broker) Epoch() string {
	if e := b.epoch.Load(); e != nil {
		return *e
	}
	return ""
}

// Close closes the NATS connection.
func (b *Broker) Close() {
	b.closeOnce.Do(func() { close(b.closed) })
	b.nc.Close()
}

// Subject returns the subject channel is stored on. Channel names are
// base64url-encoded (no padding), so no name can add tokens, wildcards or
// whitespace to a subject.
func (b *Broker) Subject(channel string) string { return b.subject(".ch.", channel) }

func (b *Broker) subject(kind, channel string) string {
	enc := base64.RawURLEncoding
	buf := make([]byte, 0, len(b.o.Prefix)+len(kind)+enc.EncodedLen(len(channel)))
	buf = append(buf, b.o.Prefix...)
	buf = append(buf, kind...)
	buf = enc.AppendEncode(buf, []byte(channel))
	return string(buf)
}

// Headers carrying the publication's fields beside its data.
const (
	hdrEvent = "Rtd-Event"
	hdrID    = "Rtd-Id"
	hdrTime  = "Rtd-Time"
)

// Healthy implements hub.Broker: the connection to NATS is up and the stream
// is set up.
func (b *Broker) Healthy() bool { return b.ready.Load() && b.nc.IsConnected() }

// Status returns nil when the broker is healthy, or why it is not.
func (b *Broker) Status() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case !b.ready.Load() && b.reason != nil:
		return b.reason
	case !b.nc.IsConnected():
		return fmt.Errorf("%w (%s)", errDisconnected, b.nc.Status())
	}
	return nil
}

// Node returns this broker's node ID: the name its shares of presence and
// stats go under.
func (b *Broker) Node() string { return b.node }

// OnReconnect implements hub.Broker.
func (b *Broker) OnReconnect(f func()) {
	b.mu.Lock()
	b.reconnect = f
	b.mu.Unlock()
}

// Publish implements hub.Broker: the publication is stored in the stream,
// and its position is the stream sequence the acknowledgement carries.
func (b *Broker) Publish(channel string, p *hub.Publication) (hub.Position, error) {
	if err := b.Status(); err != nil {
		return hub.Position{}, fmt.Errorf("%w: %w", hub.ErrBrokerUnavailable, err)
	}
	m := nats.NewMsg(b.Subject(channel))
	if p.Event != "" {
		m.Header.Set(hdrEvent, p.Event)
	}
	if p.ID != "" {
		m.Header.Set(hdrID, p.ID)
	}
	m.Header.Set(hdrTime, strconv.FormatInt(time.Now().UnixMilli(), 10))
	m.Data = p.Data
	ctx, cancel := context.WithTimeout(context.Background(), b.o.Timeout)
	defer cancel()
	ack, err := b.js.PublishMsg(ctx, m, jetstream.WithExpectStream(b.o.Stream))
	if err != nil {
		if errors.Is(err, nats.ErrNoResponders) || errors.Is(err, jetstream.ErrNoStreamResponse) {
			// Connected, but JetStream is not answering (a NATS server
			// still recovering its store): not ready until the stream is
			// set up again.
			b.setHealth(false, err)
			b.connected()
		}
		return hub.Position{}, fmt.Errorf("%w: %w", hub.ErrBrokerUnavailable, err)
	}
	return hub.Position{Epoch: b.Epoch(), Offset: ack.Sequence}, nil
}

// Subscribe implements hub.Broker: a core NATS subscription to the channel's
// republished subject, registered on the server before Subscribe returns.
func (b *Broker) Subscribe(channel string, deliver func(hub.BrokerMessage)) (hub.BrokerSubscription, error) {
	if err := b.Status(); err != nil {
		return nil, fmt.Errorf("%w: %w", hub.ErrBrokerUnavailable, err)
	}
	sub, err := b.nc.Subscribe(b.subject(".live.", channel), func(m *nats.Msg) {
		bm, err := b.decodeLive(channel, m)
		if err == nil {
			deliver(bm)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", hub.ErrBrokerUnavailable, err)
	}
	// A slow node must not have the client library drop publications
	// silently; a gap would be caught up, but memory is cheaper here.
	_ = sub.SetPendingLimits(-1, -1)
	if err := b.nc.FlushTimeout(b.o.Timeout); err != nil {
		_ = sub.Unsubscribe()
		return nil, fmt.Errorf("%w: %w", hub.ErrBrokerUnavailable, err)
	}
	return subscription{sub}, nil
}

type subscription struct{ s *nats.Subscription }

func (s subscription) Unsubscribe() { _ = s.s.Unsubscribe() }

// decodeLive reads a republished publication: the stream adds its sequence
// and the channel's previous sequence as headers.
func (b *Broker) decodeLive(channel string, m *nats.Msg) (hub.BrokerMessage, error) {
	seq, err := strconv.ParseUint(m.Header.Get(jetstream.SequenceHeader), 10, 64)
	if err != nil {
		return hub.BrokerMessage{}, errBadMessage
	}
	prev, err := strconv.ParseUint(m.Header.Get("Nats-Last-Sequence"), 10, 64)
	if err != nil {
		return hub.BrokerMessage{}, errBadMessage
	}
	bm := hub.BrokerMessage{Publication: publication(channel, m.Header, m.Data), Prev: prev}
	bm.Offset, bm.Epoch = seq, b.Epoch()
	if bm.Time == 0 {
		if ts, err := time.Parse(time.RFC3339Nano, m.Header.Get(jetstream.TimeStampHeaer)); err == nil {
			bm.Time = ts.UnixMilli()
		}
	}
	return bm, nil
}

var errBadMessage = errors.New("natsbroker: message without stream headers")

// publication rebuilds the fields a publisher set.
func publication(channel string, h nats.Header, data []byte) hub.Publication {
	p := hub.Publication{Channel: channel, Event: h.Get(hdrEvent), ID: h.Get(hdrID), Data: data}
	p.Time, _ = strconv.ParseInt(h.Get(hdrTime), 10, 64)
	return p
}

// Read implements hub.Broker. It reads the stream's state for the channel
// first, then the channel's retained publications after `after` through an
// ordered consumer.
//
// Floor: the stream drops a channel's publications oldest first (per-channel
// limit) and the whole stream's oldest first (age), so what it retains of a
// channel is always a suffix. Every dropped one is older than the oldest
// retained; and while the channel has fewer than the per-channel limit, none
// was dropped above the stream's first sequence (one dropped by the channel
// limit had that many newer ones, gone since only by age).
func (b *Broker) Read(channel string, after uint64) (hub.BrokerRead, error) {
	ctx, cancel := context.WithTimeout(context.Background(), b.o.Timeout)
	defer cancel()
	subj := b.Subject(channel)
	s, err := b.js.Stream(ctx, b.o.Stream)
	if err != nil {
		return hub.BrokerRead{}, fmt.Errorf("%w: %w", hub.ErrBrokerUnavailable, err)
	}
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(subj))
	if err != nil {
		return hub.BrokerRead{}, fmt.Errorf("%w: %w", hub.ErrBrokerUnavailable, err)
	}
	st := info.State
	rd := hub.BrokerRead{Epoch: b.setEpoch(info), Top: st.LastSeq}
	count := st.Subjects[subj]
	if st.FirstSeq > 0 {
		rd.Floor = st.FirstSeq - 1
	}
	if count == 0 || after >= st.LastSeq {
		return rd, nil
	}
	// At the per-channel limit the floor is the oldest retained publication:
	// read from there, whatever after says.
	trimmed := b.perSubj > 0 && count >= uint64(b.perSubj)
	start := max(after+1, st.FirstSeq)
	if trimmed {
		start = st.FirstSeq
	}
	cons, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{subj},
		DeliverPolicy:  jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:    start,
	})
	if err != nil {
		return hub.BrokerRead{}, fmt.Errorf("%w: %w", hub.ErrBrokerUnavailable, err)
	}
	for {
		batch, err := cons.FetchNoWait(256)
		if err != nil {
			return hub.BrokerRead{}, fmt.Errorf("%w: %w", hub.ErrBrokerUnavailable, err)
		}
		var pending uint64 = 1
		n := 0
		for m := range batch.Messages() {
			md, err := m.Metadata()
			if err != nil {
				continue
			}
			pending = md.NumPending
			n++
			if trimmed && n == 1 {
				rd.Floor = max(rd.Floor, md.Sequence.Stream-1)
			}
			if md.Sequence.Stream <= after {
				continue
			}
			p := publication(channel, m.Headers(), m.Data())
			p.Offset, p.Epoch = md.Sequence.Stream, rd.Epoch
			if p.Time == 0 {
				p.Time = md.Timestamp.UnixMilli()
			}
			rd.Publications = append(rd.Publications, p)
		}
		if err := batch.Error(); err != nil {
			return hub.BrokerRead{}, fmt.Errorf("%w: %w", hub.ErrBrokerUnavailable, err)
		}
		// What was stored after the stream state was read is read too, up
		// to the moment the consumer ran dry.
		if pending == 0 || n == 0 {
			break
		}
	}
	return rd, nil
}
