// rtd.js across three rtd nodes on NATS: the client, through a relay, is on one node;
// that node is killed (SIGKILL) while publications are made on the others; the client
// reconnects (the relay passes it to a live node) and the application gets each
// publication once, in order. Run by cmd/rtd TestE2ERtdJSCluster.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '../../../clients/js/rtd.js';
import { WebSocket, env, publish, control, waitFor, relayed } from './helpers.mjs';

test('the client\'s node dies: reconnect to another node and resume', async (t) => {
  const nodes = env('RTD_NODES').split(',');
  const c = new Client(`ws://${env('RTD_RELAY')}/ws`, { websocket: WebSocket, minReconnectDelay: 50, maxReconnectDelay: 400 });
  t.after(() => c.disconnect());
  const { connecting, subscribed, data } = await relayed(c, 'cluster');
  for (let i = 1; i <= 3; i++) await publish(nodes[i % 3], 'cluster', i);
  await waitFor('publications 1..3', () => data.length >= 3);

  const dead = Number(await control('kill'));
  const alive = nodes.filter((_, i) => i !== dead);
  for (let i = 4; i <= 8; i++) await publish(alive[i % 2], 'cluster', i);
  await waitFor('the missed publications', () => data.length >= 8, 15000);
  for (let i = 9; i <= 10; i++) await publish(alive[i % 2], 'cluster', i);
  await waitFor('the live publications', () => data.length >= 10);
  assert.deepEqual(data, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.deepEqual(subscribed.map((s) => s.recovered), [false, true]);
  assert.equal(connecting[1].code, 1006);
});
