// Issue 27, "The page students can trust": phones, keyboard, contrast,
// screen readers, large data and a failed engine load, at the desktop
// (1366×768) and phone (390×844) sizes; an axe-core scan of each.
// TAU_SCREENSHOTS=web/screenshots retakes the screenshots of both sizes.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { TMP, SIZES, start, open, loadExample, drag } from './helpers.mjs';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
let env;
before(async () => { env = await start(); });
after(async () => { await env?.stop(); });

/** axe-core's serious and critical violations on the page as it is. */
async function axeViolations(page) {
  await page.addScriptTag({ path: AXE });
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  return result.violations.filter((v) => ['serious', 'critical'].includes(v.impact))
    .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join('; ')})`);
}

for (const size of Object.keys(SIZES)) {
  test(`${size}: axe-core finds no serious violations, with results, an error and the lab`, async () => {
    const page = await open(env, size);
    assert.deepEqual(await axeViolations(page), [], 'empty page');
    await loadExample(page, 'parenting_ethnic_minorities');
    await page.selectOption('#by', 'adaptation');
    await page.waitForSelector('#subgroups table');
    await page.fill('#sim-reps', '100');
    await page.click('#sim-run');
    await page.waitForSelector('#sim-plots svg');
    assert.deepEqual(await axeViolations(page), [], 'with results');
    if (process.env.TAU_SCREENSHOTS) {
      mkdirSync(process.env.TAU_SCREENSHOTS, { recursive: true });
      await page.selectOption('#by', '');
      await page.locator('#h-data').scrollIntoViewIfNeeded();
      await page.screenshot({ path: path.join(process.env.TAU_SCREENSHOTS, `${size}.png`) });
      await page.locator('#h-results').scrollIntoViewIfNeeded();
      await page.screenshot({ path: path.join(process.env.TAU_SCREENSHOTS, `${size}-results.png`) });
      await page.screenshot({ path: path.join(process.env.TAU_SCREENSHOTS, `${size}-full.png`), fullPage: true });
    }
    await page.fill('#studies input[data-row="0"][data-field="vi"]', 'x');
    await page.press('#studies input[data-row="0"][data-field="vi"]', 'Tab');
    await page.waitForSelector('#studies .cell-error');
    assert.deepEqual(await axeViolations(page), [], 'with an error');
    await page.done();
  });

  test(`${size}: the layout fits the screen, labels sit above values, plot text is readable`, async () => {
    const page = await open(env, size);
    await loadExample(page, 'parenting_ethnic_minorities');
    const width = SIZES[size].viewport.width;
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth) <= width, 'no sideways scrolling of the page');
    const [dt, dd] = await Promise.all(['#summary dt', '#summary dd'].map((s) => page.locator(s).first().boundingBox()));
    if (size === 'phone') assert.ok(dd.y >= dt.y + dt.height - 1, 'the summary label is above its value');
    // The smallest text of the forest plot, as drawn on screen.
    const smallest = await page.$$eval('#forest svg text', (els) => Math.min(...els.filter((e) => e.textContent.trim())
      .map((e) => e.getBoundingClientRect().height)));
    assert.ok(smallest >= 9, `plot text is ${smallest} px high`);
    // Drag targets: the marks take touches without the browser panning.
    assert.equal(await page.$eval('#funnel svg circle', (c) => getComputedStyle(c).touchAction), 'none');
    assert.equal(await page.$eval('#forest svg rect.square', (c) => getComputedStyle(c).touchAction), 'none');
    await page.done();
  });

  test(`${size}: a keyboard-only run through the page`, async () => {
    const page = await open(env, size);
    const focused = () => page.evaluate(() => document.activeElement.id || document.activeElement.textContent.trim());
    // The first Tab reaches the skip links.
    await page.keyboard.press('Tab');
    assert.equal(await focused(), 'Skip to the model settings');
    // An example with the keyboard: focus the menu, arrow down (no edits yet, no question).
    await page.focus('#example');
    await page.keyboard.press('ArrowDown');
    await page.waitForSelector('#summary [data-key="estimate"]');
    // The file button shows its focus.
    await page.focus('#file');
    const outline = await page.$eval('label[for="file"]', (l) => getComputedStyle(l).outlineStyle);
    assert.equal(outline, 'solid', 'the file button shows focus');
    // From the example menu to the estimator in a few Tab presses: the table can be skipped.
    await page.focus('#example');
    let presses = 0;
    while ((await focused()) !== 'method' && presses < 40) {
      const id = await focused();
      await page.keyboard.press(id === 'Skip the study table' ? 'Enter' : 'Tab');
      presses += 1;
    }
    assert.equal(await focused(), 'method');
    assert.ok(presses <= 15, `${presses} key presses from Example to the estimator`);
    await page.keyboard.press('ArrowUp'); // REML -> DL
    await page.waitForFunction(() => document.getElementById('summary').textContent.includes('DL'));
    // Edit a cell with the keyboard, then arrow keys on the Example menu ask first.
    await page.focus('#studies input[data-row="0"][data-field="yi"]');
    await page.keyboard.press('Control+A');
    await page.keyboard.type('0.5');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.getElementById('caption').textContent.includes('to 0.5'));
    page.acceptDialogs = false;
    await page.focus('#example');
    await page.keyboard.press('ArrowDown');
    await page.waitForFunction(() => true);
    assert.equal(page.dialogs.length, 1, 'asked before replacing edited data');
    assert.equal(await page.inputValue('#studies input[data-row="0"][data-field="yi"]'), '0.5', 'the edit is kept');
    assert.equal(await page.inputValue('#example'), 'parenting_ethnic_minorities');
    // Undo with the keyboard.
    await page.focus('#undo');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelector('#studies input[data-row="0"][data-field="yi"]').value === '0.24');
    await page.done();
  });

  test(`${size}: a drag is announced once, after it ends`, async () => {
    const page = await open(env, size);
    await loadExample(page, 'parenting_ethnic_minorities');
    assert.equal(await page.getAttribute('#summary', 'aria-live'), null);
    await page.evaluate(() => {
      window.announced = [];
      new MutationObserver(() => window.announced.push(document.getElementById('announce').textContent))
        .observe(document.getElementById('announce'), { childList: true, characterData: true, subtree: true });
    });
    await drag(page, page.locator('#funnel svg circle').nth(2), 80, 0, 20);
    await page.waitForFunction(() => document.getElementById('caption').textContent.startsWith('You moved'));
    const announced = await page.evaluate(() => window.announced);
    assert.ok(announced.length >= 1 && announced.length <= 2, `announced ${announced.length} times`);
    assert.match(announced.at(-1), /^You moved/);
    await page.done();
  });

  test(`${size}: a touch drag on a mark is not cancelled by the browser`, async () => {
    const page = await open(env, size);
    await loadExample(page, 'parenting_ethnic_minorities');
    const point = page.locator('#funnel svg circle').nth(1);
    await point.scrollIntoViewIfNeeded();
    const box = await point.boundingBox();
    const [x, y] = [box.x + box.width / 2, box.y + box.height / 2];
    const yi = await page.inputValue('#studies input[data-row="1"][data-field="yi"]');
    const cdp = await page.context().newCDPSession(page);
    const touch = (type, dx) => cdp.send('Input.dispatchTouchEvent', { type, touchPoints: type === 'touchEnd' ? [] : [{ x: x + dx, y }] });
    await touch('touchStart', 0);
    for (let i = 1; i <= 12; i += 1) await touch('touchMove', 6 * i);
    await touch('touchEnd', 72);
    await page.waitForFunction(() => document.getElementById('caption').textContent.startsWith('You moved'));
    assert.notEqual(await page.inputValue('#studies input[data-row="1"][data-field="yi"]'), yi);
    await page.done();
  });
}

test('10,000 studies: a paged table, no forest plot, an honest timing line', async () => {
  const studies = Array.from({ length: 10000 }, (_, i) => ({ study: `S${i + 1}`, yi: Math.sin(i) / 2, vi: 0.01 + (i % 50) / 500 }));
  const file = path.join(TMP, 'large.json');
  writeFileSync(file, JSON.stringify({ measure: 'GEN', studies }));
  const page = await open(env, 'desktop');
  await page.setInputFiles('#file', file);
  await page.waitForSelector('#summary [data-key="estimate"]', { timeout: 60000 });
  assert.ok(await page.locator('#studies input').count() <= 400, 'only one page of the table is in the document');
  assert.match(await page.textContent('#page-label'), /Studies 1–100 of 10000/);
  assert.equal(await page.locator('#forest svg').count(), 0);
  assert.match(await page.textContent('#forest'), /up to 300 studies/);
  const started = Date.now();
  await page.fill('#studies input[data-row="5"][data-field="yi"]', '2');
  await page.press('#studies input[data-row="5"][data-field="yi"]', 'Tab');
  await page.waitForFunction(() => document.getElementById('caption').textContent.includes('to 2.'), null, { timeout: 60000 });
  const elapsed = Date.now() - started;
  const line = await page.textContent('#status');
  const [, total] = line.match(/: (\d+) ms for the last update \(engine \d+ ms, page \d+ ms[),]/) || [];
  assert.ok(total, line);
  assert.ok(+total <= elapsed + 50, `the timing line (${total} ms) is not more than the wall time (${elapsed} ms)`);
  await page.click('#page-next');
  assert.match(await page.textContent('#page-label'), /Studies 101–200/);
  await page.done();
});

test('a failed engine load says so', async () => {
  const page = await open(env, 'desktop', {
    ready: false,
    route: (p) => p.route('**/tau_wasm_bg.wasm', (r) => r.fulfill({ status: 404, body: '' })),
  });
  await page.waitForFunction(() => document.getElementById('status').textContent.includes('could not be loaded'));
  assert.equal(await page.getAttribute('#status', 'role'), 'alert');
  page.problems.length = 0; // the 404 itself is logged to the console
  await page.done();
});
