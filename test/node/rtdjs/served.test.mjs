// GET /rtd.js is the module in clients/js, cacheable with an ETag; its TypeScript
// declarations pass tsc and declare every export. Run by cmd/rtd TestE2ERtdJS.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { env } from './helpers.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const clientDir = path.resolve(here, '../../../clients/js');

test('GET /rtd.js serves clients/js/rtd.js with an ETag', async () => {
  const base = env('RTD_URL');
  const res = await fetch(`${base}/rtd.js`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/javascript/);
  assert.match(res.headers.get('cache-control'), /max-age=\d+/);
  assert.equal(res.headers.get('access-control-allow-origin'), '*');
  const etag = res.headers.get('etag');
  assert.match(etag, /^"[0-9a-f]+"$/);
  assert.equal(await res.text(), fs.readFileSync(path.join(clientDir, 'rtd.js'), 'utf8'));
  const again = await fetch(`${base}/rtd.js`, { headers: { 'If-None-Match': etag } });
  assert.equal(again.status, 304);
  assert.equal(await again.text(), '');
  const types = await fetch(`${base}/rtd.d.ts`);
  assert.equal(await types.text(), fs.readFileSync(path.join(clientDir, 'rtd.d.ts'), 'utf8'));
});

test('package.json exports the module and its declarations', async () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(clientDir, 'package.json'), 'utf8'));
  assert.equal(pkg.type, 'module');
  assert.deepEqual(pkg.exports['.'], { types: './rtd.d.ts', default: './rtd.js' });
  assert.deepEqual(Object.keys(pkg.dependencies ?? {}), [], 'no runtime dependencies');
  const mod = await import(path.join(clientDir, pkg.exports['.'].default));
  const dts = fs.readFileSync(path.join(clientDir, pkg.exports['.'].types), 'utf8');
  const declared = [...dts.matchAll(/^export declare (?:class|const|function) (\w+)/gm)].map((m) => m[1]).sort();
  assert.deepEqual(declared, Object.keys(mod).sort(), 'rtd.d.ts declares exactly the exports of rtd.js');
});

// tsc --noEmit --strict over the declarations and a program that uses the whole API.
test('tsc --noEmit accepts rtd.d.ts and a program using it', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtdjs-tsc-'));
  try {
    fs.writeFileSync(path.join(dir, 'use.ts'), `
import { Client, Subscription, RtdError, PermissionDeniedError, ErrorCode, CloseCode, type Publication } from ${JSON.stringify(path.join(clientDir, 'rtd.js'))};
const client = new Client('ws://localhost:8080/ws', { getToken: async () => 'jwt', minReconnectDelay: 100, timeout: 1000 });
client.on('disconnected', ({ code, reason }) => console.log(code === CloseCode.Policy, reason.length));
client.on('connected', ({ transport }) => { const t: 'websocket' | 'sse' = transport; void t; });
const sub: Subscription = client.newSubscription('news', { since: 'e:1' });
sub.on('publication', (p: Publication) => console.log(p.channel, p.offset + 1, p.epoch, p.event, p.data));
sub.on('subscribed', ({ recovered, position }) => console.log(recovered === true, position));
sub.subscribe();
client.connect();
async function run(): Promise<number> {
  const r = await client.publish('news', { a: 1 });
  const h = await client.history('news', { since: 'e:1', limit: 10 });
  const p = await client.presence('news');
  try { await client.ping(); } catch (e) {
    if (e instanceof PermissionDeniedError && e.code === ErrorCode.PermissionDenied) return 0;
    if (e instanceof RtdError) return e.code;
  }
  return r.offset + h.publications.length + p.clients + (h.more ? 1 : 0);
}
void run;
// @ts-expect-error: state is read-only
client.state = 'connected';
// @ts-expect-error: no such event
client.on('nonsense', () => {});
`);
    const tsc = path.resolve(here, '../node_modules/typescript/bin/tsc');
    const args = ['--noEmit', '--strict', '--skipDefaultLibCheck', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext',
      '--lib', 'es2022,dom', path.join(clientDir, 'rtd.d.ts'), path.join(dir, 'use.ts')];
    try {
      await promisify(execFile)(process.execPath, [tsc, ...args], { cwd: dir });
    } catch (e) {
      assert.fail(`tsc failed:\n${e.stdout}${e.stderr}`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
