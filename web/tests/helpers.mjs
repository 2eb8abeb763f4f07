// Shared by the browser tests: a static server for web/dist/ on 127.0.0.1,
// headless Debian chromium (playwright-core), the tau binary, and the two
// screen sizes every test of issue 27 runs at.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const DIST = path.join(ROOT, 'web/dist');
export const TAU = process.env.TAU_BIN || path.join(ROOT, 'target/debug/tau');
export const TMP = mkdtempSync(path.join(tmpdir(), 'tau-web-'));
// The page runs the same library code compiled to wasm32; only the math
// library (exp, log, pow) may differ from the native one, in the last bits.
export const RELATIVE = 1e-9;

/** Desktop and phone, as issue 27 names them. */
export const SIZES = {
  desktop: { viewport: { width: 1366, height: 768 } },
  phone: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 },
};

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm', '.json': 'application/json' };

/** Starts the server and the browser: `{ origin, browser, stop }`. */
export async function start() {
  const server = createServer((req, res) => {
    const file = path.join(DIST, decodeURIComponent(new URL(req.url, 'http://x').pathname).replace(/\/$/, '/index.html'));
    if (!file.startsWith(DIST)) return void res.writeHead(403).end();
    try {
      const body = readFileSync(file);
      res.writeHead(200, { 'content-type': TYPES[path.extname(file)] || 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  return {
    origin: `http://127.0.0.1:${server.address().port}`,
    browser,
    stop: async () => { await browser.close(); server.close(); },
  };
}

/**
 * A fresh page at `size` with the engine loaded; `page.problems` collects
 * script errors and requests to other hosts. `route` may intercept requests
 * before the page loads; `ready` false skips waiting for the engine.
 */
export async function open(env, size = 'desktop', { route, ready = true } = {}) {
  const context = await env.browser.newContext({ acceptDownloads: true, ...SIZES[size] });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
  page.on('request', (r) => !/^(blob:|data:)/.test(r.url()) && !r.url().startsWith(env.origin) && problems.push(`request to ${r.url()}`));
  // Dialogs (the confirm before edited data are replaced) are accepted
  // unless a test sets page.acceptDialogs = false; page.dialogs lists them.
  page.dialogs = [];
  page.acceptDialogs = true;
  page.on('dialog', (d) => {
    page.dialogs.push(d.message());
    return page.acceptDialogs ? d.accept() : d.dismiss();
  });
  if (route) await route(page);
  await page.goto(`${env.origin}/`);
  if (ready) await page.waitForFunction(() => document.getElementById('status').textContent.startsWith('Ready'));
  page.problems = problems;
  page.done = async () => {
    assert.deepEqual(problems, []);
    await context.close();
  };
  return page;
}

export async function loadExample(page, key) {
  await page.selectOption('#example', key);
  await page.waitForSelector('#summary [data-key="estimate"]');
}

/** The numbers shown in the summary: full precision (data-value) and as displayed. */
export async function summary(page) {
  return page.$$eval('#summary [data-key]', (els) => Object.fromEntries(els.map((e) => [e.dataset.key, { value: Number(e.dataset.value), text: e.textContent }])));
}

export function tau(args, cwd = ROOT) {
  return JSON.parse(execFileSync(TAU, [...args, '--format', 'json'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
}

export function close(actual, expected, what, relative = RELATIVE) {
  const scale = Math.max(Math.abs(expected), 1e-12);
  assert.ok(Math.abs(actual - expected) <= relative * scale, `${what}: page ${actual}, expected ${expected}`);
}

export function assertSameAsCli(shown, cli) {
  for (const key of ['estimate', 'ci_lower', 'ci_upper', 'tau2', 'tau', 'I2', 'H2', 'QE', 'pi_lower', 'pi_upper']) {
    close(shown[key].value, cli[key], key);
  }
  assert.equal(shown.k.value, cli.k);
}

/** Presses on `locator`'s centre, moves by (dx, dy) in `steps`, releases. */
export async function drag(page, locator, dx, dy, steps = 8) {
  await locator.scrollIntoViewIfNeeded();
  const box = await locator.boundingBox();
  const [x, y] = [box.x + box.width / 2, box.y + box.height / 2];
  await page.mouse.move(x, y);
  await page.mouse.down();
  if (dx || dy) await page.mouse.move(x + dx, y + dy, { steps });
  await page.mouse.up();
}

/** The value of a table cell. */
export function cell(page, row, field) {
  return page.inputValue(`#studies input[data-row="${row}"][data-field="${field}"]`);
}

/** Every view that shows a result is empty: the summary, plots, subgroups, I² panel and code. */
export async function assertViewsCleared(page, what) {
  const views = await page.evaluate(() => ({
    summary: document.getElementById('summary').textContent,
    forest: document.querySelectorAll('#forest svg').length,
    funnel: document.querySelectorAll('#funnel svg').length,
    subgroups: document.getElementById('subgroups').textContent,
    i2: document.getElementById('i2-table').textContent,
    cli: document.getElementById('cli-command').textContent,
    r: document.getElementById('r-code').textContent,
    error: document.getElementById('analysis-error').hidden ? '' : document.getElementById('analysis-error').textContent,
  }));
  assert.equal(views.summary, '', `${what}: summary`);
  assert.equal(views.forest + views.funnel, 0, `${what}: plots`);
  assert.equal(views.subgroups, '', `${what}: subgroups`);
  assert.equal(views.i2, '', `${what}: I² panel`);
  assert.match(views.cli, /^\(no analysis/, `${what}: tau command`);
  assert.match(views.r, /^\(no analysis/, `${what}: R code`);
  return views;
}
