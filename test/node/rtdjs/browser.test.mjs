// Headless Chromium (Debian's, through playwright-core), launched once: GET /console
// connects with a token, subscribes, publishes through the API and shows the
// publications; the README's page (served at http://localhost:8000, an allowed origin,
// importing /rtd.js across sites) runs as pasted and shows a publication. Run by cmd/rtd
// TestE2ERtdJS.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { env, example, jwt, publish, waitFor } from './helpers.mjs';

const base = env('RTD_URL');
let context;
let profile;

before(async () => {
  profile = fs.mkdtempSync(path.join(os.tmpdir(), 'rtd-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    timeout: 30000,
    // The README page comes from a route, not a server on loopback, so Chromium's Local
    // Network Access would count it as public and block its loopback requests; a real
    // page on localhost:8000 is on loopback itself.
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync',
      '--disable-features=LocalNetworkAccessChecks,BlockInsecurePrivateNetworkRequests,PrivateNetworkAccessRespectPreflightResults'],
  });
});

after(async () => {
  await context?.close().catch(() => {});
  fs.rmSync(profile, { recursive: true, force: true });
});

async function newPage(t) {
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(e.message));
  t.after(() => page.close());
  return { page, problems };
}

test('the console subscribes and shows a publication', async (t) => {
  const { page, problems } = await newPage(t);
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
  await page.waitForFunction(() => document.querySelectorAll('li.publication').length === 1, null, { timeout: 10000 });
  await publish(base, 'console:demo', { from: 'backend' });
  await page.waitForFunction(() => document.querySelectorAll('li.publication').length === 2, null, { timeout: 10000 });
  const shown = await page.$$eval('li.publication', (els) => els.map((e) => e.textContent));
  assert.match(shown[1], /console:demo \w+:1 \{"from":"console"\}/);
  assert.match(shown[0], /console:demo \w+:2 \{"from":"backend"\}/);
  await page.click('#stats');
  await page.waitForFunction(() => document.querySelector('#output').textContent.includes('GET api/stats → 200'), null, { timeout: 10000 });
  assert.deepEqual(problems, []);
});

test('the README page receives a publication', async (t) => {
  const html = example('html');
  await context.route('http://localhost:8000/', (route) => route.fulfill({ contentType: 'text/html', body: html }));
  const { page: tab, problems } = await newPage(t);
  await tab.goto('http://localhost:8000/');
  // Published until the page shows one: the page subscribes when it has loaded rtd.js.
  await waitFor('the page to show a publication', async () => {
    await publish(base, 'news', { from: 'readme' });
    return (await tab.$$eval('#out li', (els) => els.length)) > 0;
  }, 15000);
  assert.equal(await tab.$eval('#out li', (e) => e.textContent), '{"from":"readme"}');
  assert.deepEqual(problems, []);
});
