// rtd.js — the client of rtd's channel protocol, for browsers and Node.js >= 20.
//
// An ES module with no dependencies. `rtd serve` serves it at GET /rtd.js:
//
//   import { Client } from "https://rt.example.com/rtd.js";
//   const client = new Client("wss://rt.example.com/ws", { getToken });
//   const sub = client.newSubscription("news");
//   sub.on("publication", (p) => console.log(p.offset, p.data));
//   sub.subscribe();
//   client.connect();
//
// The client reconnects by itself (exponential backoff with jitter) after any drop whose
// close code permits it, and every subscription resumes from its last position with
// `since`: the application sees each publication once and in order, or a `subscribed`
// event with `recovered: false` when history could not fill the gap. When WebSocket
// cannot connect at all, subscriptions fall back to SSE (/sse, resumed by position).
// Protocol reference: README.md of rtd ("A 30-second tour").

/** Error codes of the channel protocol ({"error":{"code":…,"message":…}}). */
export const ErrorCode = Object.freeze({
  BadRequest: 100,
  UnknownOp: 101,
  PermissionDenied: 103,
  InvalidChannel: 104,
  AlreadySubscribed: 105,
  NotSubscribed: 106,
  LimitExceeded: 107,
  Unavailable: 108,
  TokenInvalid: 109,
  Internal: 110,
  InvalidPosition: 111,
  BrokerUnavailable: 112,
});

/** WebSocket close codes rtd uses. */
export const CloseCode = Object.freeze({
  Normal: 1000,
  GoingAway: 1001,
  Abnormal: 1006,
  Policy: 1008,
  TooBig: 1009,
  TryAgainLater: 1013,
  TokenExpired: 3000,
});

/** The base of every error rtd.js reports; code is the protocol's code (0: client-side). */
export class RtdError extends Error {
  constructor(code, message) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

export class BadRequestError extends RtdError {}
export class UnknownOpError extends RtdError {}
export class PermissionDeniedError extends RtdError {}
export class InvalidChannelError extends RtdError {}
export class AlreadySubscribedError extends RtdError {}
export class NotSubscribedError extends RtdError {}
export class LimitExceededError extends RtdError {}
export class UnavailableError extends RtdError {}
export class TokenInvalidError extends RtdError {}
export class InternalError extends RtdError {}
export class InvalidPositionError extends RtdError {}
export class BrokerUnavailableError extends RtdError {}
/** A command not answered within the client's timeout. */
export class TimeoutError extends RtdError {
  constructor(message = 'timeout') { super(0, message); }
}
/** A command that cannot be answered: the client is disconnected, or the connection dropped. */
export class DisconnectedError extends RtdError {
  constructor(message = 'disconnected') { super(0, message); }
}
/** A command that the current transport cannot carry (SSE carries publications only). */
export class TransportError extends RtdError {
  constructor(message) { super(0, message); }
}

const errorClasses = {
  100: BadRequestError,
  101: UnknownOpError,
  103: PermissionDeniedError,
  104: InvalidChannelError,
  105: AlreadySubscribedError,
  106: NotSubscribedError,
  107: LimitExceededError,
  108: UnavailableError,
  109: TokenInvalidError,
  110: InternalError,
  111: InvalidPositionError,
  112: BrokerUnavailableError,
};

/** errorFromReply turns a reply's {code, message} into the typed error of its code. */
export function errorFromReply(e) {
  const code = Number(e?.code ?? 0);
  const Cls = errorClasses[code] ?? RtdError;
  return new Cls(code, String(e?.message ?? `error ${code}`));
}

/** A small event emitter: on, once, off, and emit (a listener that throws is reported, not fatal). */
class Emitter {
  #listeners = new Map();

  on(event, fn) {
    if (!this.#listeners.has(event)) this.#listeners.set(event, new Set());
    this.#listeners.get(event).add(fn);
    return this;
  }

  once(event, fn) {
    const wrapped = (...args) => { this.off(event, wrapped); fn(...args); };
    return this.on(event, wrapped);
  }

  off(event, fn) {
    if (fn === undefined) this.#listeners.delete(event);
    else this.#listeners.get(event)?.delete(fn);
    return this;
  }

  emit(event, ...args) {
    for (const fn of [...(this.#listeners.get(event) ?? [])]) {
      try {
        fn(...args);
      } catch (e) {
        setTimeout(() => { throw e; });
      }
    }
  }
}

/** parsePosition reads "epoch:offset"; null for anything else. */
function parsePosition(s) {
  if (typeof s !== 'string') return null;
  const i = s.lastIndexOf(':');
  if (i <= 0) return null;
  const offset = Number(s.slice(i + 1));
  if (!Number.isSafeInteger(offset) || offset < 0) return null;
  return { epoch: s.slice(0, i), offset };
}

function positionString(p) {
  return p ? `${p.epoch}:${p.offset}` : undefined;
}

/** tokenExpiry returns a JWT's exp in milliseconds (no verification), or 0 when it has none. */
function tokenExpiry(token) {
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const json = JSON.parse(atob(part + '='.repeat((4 - (part.length % 4)) % 4)));
    return typeof json.exp === 'number' ? json.exp * 1000 : 0;
  } catch {
    return 0;
  }
}

/** withQuery returns url with the query parameters of params added. */
function withQuery(url, params) {
  const u = new URL(url);
  for (const [k, v] of params) if (v !== undefined && v !== '') u.searchParams.append(k, v);
  return u.toString();
}

/** sseURLOf derives the /sse endpoint from the /ws one (ws→http, wss→https, …/ws → …/sse). */
function sseURLOf(wsURL) {
  const u = new URL(wsURL);
  u.protocol = u.protocol === 'wss:' ? 'https:' : u.protocol === 'ws:' ? 'http:' : u.protocol;
  u.pathname = u.pathname.replace(/\/ws$/, '') + '/sse';
  u.search = '';
  return u.toString();
}

/**
 * Client is one connection to rtd: the WebSocket channel protocol, or SSE streams when
 * WebSocket cannot connect. Events: connecting ({code, reason}), connected ({transport}),
 * disconnected ({code, reason}), error ({type, error}), message (a server push with no
 * channel, from /api/send or /api/broadcast).
 */
export class Client extends Emitter {
  #url;
  #opts;
  #ws = null;
  #transport = null; // 'websocket' | 'sse' while connected
  #token;
  #nextId = 1;
  #pending = new Map(); // id → {done, timer}
  #queue = []; // commands waiting for the connection: {frame, id}
  #subs = new Map(); // channel → Subscription
  #attempt = 0;
  #reconnectTimer = null;
  #refreshTimer = null;
  #epoch = 0; // bumped on every (dis)connect, so stale callbacks know they are stale

  /** @type {'disconnected'|'connecting'|'connected'} */
  state = 'disconnected';

  constructor(url, opts = {}) {
    super();
    this.#url = url;
    this.#opts = {
      token: undefined,
      getToken: undefined,
      websocket: undefined,
      minReconnectDelay: 500,
      maxReconnectDelay: 20000,
      timeout: 5000,
      sse: true,
      sseUrl: undefined,
      fetch: undefined,
      ...opts,
    };
    this.#token = this.#opts.token;
  }

  /** The transport in use while connected: 'websocket' or 'sse'. */
  get transport() { return this.#transport; }

  /** connect starts connecting (and reconnecting after drops) until disconnect. */
  connect() {
    if (this.state !== 'disconnected') return;
    this.#setState('connecting');
    this.emit('connecting', { code: 0, reason: 'connect called' });
    this.#attempt = 0;
    this.#open();
  }

  /** disconnect closes the connection and stops reconnecting. */
  disconnect() {
    if (this.state === 'disconnected') return;
    this.#teardown();
    this.#finish(CloseCode.Normal, 'disconnect called');
  }

  /** newSubscription makes the subscription to channel (one per channel and client). */
  newSubscription(channel, opts = {}) {
    if (this.#subs.has(channel)) throw new AlreadySubscribedError(105, `a subscription to ${channel} exists`);
    const sub = new Subscription(this, channel, opts, {
      subscribe: (s) => this.#subscribe(s),
      unsubscribe: (s) => this.#unsubscribe(s),
      remove: (s) => this.#subs.delete(s.channel),
    });
    this.#subs.set(channel, sub);
    return sub;
  }

  /** getSubscription returns the subscription to channel, if any. */
  getSubscription(channel) { return this.#subs.get(channel) ?? null; }

  /** removeSubscription unsubscribes and forgets sub. */
  removeSubscription(sub) {
    if (!sub) return;
    sub.unsubscribe();
    this.#subs.delete(sub.channel);
  }

  publish(channel, data, opts = {}) {
    return this.command('publish', { channel, data, event: opts.event });
  }

  presence(channel) {
    return this.command('presence', { channel });
  }

  history(channel, opts = {}) {
    return this.command('history', { channel, since: opts.since, limit: opts.limit });
  }

  ping() {
    return this.command('ping', {});
  }

  /**
   * command sends one command of the channel protocol ({"id":N,"op":op,…fields}) and
   * resolves with its reply, or rejects with the typed error of its code, a TimeoutError,
   * or a DisconnectedError. Commands made while connecting wait for the connection.
   */
  command(op, fields = {}) {
    return new Promise((resolve, reject) => {
      this.#send(op, fields, (err, reply) => (err ? reject(err) : resolve(reply)));
    });
  }

  /**
   * send sends a command and calls done(err, reply) exactly once. done runs synchronously
   * when the reply is read, before the messages after it (a subscribe's reply must be
   * handled before the publications it recovers).
   */
  #send(op, fields, done) {
    if (this.state === 'disconnected') return done(new DisconnectedError('client is disconnected'));
    if (this.#transport === 'sse') return done(new TransportError(`${op} needs the WebSocket transport; connected over SSE`));
    const id = this.#nextId++;
    const frame = JSON.stringify({ id, op, ...fields });
    const timer = setTimeout(() => {
      this.#pending.delete(id);
      this.#queue = this.#queue.filter((q) => q.id !== id);
      done(new TimeoutError(`${op}: no reply within ${this.#opts.timeout} ms`));
    }, this.#opts.timeout);
    this.#pending.set(id, { done, timer });
    if (this.state === 'connected' && this.#ws) this.#ws.send(frame);
    else this.#queue.push({ id, frame });
  }

  // ---- connection ----

  #setState(s) { this.state = s; }

  async #open() {
    const epoch = ++this.#epoch;
    try {
      if (this.#opts.getToken && (!this.#token || this.#expiresSoon(this.#token))) {
        this.#token = await this.#opts.getToken();
      }
    } catch (e) {
      if (epoch !== this.#epoch) return;
      this.emit('error', { type: 'token', error: e });
      this.#scheduleReconnect(0, 'getToken failed');
      return;
    }
    if (epoch !== this.#epoch) return;
    const WS = this.#opts.websocket ?? globalThis.WebSocket;
    if (!WS) {
      this.#openSSE(epoch, 0, 'no WebSocket implementation');
      return;
    }
    let ws;
    try {
      ws = new WS(withQuery(this.#url, [['token', this.#token]]));
    } catch (e) {
      this.emit('error', { type: 'transport', error: e });
      this.#openSSE(epoch, CloseCode.Abnormal, String(e?.message ?? e));
      return;
    }
    this.#ws = ws;
    let opened = false;
    ws.onopen = () => {
      if (epoch !== this.#epoch) return;
      opened = true;
      this.#onConnected('websocket');
    };
    ws.onmessage = (ev) => {
      if (epoch !== this.#epoch) return;
      this.#onMessage(typeof ev.data === 'string' ? ev.data : String(ev.data));
    };
    ws.onerror = () => {};
    ws.onclose = (ev) => {
      if (epoch !== this.#epoch) return;
      this.#ws = null;
      if (!opened) {
        // WebSocket could not connect: SSE may (a proxy that refuses upgrades).
        this.#openSSE(epoch, ev.code, ev.reason);
        return;
      }
      this.#onDropped(ev.code, ev.reason);
    };
  }

  #expiresSoon(token) {
    const exp = tokenExpiry(token);
    return exp !== 0 && exp - Date.now() < 1000;
  }

  #onConnected(transport) {
    this.#transport = transport;
    this.#attempt = 0;
    this.#setState('connected');
    this.emit('connected', { transport });
    if (transport === 'websocket') {
      for (const q of this.#queue.splice(0)) this.#ws.send(q.frame);
      this.#scheduleRefresh();
    } else {
      for (const q of this.#queue.splice(0)) this.#rejectPending(q.id, new TransportError('connected over SSE'));
    }
    for (const sub of this.#subs.values()) {
      if (sub.state === 'subscribing' || sub.state === 'subscribed') this.#subscribe(sub);
    }
  }

  /** onDropped handles a connection lost after it was up: reconnect unless the code forbids. */
  #onDropped(code, reason) {
    const epoch = ++this.#epoch;
    this.#teardown(epoch);
    if (code === CloseCode.Policy) {
      this.#finish(code, reason);
      return;
    }
    if (code === CloseCode.TokenExpired) {
      if (!this.#opts.getToken) {
        this.#finish(code, reason);
        return;
      }
      this.#token = undefined; // ask getToken again
    }
    this.#scheduleReconnect(code, reason);
  }

  #scheduleReconnect(code, reason) {
    this.#setState('connecting');
    for (const sub of this.#subs.values()) sub._interrupted();
    this.emit('connecting', { code, reason });
    const { minReconnectDelay: min, maxReconnectDelay: max } = this.#opts;
    const ceiling = Math.min(max, min * 2 ** Math.min(this.#attempt, 30));
    const delay = ceiling / 2 + Math.random() * (ceiling / 2); // "equal jitter"
    this.#attempt++;
    clearTimeout(this.#reconnectTimer);
    const epoch = this.#epoch;
    this.#reconnectTimer = setTimeout(() => {
      if (epoch === this.#epoch && this.state === 'connecting') this.#open();
    }, delay);
  }

  /** teardown closes the transport and fails the commands in flight. */
  #teardown(epoch = ++this.#epoch) {
    this.#epoch = epoch;
    clearTimeout(this.#reconnectTimer);
    clearTimeout(this.#refreshTimer);
    if (this.#ws) {
      const ws = this.#ws;
      this.#ws = null;
      ws.onopen = ws.onmessage = ws.onclose = null;
      ws.onerror = () => {};
      try { ws.close(1000); } catch { /* already closed */ }
    }
    for (const sub of this.#subs.values()) sub._closeSSE();
    this.#transport = null;
    for (const id of [...this.#pending.keys()]) this.#rejectPending(id, new DisconnectedError('connection lost'));
    this.#queue = [];
  }

  #finish(code, reason) {
    this.#setState('disconnected');
    for (const sub of this.#subs.values()) sub._interrupted();
    this.emit('disconnected', { code, reason });
  }

  #rejectPending(id, err) {
    const p = this.#pending.get(id);
    if (!p) return;
    this.#pending.delete(id);
    clearTimeout(p.timer);
    p.done(err);
  }

  // ---- token refresh ----

  #scheduleRefresh() {
    clearTimeout(this.#refreshTimer);
    if (!this.#opts.getToken || !this.#token) return;
    const exp = tokenExpiry(this.#token);
    if (!exp) return;
    const left = exp - Date.now();
    const delay = Math.max(0, Math.min(left * 0.75, left - 1000));
    const epoch = this.#epoch;
    this.#refreshTimer = setTimeout(() => { if (epoch === this.#epoch) this.#refresh(); }, delay);
  }

  async #refresh() {
    const epoch = this.#epoch;
    let token;
    try {
      token = await this.#opts.getToken();
    } catch (e) {
      this.emit('error', { type: 'refresh', error: e });
      return; // the server closes with 3000 at expiry; the reconnect asks again
    }
    if (epoch !== this.#epoch) return;
    this.#token = token;
    try {
      await this.command('refresh', { token });
      this.emit('refreshed', { expires: tokenExpiry(token) || undefined });
      this.#scheduleRefresh();
    } catch (e) {
      this.emit('error', { type: 'refresh', error: e });
    }
  }

  // ---- messages ----

  #onMessage(text) {
    let m;
    try {
      m = JSON.parse(text);
    } catch {
      this.emit('error', { type: 'protocol', error: new RtdError(0, 'a message that is not JSON') });
      return;
    }
    if (m.id !== undefined && m.id !== null) {
      const p = this.#pending.get(m.id);
      if (!p) return;
      this.#pending.delete(m.id);
      clearTimeout(p.timer);
      if (m.error) p.done(errorFromReply(m.error));
      else p.done(null, m);
      return;
    }
    if (m.error) {
      this.emit('error', { type: 'protocol', error: errorFromReply(m.error) });
      return;
    }
    if (m.op === 'pong') return;
    const sub = typeof m.channel === 'string' ? this.#subs.get(m.channel) : undefined;
    if (m.op === 'unsubscribed') {
      sub?._revoked(m.code, m.reason);
      return;
    }
    if (m.channel === undefined) {
      this.emit('message', m);
      return;
    }
    if (!sub) return;
    if (m.join) sub.emit('join', { channel: m.channel, info: m.join });
    else if (m.leave) sub.emit('leave', { channel: m.channel, info: m.leave });
    else sub._publication(m);
  }

  // ---- subscriptions ----

  #subscribe(sub) {
    if (this.state !== 'connected') return; // subscribed when the connection is up
    if (this.#transport === 'sse') {
      if (!sub._streaming()) sub._openSSE(this.#sseStream());
      return;
    }
    const since = sub._since();
    const gen = sub._generation;
    this.#send('subscribe', { channel: sub.channel, since }, (err, reply) => {
      if (err) sub._failed(gen, err);
      else sub._subscribed(gen, reply, since !== undefined);
    });
  }

  #unsubscribe(sub) {
    sub._closeSSE();
    if (this.state === 'connected' && this.#transport === 'websocket') {
      this.#send('unsubscribe', { channel: sub.channel }, () => {});
    }
  }

  // ---- SSE fallback ----

  #openSSE(epoch, code, reason) {
    if (!this.#opts.sse || typeof (this.#opts.fetch ?? globalThis.fetch) !== 'function') {
      this.#scheduleReconnect(code, reason);
      return;
    }
    // The first subscription's stream is the probe: when it opens, SSE works.
    const subs = [...this.#subs.values()].filter((s) => s.state === 'subscribing' || s.state === 'subscribed');
    if (subs.length === 0) {
      // Nothing to stream: connected over SSE as far as the application can tell.
      this.#onConnected('sse');
      return;
    }
    const stream = this.#sseStream();
    let settled = false;
    const first = subs[0];
    first._openSSE(stream, (ok) => {
      if (settled || epoch !== this.#epoch) return;
      settled = true;
      if (ok) this.#onConnected('sse'); // subscribes the others (first is already open)
      else this.#scheduleReconnect(code || CloseCode.Abnormal, reason || 'WebSocket and SSE failed');
    });
  }

  /** sseStream is what a subscription needs to stream its channel over SSE. */
  #sseStream() {
    const epoch = this.#epoch;
    return {
      url: this.#opts.sseUrl ?? sseURLOf(this.#url),
      token: this.#token,
      fetch: this.#opts.fetch ?? globalThis.fetch.bind(globalThis),
      // A stream that ends: the connection is lost (the server ended it, or the network).
      dropped: (reason) => {
        if (epoch === this.#epoch && this.state === 'connected') this.#onDropped(CloseCode.Abnormal, reason);
      },
    };
  }
}

/**
 * Subscription is the client's subscription to one channel. Events: subscribing,
 * subscribed ({channel, recovered, position, transport}), publication ({channel, data,
 * event, offset, epoch}), unsubscribed ({channel, code, reason}), error ({channel, error}),
 * join and leave ({channel, info}).
 */
export class Subscription extends Emitter {
  #client;
  #hooks;
  #pos = null; // the position of the last publication delivered (or where to resume)
  #sse = null; // AbortController of the SSE stream
  _generation = 0;

  /** @type {'unsubscribed'|'subscribing'|'subscribed'} */
  state = 'unsubscribed';

  constructor(client, channel, opts, hooks) {
    super();
    this.#client = client;
    this.#hooks = hooks;
    this.channel = channel;
    if (opts.since !== undefined) {
      this.#pos = typeof opts.since === 'string' ? parsePosition(opts.since) : opts.since;
      if (!this.#pos) throw new InvalidPositionError(111, `invalid position ${JSON.stringify(opts.since)}`);
    }
  }

  /** The position of the last publication delivered, "epoch:offset" (where a resume starts). */
  get position() { return positionString(this.#pos); }

  subscribe() {
    if (this.state !== 'unsubscribed') return;
    this.state = 'subscribing';
    this._generation++;
    this.emit('subscribing', { channel: this.channel });
    this.#hooks.subscribe(this);
  }

  unsubscribe() {
    if (this.state === 'unsubscribed') return;
    this._generation++;
    const was = this.state;
    this.state = 'unsubscribed';
    if (was === 'subscribed') this.#hooks.unsubscribe(this);
    else this._closeSSE();
    this.emit('unsubscribed', { channel: this.channel, code: 0, reason: 'unsubscribe called' });
  }

  /** publish, presence and history on this subscription's channel. */
  publish(data, opts) { return this.#client.publish(this.channel, data, opts); }
  presence() { return this.#client.presence(this.channel); }
  history(opts) { return this.#client.history(this.channel, opts); }

  // ---- called by Client ----

  _since() { return positionString(this.#pos); }

  _subscribed(gen, reply, resumed) {
    if (this.state === 'unsubscribed' && gen === this._generation - 1) {
      this.#hooks.unsubscribe(this); // unsubscribed while the subscribe was in flight
      return;
    }
    if (gen !== this._generation || this.state === 'unsubscribed') return;
    const recovered = resumed ? reply.recovered === true : false;
    if (!recovered) this.#pos = parsePosition(reply.position) ?? this.#pos;
    this.state = 'subscribed';
    this.emit('subscribed', { channel: this.channel, recovered, position: this.position, transport: 'websocket' });
  }

  _failed(gen, err) {
    if (gen !== this._generation || this.state === 'unsubscribed') return;
    if (err instanceof DisconnectedError) return; // resubscribed on the next connection
    this.emit('error', { channel: this.channel, error: err });
    if (err instanceof TimeoutError || err instanceof BrokerUnavailableError) {
      // Transient: ask again while the connection lasts.
      setTimeout(() => { if (gen === this._generation && this.state === 'subscribing') this.#hooks.subscribe(this); }, 1000);
      return;
    }
    this._generation++;
    this.state = 'unsubscribed';
    this.emit('unsubscribed', { channel: this.channel, code: err.code, reason: err.message });
  }

  _publication(m) {
    if (this.state !== 'subscribed') return;
    if (typeof m.offset === 'number' && m.offset > 0) {
      if (this.#pos && this.#pos.epoch === m.epoch && m.offset <= this.#pos.offset) return; // seen
      this.#pos = { epoch: m.epoch, offset: m.offset };
    }
    this.emit('publication', { channel: this.channel, data: m.data, event: m.event, offset: m.offset, epoch: m.epoch });
  }

  _revoked(code, reason) {
    if (this.state === 'unsubscribed') return;
    this._generation++;
    this.state = 'unsubscribed';
    this.emit('unsubscribed', { channel: this.channel, code, reason });
  }

  _interrupted() {
    this._closeSSE();
    if (this.state === 'subscribed') {
      this.state = 'subscribing';
      this.emit('subscribing', { channel: this.channel });
    }
  }

  _streaming() { return this.#sse !== null; }

  _closeSSE() {
    if (this.#sse) {
      this.#sse.abort();
      this.#sse = null;
    }
  }

  /**
   * _openSSE streams the channel from /sse, resuming from the last position (the
   * lastEventId query parameter, which rtd reads as Last-Event-ID). opened(ok) reports
   * whether the stream started.
   */
  _openSSE(stream, opened = () => {}) {
    this._closeSSE();
    const ac = new AbortController();
    this.#sse = ac;
    const gen = this._generation;
    const since = this._since();
    const url = withQuery(stream.url, [['channel', this.channel], ['token', stream.token], ['lastEventId', since]]);
    const live = () => gen === this._generation && this.#sse === ac;
    (async () => {
      let res;
      try {
        res = await stream.fetch(url, { headers: { Accept: 'text/event-stream' }, signal: ac.signal, cache: 'no-store' });
      } catch (e) {
        if (live()) opened(false);
        return;
      }
      if (!live()) return;
      if (!res.ok || !res.body) {
        opened(false);
        const body = await res.text().catch(() => '');
        if (live()) this.emit('error', { channel: this.channel, error: new RtdError(res.status, `SSE ${res.status}: ${body}`) });
        return;
      }
      opened(true);
      this.state = 'subscribed';
      this.emit('subscribed', { channel: this.channel, recovered: since !== undefined, position: this.position, transport: 'sse' });
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = '';
      let ev = { event: '', data: [], id: null };
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done || !live()) break;
          buf += value;
          let nl;
          while ((nl = buf.search(/\r\n|\r|\n/)) >= 0) {
            const line = buf.slice(0, nl);
            buf = buf.slice(nl + (buf.startsWith('\r\n', nl) ? 2 : 1));
            if (line === '') {
              if (ev.data.length) this.#sseEvent(ev.event || 'message', ev.data.join('\n'), ev.id);
              ev = { event: '', data: [], id: null };
              continue;
            }
            if (line.startsWith(':')) continue;
            const c = line.indexOf(':');
            const field = c < 0 ? line : line.slice(0, c);
            let val = c < 0 ? '' : line.slice(c + 1);
            if (val.startsWith(' ')) val = val.slice(1);
            if (field === 'data') ev.data.push(val);
            else if (field === 'event') ev.event = val;
            else if (field === 'id') ev.id = val;
          }
        }
      } catch {
        // aborted, or the network: handled below
      }
      if (live()) stream.dropped('SSE stream ended');
    })();
  }

  #sseEvent(event, data, id) {
    let value;
    try {
      value = JSON.parse(data);
    } catch {
      value = data;
    }
    if (event === 'recovered' && value && value.recovered === false) {
      this.#pos = parsePosition(value.position) ?? this.#pos;
      this.emit('subscribed', { channel: this.channel, recovered: false, position: this.position, transport: 'sse' });
      return;
    }
    if (event === 'error' && value && typeof value === 'object' && 'error' in value) {
      this.emit('error', { channel: this.channel, error: new RtdError(0, String(value.error)) });
      return;
    }
    if (event === 'join' || event === 'leave') {
      this.emit(event, { channel: this.channel, info: value?.[event] });
      return;
    }
    const pos = parsePosition(id ?? '');
    this._publication({ data: value, event: event === 'message' ? undefined : event, offset: pos?.offset, epoch: pos?.epoch });
  }
}
