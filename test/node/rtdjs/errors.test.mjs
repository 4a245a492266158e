// Typed errors: every error code of the channel protocol rejects a command with its own
// class (110, internal, and 112, the cluster bus down, cannot be caused from outside
// here: their mapping is checked on a reply). Run by cmd/rtd TestE2ERtdJS.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as rtd from '../../../clients/js/rtd.js';
import { WebSocket, env, jwt, waitFor } from './helpers.mjs';

const { Client, RtdError, ErrorCode, errorFromReply } = rtd;
const wsURL = env('RTD_URL').replace(/^http/, 'ws') + '/ws';

async function connected(t) {
  const c = new Client(wsURL, { websocket: WebSocket, token: jwt({ sub: 'bob', channels: ['*'], publish: ['pub:*'] }) });
  t.after(() => c.disconnect());
  c.connect();
  await waitFor('connected', () => c.state === 'connected');
  return c;
}

async function rejectsWith(promise, cls, code) {
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof cls, `${e?.name}: ${e?.message} is not a ${cls.name}`);
    assert.ok(e instanceof RtdError);
    assert.equal(e.code, code);
    assert.equal(e.name, cls.name);
    return true;
  });
}

test('one typed error per protocol error code', async (t) => {
  const c = await connected(t);
  const cases = {
    BadRequest: () => c.publish('pub:x', 1, { event: 'bad\u0001name' }),
    UnknownOp: () => c.command('teleport'),
    PermissionDenied: () => c.publish('secret', 1),
    InvalidChannel: () => c.command('subscribe', { channel: 'x'.repeat(300) }),
    AlreadySubscribed: async () => {
      await c.command('subscribe', { channel: 'twice' });
      return c.command('subscribe', { channel: 'twice' });
    },
    NotSubscribed: () => c.command('unsubscribe', { channel: 'never' }),
    LimitExceeded: async () => {
      const many = await connected(t);
      const subs = [];
      for (let i = 0; i < 128; i++) subs.push(many.command('subscribe', { channel: `many:${i}` }));
      await Promise.all(subs);
      return many.command('subscribe', { channel: 'one-too-many' });
    },
    Unavailable: () => c.history('nohistory:1'),
    TokenInvalid: () => c.command('refresh', { token: 'not.a.token' }),
    InvalidPosition: () => c.history('pub:x', { since: 'nowhere' }),
  };
  for (const [name, run] of Object.entries(cases)) {
    await t.test(name, () => rejectsWith(run(), rtd[`${name}Error`], ErrorCode[name]));
  }
  await t.test('Unavailable (presence)', () => rejectsWith(c.presence('nopresence:1'), rtd.UnavailableError, 108));
  await t.test('the codes not caused here map to their classes too', () => {
    for (const name of ['Internal', 'BrokerUnavailable']) {
      const e = errorFromReply({ code: ErrorCode[name], message: 'm' });
      assert.ok(e instanceof rtd[`${name}Error`] && e.code === ErrorCode[name] && e.message === 'm');
    }
    for (const [name, code] of Object.entries(ErrorCode)) {
      assert.ok(errorFromReply({ code, message: '' }) instanceof rtd[`${name}Error`], name);
    }
    const unknown = errorFromReply({ code: 999, message: 'new' });
    assert.equal(unknown.constructor, RtdError);
    assert.equal(unknown.code, 999);
  });
  await t.test('a subscription refused is an error event, then unsubscribed', async () => {
    const limited = new Client(wsURL, { websocket: WebSocket, token: jwt({ sub: 'carol', channels: ['open'] }) });
    t.after(() => limited.disconnect());
    const sub = limited.newSubscription('closed');
    const errors = [];
    const unsubscribed = [];
    sub.on('error', (e) => errors.push(e.error));
    sub.on('unsubscribed', (u) => unsubscribed.push(u));
    sub.subscribe();
    limited.connect();
    await waitFor('unsubscribed', () => unsubscribed.length > 0);
    assert.ok(errors[0] instanceof rtd.PermissionDeniedError);
    assert.deepEqual(unsubscribed, [{ channel: 'closed', code: 103, reason: 'subscribe not permitted: channel not in token' }]);
    assert.equal(sub.state, 'unsubscribed');
  });
  await t.test('a command unanswered in time is a TimeoutError', async () => {
    // A WebSocket that opens and never answers.
    class Silent {
      constructor() { setTimeout(() => this.onopen?.({})); }
      send() {}
      close() {}
    }
    const slow = new Client(wsURL, { websocket: Silent, timeout: 50 });
    t.after(() => slow.disconnect());
    slow.connect();
    await waitFor('connected', () => slow.state === 'connected');
    await rejectsWith(slow.ping(), rtd.TimeoutError, 0);
  });
});
