// The page in a real browser (Debian's chromium, headless, driven by
// playwright-core), served from web/dist/ on 127.0.0.1 by a server started
// here. Every number the page shows is checked against the tau binary run on
// the same file with the same settings. Build first: web/build.sh and
// `cargo build --bin tau` (web/test.sh does both).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DIST = path.join(ROOT, 'web/dist');
const TAU = process.env.TAU_BIN || path.join(ROOT, 'target/debug/tau');
const PARENTING = path.join(ROOT, 'studies/parenting_ethnic_minorities.json');
const TMP = mkdtempSync(path.join(tmpdir(), 'tau-web-'));
// The page runs the same library code compiled to wasm32; only the math
// library (exp, log, pow) may differ from the native one, in the last bits.
const RELATIVE = 1e-9;

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm', '.json': 'application/json' };
let server, origin, browser;

before(async () => {
  server = createServer((req, res) => {
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
  origin = `http://127.0.0.1:${server.address().port}`;
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
});

after(async () => {
  await browser?.close();
  server?.close();
});

function tau(args, cwd = ROOT) {
  return JSON.parse(execFileSync(TAU, [...args, '--format', 'json'], { cwd, encoding: 'utf8' }));
}

/** A fresh page with the engine loaded; fails the test on any script error or foreign request. */
async function open() {
  const page = await browser.newPage({ acceptDownloads: true, viewport: { width: 1400, height: 1000 } });
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
  page.on('request', (r) => !r.url().startsWith(origin) && !r.url().startsWith('blob:') && !r.url().startsWith('data:') && problems.push(`request to ${r.url()}`));
  await page.goto(`${origin}/`);
  await page.waitForFunction(() => document.getElementById('status').textContent.startsWith('Ready'));
  page.problems = problems;
  return page;
}

async function loadParenting(page) {
  await page.selectOption('#example', 'parenting_ethnic_minorities');
  await page.waitForSelector('#summary [data-key="estimate"]');
}

/** The numbers shown in the summary: full precision (data-value) and as displayed. */
async function summary(page) {
  return page.$$eval('#summary [data-key]', (els) => Object.fromEntries(els.map((e) => [e.dataset.key, { value: Number(e.dataset.value), text: e.textContent }])));
}

function close(actual, expected, what) {
  const scale = Math.max(Math.abs(expected), 1e-12);
  assert.ok(Math.abs(actual - expected) <= RELATIVE * scale, `${what}: page ${actual}, tau ${expected}`);
}

function assertSameAsCli(shown, cli) {
  for (const key of ['estimate', 'ci_lower', 'ci_upper', 'tau2', 'tau', 'I2', 'H2', 'QE', 'pi_lower', 'pi_upper']) {
    close(shown[key].value, cli[key], key);
    const digits = ['I2', 'H2'].includes(key) ? 2 : 4;
    assert.equal(shown[key].text, cli[key].toFixed(digits), `${key} as displayed`);
  }
  close(shown.tau2_ci_upper.value, cli.tau2_ci[1], 'upper limit of the CI of tau^2');
  assert.equal(shown.k.value, cli.k);
}

test('the parenting example shows the numbers of tau pool', async (t) => {
  const page = await open();
  await loadParenting(page);
  assertSameAsCli(await summary(page), tau(['pool', PARENTING]));
  assert.match(await page.innerHTML('#forest'), /<svg/);
  assert.match(await page.innerHTML('#funnel'), /<svg/);
  assert.equal(await page.locator('#studies tbody tr').count(), 16);
  if (process.env.TAU_SCREENSHOT) await page.screenshot({ path: process.env.TAU_SCREENSHOT, fullPage: false }); // web/screenshot.png
  assert.deepEqual(page.problems, []);
  await page.close();
});

test('switching the estimator and the test gives the CLI numbers again', async () => {
  const page = await open();
  await loadParenting(page);
  await page.selectOption('#method', 'DL');
  await page.waitForFunction(() => document.getElementById('summary').textContent.includes('DL'));
  assertSameAsCli(await summary(page), tau(['pool', PARENTING, '--method', 'DL']));
  await page.selectOption('#method', 'PM');
  await page.selectOption('#test', 'knha');
  await page.waitForFunction(() => document.getElementById('summary').textContent.includes('Knapp-Hartung'));
  assertSameAsCli(await summary(page), tau(['pool', PARENTING, '--method', 'PM', '--test', 'knha']));
  assert.equal(await page.textContent('#cli-command'), 'tau pool parenting_ethnic_minorities.json --method PM --test knha');
  assert.deepEqual(page.problems, []);
  await page.close();
});

test("editing one study's effect gives the CLI numbers of the edited file", async () => {
  const page = await open();
  await loadParenting(page);
  const before = await summary(page);
  const cell = page.locator('#studies input[data-row="2"][data-field="yi"]');
  await cell.fill('0.95');
  await cell.press('Tab');
  await page.waitForFunction((old) => document.querySelector('#summary [data-key="estimate"]').dataset.value !== old, String(before.estimate.value));
  const edited = JSON.parse(readFileSync(PARENTING, 'utf8'));
  edited.studies[2].yi = 0.95;
  const file = path.join(TMP, 'edited.json');
  writeFileSync(file, JSON.stringify(edited));
  const cli = tau(['pool', file]);
  assertSameAsCli(await summary(page), cli);
  assert.notEqual(cli.tau2, before.tau2.value);
  assert.match(await page.textContent('#caption'), /You changed yi of .* from 0\.\d+ to 0\.95/);
  // The exported data are the edited data, and the CLI reads them.
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-json')]);
  const saved = path.join(TMP, download.suggestedFilename());
  await download.saveAs(saved);
  assert.equal(JSON.parse(readFileSync(saved, 'utf8')).studies[2].yi, 0.95);
  assert.equal(tau(['pool', saved]).estimate, cli.estimate);
  assert.deepEqual(page.problems, []);
  await page.close();
});

test("a broken CSV shows tau's located message next to the cell", async () => {
  const page = await open();
  const csv = 'study,yi,vi,group\nAlpha,0.2,0.04,a\nBeta,0.5,0.03,b\nGamma,0.1,-0.02,a\nDelta,0.3,0.05,b\n';
  writeFileSync(path.join(TMP, 'broken.csv'), csv);
  await page.setInputFiles('#file', path.join(TMP, 'broken.csv'));
  await page.waitForSelector('#load-error:not([hidden])');
  const shown = await page.textContent('#load-error');
  const cli = spawnSync(TAU, ['pool', 'broken.csv'], { cwd: TMP, encoding: 'utf8' });
  assert.notEqual(cli.status, 0);
  assert.match(shown, /broken\.csv: line 4, column 3 \(vi\): study 'Gamma' \(record 3\)/);
  assert.ok(cli.stderr.includes(shown), `the page says\n${shown}\nthe CLI says\n${cli.stderr}`);
  const cell = page.locator('#studies input[data-row="2"][data-field="vi"]');
  assert.equal(await cell.getAttribute('aria-invalid'), 'true');
  const note = await page.textContent('#studies .cell-error');
  assert.match(note, /^study 'Gamma' \(record 3\).*vi/);
  // Fixing the cell clears the error and the analysis runs.
  await cell.fill('0.02');
  await cell.press('Tab');
  await page.waitForSelector('#summary [data-key="estimate"]');
  assert.equal(await page.locator('#studies .cell-error').count(), 0);
  assert.deepEqual(page.problems, []);
  await page.close();
});

test('a small simulation with a fixed seed matches tau simulate', async () => {
  const page = await open();
  const settings = { k: 5, tau2: 0.05, mu: 0.3, nmin: 20, nmax: 100, reps: 400, seed: 42 };
  for (const [key, value] of Object.entries(settings)) await page.fill(`#sim-${key}`, String(value));
  await page.click('#sim-run');
  await page.waitForSelector('#sim-table [data-key]');
  const shown = await page.$$eval('#sim-table [data-key]', (els) => Object.fromEntries(els.map((e) => [e.dataset.key, Number(e.dataset.value)])));
  const cli = tau(['simulate', '--k', '5', '--tau2', '0.05', '--mu', '0.3', '--n-min', '20', '--n-max', '100',
    '--reps', '400', '--seed', '42', '--methods', 'DL,REML', '--test', 'z,knha']);
  assert.equal(cli.results.length, 4);
  for (const cell of cli.results) {
    const key = `${cell.method}-${cell.test}`;
    assert.equal(shown[`${key}-ci_coverage`], cell.ci_coverage.value, `${key} CI coverage`);
    assert.equal(shown[`${key}-pi_coverage`], cell.pi_coverage.value, `${key} PI coverage`);
    close(shown[`${key}-tau2_bias`], cell.tau2.bias, `${key} bias of tau^2`);
    close(shown[`${key}-estimate_bias`], cell.estimate.bias, `${key} bias of the estimate`);
  }
  assert.equal(await page.locator('#sim-plots svg').count(), 3);
  assert.deepEqual(page.problems, []);
  await page.close();
});

test('dragging a study on the funnel plot changes its size and its effect', async () => {
  const page = await open();
  await loadParenting(page);
  const before = await summary(page);
  const cell = (field) => page.inputValue(`#studies input[data-row="0"][data-field="${field}"]`).then(Number);
  const drag = async (dx, dy) => {
    const point = page.locator('#funnel svg circle').first();
    await point.scrollIntoViewIfNeeded();
    const box = await point.boundingBox();
    const [x, y] = [box.x + box.width / 2, box.y + box.height / 2];
    await page.mouse.move(x, y);
    await page.mouse.down();
    await page.mouse.move(x + dx, y + dy, { steps: 5 });
    await page.mouse.up();
    await page.waitForFunction(() => document.getElementById('caption').textContent.startsWith('You moved Bjørknes and Manger 2013 (PB)'));
  };
  // Up the funnel is a smaller standard error: a larger study.
  await drag(0, -60);
  const vi = await cell('vi');
  assert.ok(vi < 0.041967, `the study got larger (vi ${vi})`);
  await page.evaluate(() => { document.getElementById('caption').textContent = ''; });
  // Sideways moves its effect and keeps its size.
  await drag(150, 0);
  const after = await summary(page);
  assert.ok(after.estimate.value > before.estimate.value, 'moving a study to the right raises the estimate');
  assert.ok((await cell('yi')) > 0.24, 'the table shows the moved effect');
  assert.equal(await cell('vi'), vi, 'a sideways move keeps the variance');
  assert.deepEqual(page.problems, []);
  await page.close();
});
