// GET /console in headless Chromium (Debian's, through playwright-core): the page
// connects with a token, subscribes, publishes through the API and shows the
// publication. Run by cmd/rtd TestE2ERtdJS.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { env, jwt, publish } from './helpers.mjs';

test('the console subscribes and shows a publication', async (t) => {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'rtd-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    timeout: 15000,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  t.after(async () => {
    await context.close().catch(() => {});
    fs.rmSync(profile, { recursive: true, force: true });
  });
  const page = context.pages()[0] ?? await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(e.message));
  const base = env('RTD_URL');
  await page.goto(`${base}/console`);
  await page.fill('#token', jwt({ sub: 'admin', channels: ['*'] }));
  await page.fill('#channel', 'console:demo');
  await page.click('#connect');
  await page.click('#subscribe');
  await page.waitForFunction(() => document.querySelector('#state').textContent === 'connected', null, { timeout: 10000 });
  await page.waitForFunction(() => document.querySelector('#log').textContent.includes('subscribed to console:demo'), null, { timeout: 10000 });
  // One publication from the page's own publish form, one from a backend.
  await page.fill('#pubchannel', 'console:demo');
  await page.fill('#pubdata', '{"from":"console"}');
  await page.click('#publish');
  await publish(base, 'console:demo', { from: 'backend' });
  await page.waitForFunction(() => document.querySelectorAll('li.publication').length === 2, null, { timeout: 10000 });
  const shown = await page.$$eval('li.publication', (els) => els.map((e) => e.textContent));
  assert.match(shown[1], /console:demo \w+:1 \{"from":"console"\}/);
  assert.match(shown[0], /console:demo \w+:2 \{"from":"backend"\}/);
  await page.click('#stats');
  await page.waitForFunction(() => document.querySelector('#output').textContent.includes('GET api/stats → 200'), null, { timeout: 10000 });
  assert.deepEqual(problems, []);
});
