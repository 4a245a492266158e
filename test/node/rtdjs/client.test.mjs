// rtd.js against a real rtd serve: delivery and commands, reconnect and resume after a
// network cut, token refresh through getToken, SSE fallback. Run by cmd/rtd
// TestE2ERtdJS (see helpers.mjs for the environment).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, TransportError, DisconnectedError } from '../../../clients/js/rtd.js';
import { WebSocket, env, jwt, publish, control, waitFor, record, relayed } from './helpers.mjs';

const base = env('RTD_URL');
const wsURL = base.replace(/^http/, 'ws') + '/ws';
const token = (ttl) => jwt({ sub: 'alice', channels: ['*'], publish: ['pub:*'] }, ttl);

function client(url, opts = {}) {
  const c = new Client(url, { websocket: WebSocket, token: token(3600), minReconnectDelay: 50, maxReconnectDelay: 400, ...opts });
  return c;
}

test('delivery, publish, presence, history and ping', async (t) => {
  const c = client(wsURL);
  t.after(() => c.disconnect());
  const connected = record(c, 'connected');
  const sub = c.newSubscription('pub:news');
  const pubs = record(sub, 'publication');
  const subscribed = record(sub, 'subscribed');
  sub.subscribe();
  c.connect();
  await waitFor('subscribed', () => sub.state === 'subscribed');
  assert.deepEqual(connected, [{ transport: 'websocket' }]);
  assert.equal(subscribed[0].recovered, false);
  const first = await publish(base, 'pub:news', { n: 1 }, 'upd');
  const mine = await c.publish('pub:news', { n: 2 });
  assert.equal(mine.offset, first.offset + 1);
  await publish(base, 'pub:news', 'three');
  await waitFor('3 publications', () => pubs.length >= 3);
  assert.deepEqual(pubs, [
    { channel: 'pub:news', data: { n: 1 }, event: 'upd', offset: first.offset, epoch: first.epoch },
    { channel: 'pub:news', data: { n: 2 }, event: undefined, offset: first.offset + 1, epoch: first.epoch },
    { channel: 'pub:news', data: 'three', event: undefined, offset: first.offset + 2, epoch: first.epoch },
  ]);
  assert.equal(sub.position, `${first.epoch}:${first.offset + 2}`);
  const presence = await c.presence('pub:news');
  assert.equal(presence.clients, 1);
  assert.deepEqual(presence.users, ['alice']);
  const history = await c.history('pub:news', { since: `${first.epoch}:${first.offset}`, limit: 1 });
  assert.deepEqual(history.publications.map((p) => p.data), [{ n: 2 }]);
  assert.equal(history.more, true);
  assert.equal((await c.ping()).op, 'pong');
  c.disconnect();
  assert.equal(c.state, 'disconnected');
  await assert.rejects(c.ping(), DisconnectedError);
});

// The relay drops every connection and refuses new ones while publications are made;
// the client reconnects by itself once it lets them through again, and the application
// gets exactly the missed publications, once each, in order, then the live ones.
test('a network cut: reconnect and resume, each publication once and in order', async (t) => {
  const c = client(`ws://${env('RTD_RELAY')}/ws`);
  t.after(() => c.disconnect());
  const { connecting, subscribed, data } = await relayed(c, 'cut');
  for (let i = 1; i <= 3; i++) await publish(base, 'cut', i);
  await waitFor('publications 1..3', () => data.length >= 3);

  await control('cut');
  await waitFor('the client to see the cut', () => c.state === 'connecting');
  for (let i = 4; i <= 8; i++) await publish(base, 'cut', i);
  // A few reconnects fail against the cut relay first.
  await waitFor('failed reconnects', () => connecting.length >= 3);
  assert.equal(data.length, 3, 'nothing arrives during the cut');
  await control('restore');

  await waitFor('the missed publications', () => data.length >= 8).catch((e) => {
    throw new Error(`${e.message}: state ${c.state}, got ${JSON.stringify(data)}, connecting ${JSON.stringify(connecting)}, subscribed ${JSON.stringify(subscribed)}`);
  });
  for (let i = 9; i <= 10; i++) await publish(base, 'cut', i);
  await waitFor('the live publications', () => data.length >= 10);
  assert.deepEqual(data, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.equal(c.state, 'connected');
  assert.deepEqual(subscribed.map((s) => s.recovered), [false, true]);
  assert.equal(connecting[1].code, 1006); // [0] is connect() itself
});

// An expiring token: getToken gives a new one before the old expires, over `refresh`,
// and the connection outlives the first token. Without getToken the server closes it
// (3000) and the client does not reconnect.
test('getToken refresh keeps the connection; without it the token expires', async (t) => {
  const ttl = 2;
  let calls = 0;
  const c = client(wsURL, { token: undefined, getToken: async () => { calls++; return token(ttl); } });
  const plain = client(wsURL, { token: token(ttl) });
  t.after(() => { c.disconnect(); plain.disconnect(); });
  const events = [];
  for (const e of ['connecting', 'connected', 'disconnected']) c.on(e, (v) => events.push([e, v.code ?? v.transport]));
  const refreshed = record(c, 'refreshed');
  const plainDown = record(plain, 'disconnected');
  const sub = c.newSubscription('refresh');
  const data = [];
  sub.on('publication', (p) => data.push(p.data));
  sub.subscribe();
  c.connect();
  plain.connect();
  await waitFor('connected', () => c.state === 'connected' && plain.state === 'connected');
  const firstExpiry = Date.now() + ttl * 1000;
  await waitFor('the plain client closed at expiry', () => plainDown.length > 0, 6000);
  assert.deepEqual(plainDown, [{ code: 3000, reason: 'token expired' }]);
  await waitFor('well past the first token\'s expiry', () => Date.now() > firstExpiry + 1500, 6000);
  assert.equal(plain.state, 'disconnected', 'no reconnect without getToken');
  await waitFor('subscribed', () => sub.state === 'subscribed');
  await publish(base, 'refresh', 'still here');
  await waitFor('a publication after the refresh', () => data.length === 1);
  assert.deepEqual(events, [['connecting', 0], ['connected', 'websocket']], 'one connection throughout');
  assert.ok(calls >= 2 && refreshed.length >= 1, `getToken called ${calls} times, ${refreshed.length} refreshes`);
});

// /ws refused by a proxy: subscriptions stream over /sse, resuming from a position.
test('SSE fallback when /ws is refused', async (t) => {
  const first = await publish(base, 'fallback', 'a');
  await publish(base, 'fallback', 'b');
  await publish(base, 'fallback', 'c');
  const c = client(env('RTD_NOWS').replace(/^http/, 'ws') + '/ws');
  t.after(() => c.disconnect());
  const connected = record(c, 'connected');
  const sub = c.newSubscription('fallback', { since: `${first.epoch}:${first.offset}` });
  const pubs = record(sub, 'publication');
  const subscribed = record(sub, 'subscribed');
  sub.subscribe();
  c.connect();
  await waitFor('connected over SSE', () => c.state === 'connected');
  assert.deepEqual(connected, [{ transport: 'sse' }]);
  await waitFor('the missed publications', () => pubs.length >= 2);
  await publish(base, 'fallback', 'd', 'upd');
  await waitFor('a live publication', () => pubs.length >= 3);
  assert.deepEqual(pubs.map((p) => [p.data, p.event, p.offset]),
    [['b', undefined, first.offset + 1], ['c', undefined, first.offset + 2], ['d', 'upd', first.offset + 3]]);
  assert.equal(subscribed[0].transport, 'sse');
  assert.equal(sub.position, `${first.epoch}:${first.offset + 3}`);
  await assert.rejects(c.publish('fallback', 1), TransportError);
});
