// The README's Node program ("Browser and Node clients") runs as pasted, with rtd.mjs
// fetched from /rtd.js; only the server's address is changed (the page is in
// browser.test.mjs). Run by cmd/rtd TestE2ERtdJS.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { env, example, publish, waitFor } from './helpers.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const base = env('RTD_URL');

test('the README Node program prints a publication', async (t) => {
  const dir = fs.mkdtempSync(path.join(here, '.readme-')); // under test/node: finds node_modules/ws
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'rtd.mjs'), await (await fetch(`${base}/rtd.js`)).text());
  fs.writeFileSync(path.join(dir, 'sub.mjs'), example('js'));
  const child = spawn(process.execPath, ['sub.mjs'], { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => child.kill('SIGKILL'));
  let out = '';
  child.stdout.on('data', (b) => { out += b; });
  await waitFor('connected', () => out.includes('connected over websocket\n'));
  const { offset } = await publish(base, 'news', { from: 'node' });
  await waitFor('the publication printed', () => out.includes(`${offset} { from: 'node' }\n`));
});
