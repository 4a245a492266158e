// Helpers of the rtd.js suites, which cmd/rtd's TestE2ERtdJS* run with `node --test`
// against a real rtd serve. The Go test passes where things are in the environment:
// RTD_URL (the server), RTD_RELAY (a TCP relay to it), RTD_CONTROL (the relay's control:
// POST /cut, /restore, /kill), RTD_NOWS (a proxy refusing /ws), RTD_SECRET (the JWT
// secret), RTD_NODES (a cluster's nodes).
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

export { WebSocket };
export const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run these suites through go test (cmd/rtd TestE2ERtdJS*)`);
  return v;
};

/** jwt signs claims (HS256) with RTD_SECRET; ttl in seconds from now. */
export function jwt(claims, ttlSeconds = 3600) {
  const b64 = (v) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const body = { ...claims, exp: Math.floor(Date.now() / 1000) + ttlSeconds };
  const input = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(body)}`;
  const sig = crypto.createHmac('sha256', env('RTD_SECRET')).update(input).digest('base64url');
  return `${input}.${sig}`;
}

/** publish publishes over the server API (from loopback: no key needed). */
export async function publish(base, channel, data, event) {
  const res = await fetch(`${base}/api/publish`, {
    method: 'POST',
    body: JSON.stringify(event ? { channel, data, event } : { channel, data }),
  });
  const out = await res.json();
  if (res.status !== 200) throw new Error(`publish: ${res.status} ${JSON.stringify(out)}`);
  return out;
}

/** control asks the Go test's relay control to act (cut, restore, kill). */
export async function control(what) {
  const res = await fetch(`${env('RTD_CONTROL')}/${what}`, { method: 'POST' });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`control ${what}: ${res.status} ${text}`);
  return text;
}

/** waitFor polls cond every 10 ms until it holds, or throws after ms naming what. */
export async function waitFor(what, cond, ms = 10000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** record returns the list every emission of emitter's event is appended to. */
export function record(emitter, event) {
  const got = [];
  emitter.on(event, (v) => got.push(v));
  return got;
}

/**
 * relayed connects client (through the relay) with one subscription to channel, and
 * returns once subscribed: what the application got (data), the subscription's
 * subscribed events and the client's connecting events.
 */
export async function relayed(client, channel) {
  const connecting = record(client, 'connecting');
  const sub = client.newSubscription(channel);
  const subscribed = record(sub, 'subscribed');
  const data = [];
  sub.on('publication', (p) => data.push(p.data));
  sub.subscribe();
  client.connect();
  await waitFor('subscribed', () => sub.state === 'subscribed');
  return { connecting, subscribed, data };
}

/**
 * example returns the README's code block of lang in "Browser and Node clients" (at most
 * 10 lines), with the server's address for localhost:8080.
 */
export function example(lang) {
  const readme = fs.readFileSync(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../README.md'), 'utf8');
  const section = readme.split('\n## Browser and Node clients\n')[1].split('\n## ')[0];
  const block = section.split('```' + lang + '\n')[1].split('```\n')[0];
  assert.ok(block.split('\n').length - 1 <= 10, `the ${lang} example has more than 10 lines`);
  return block.replaceAll('localhost:8080', new URL(env('RTD_URL')).host);
}
