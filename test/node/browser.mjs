// browser.mjs URL [--timeout ms] [--chromium path]
//
// Opens URL in headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core),
// waits until the page sets window.__done = true, and prints JSON.stringify(window.__results)
// as one line. The page does the work with the browser's native WebSocket and EventSource.
// Each run uses a fresh temporary profile, removed at exit. On timeout it prints
// {"type":"timeout","after_ms":N,"results":...} and exits with status 2. The page's console
// goes to stderr.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { parseArgs, print, usage, integer } from './lib.mjs';

const args = parseArgs(process.argv.slice(2), ['timeout', 'chromium']);
if (args.positional.length !== 1) usage('usage: browser.mjs URL [--timeout ms] [--chromium path]');
const url = args.positional[0];
const timeout = integer('timeout', args.one('timeout', '20000'));
const executablePath = args.one('chromium', '/usr/bin/chromium');

const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'rtd-chromium-'));
let context;
let status = 0;
try {
  context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    timeout,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = context.pages()[0] ?? await context.newPage();
  page.on('console', (m) => process.stderr.write(`console.${m.type()}: ${m.text()}\n`));
  page.on('pageerror', (e) => process.stderr.write(`pageerror: ${e.message}\n`));
  await page.goto(url, { timeout });
  try {
    await page.waitForFunction(() => window.__done === true, null, { timeout });
    process.stdout.write(JSON.stringify(await page.evaluate(() => window.__results)) + '\n');
  } catch (e) {
    if (e.name !== 'TimeoutError') throw e;
    print({ type: 'timeout', after_ms: timeout, results: await page.evaluate(() => window.__results ?? null) });
    status = 2;
  }
} catch (e) {
  process.stderr.write(`browser.mjs: ${e.stack ?? e}\n`);
  status = 1;
} finally {
  await context?.close().catch(() => {});
  fs.rmSync(profile, { recursive: true, force: true });
}
process.exit(status);
