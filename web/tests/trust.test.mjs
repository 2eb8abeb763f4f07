// Issue 27, "The page students can trust": the data and numbers half. Each
// test runs at the desktop (1366×768) and the phone (390×844) size.
// Expected numbers come from the tau binary on the same data (itself checked
// against metafor), or from metafor itself (fixtures/bcg_dragged.json, made by
// fixtures/generate_bcg_dragged.R with metafor 3.8.1).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import path from 'node:path';
import {
  ROOT, TMP, SIZES, start, open, loadExample, summary, tau, close, assertSameAsCli, drag, cell, assertViewsCleared,
} from './helpers.mjs';

const FIXTURES = path.join(ROOT, 'web/tests/fixtures');
let env;
before(async () => { env = await start(); });
after(async () => { await env?.stop(); });

for (const size of Object.keys(SIZES)) {
  test(`${size}: Measure is off for effect sizes given as yi/vi, with the reason`, async () => {
    const page = await open(env, size);
    await loadExample(page, 'parenting_ethnic_minorities');
    assert.equal(await page.isDisabled('#measure'), true);
    assert.match(await page.textContent('#measure-note'), /give their effect sizes directly \(yi and vi\)/);
    assert.doesNotMatch(await page.textContent('#r-code'), /escalc/);
    await loadExample(page, 'bcg');
    assert.equal(await page.isDisabled('#measure'), false);
    assert.equal(await page.textContent('#measure-note'), '');
    await page.done();
  });

  test(`${size}: a drag after a study is left out moves the dragged study`, async () => {
    const page = await open(env, size);
    await loadExample(page, 'parenting_ethnic_minorities');
    // Record 2 loses its effect: it is left out, and the plots draw 15 studies.
    const yi1 = await cell(page, 1, 'yi');
    await page.fill('#studies input[data-row="1"][data-field="yi"]', '');
    await page.press('#studies input[data-row="1"][data-field="yi"]', 'Tab');
    await page.waitForFunction(() => document.querySelector('#summary [data-key="k"]')?.textContent === '15');
    const [row2, row3] = [await cell(page, 2, 'yi'), await cell(page, 3, 'yi')];
    // The second square is record 3 (index 2), not the second row of the table.
    await drag(page, page.locator('#forest svg rect.square').nth(1), 60, 0);
    await page.waitForFunction(() => document.getElementById('caption').textContent.startsWith('You moved'));
    const label = await cell(page, 2, 'study');
    assert.ok((await page.textContent('#caption')).startsWith(`You moved ${label} to`));
    assert.notEqual(await cell(page, 2, 'yi'), row2, 'the dragged study moved');
    assert.equal(await cell(page, 1, 'yi'), '', 'the left-out study is untouched');
    assert.equal(await cell(page, 3, 'yi'), row3, 'its neighbour is untouched');
    // And on the funnel: the fourth point is record 5 (index 4).
    const row4 = await cell(page, 4, 'yi');
    await drag(page, page.locator('#funnel svg circle').nth(3), -50, 0);
    await page.waitForFunction((v) => document.querySelector('#studies input[data-row="4"][data-field="yi"]').value !== v, row4);
    assert.equal(await cell(page, 3, 'yi'), row3);
    assert.ok(yi1 !== '');
    await page.done();
  });

  test(`${size}: a click changes nothing; Undo and Reset bring raw data back`, async () => {
    const page = await open(env, size);
    await loadExample(page, 'bcg');
    const before = await page.textContent('#summary');
    const raw = await cell(page, 0, 'events1');
    // A press that moves 2 px is a click: the study keeps its 2×2 table.
    await drag(page, page.locator('#forest svg rect.square').first(), 2, 1, 2);
    await drag(page, page.locator('#funnel svg circle').first(), 0, 0);
    assert.equal(await cell(page, 0, 'events1'), raw);
    assert.equal(await page.textContent('#summary'), before);
    assert.doesNotMatch(await page.textContent('#caption'), /NaN|–/);
    assert.equal(await page.isDisabled('#undo'), true);
    // A real drag replaces the 2×2 table by yi and vi; Undo restores it.
    await drag(page, page.locator('#forest svg rect.square').first(), 40, 0);
    await page.waitForFunction(() => document.getElementById('caption').textContent.startsWith('You moved'));
    assert.equal(await cell(page, 0, 'events1'), '');
    await page.click('#undo');
    await page.waitForFunction((v) => document.querySelector('#studies input[data-row="0"][data-field="events1"]')?.value === v, raw);
    assert.equal(await page.textContent('#summary'), before);
    // Two edits, then Reset: the file as loaded.
    await drag(page, page.locator('#forest svg rect.square').nth(2), 30, 0);
    await page.waitForFunction(() => !document.getElementById('reset').disabled);
    await page.click('#reset');
    await page.waitForFunction(() => document.getElementById('reset').disabled);
    assert.equal(await page.textContent('#summary'), before);
    await page.done();
  });

  test(`${size}: level 0.95 is read as 95%, as the CLI reads it`, async () => {
    const page = await open(env, size);
    await loadExample(page, 'parenting_ethnic_minorities');
    await page.fill('#level', '0.95');
    await page.press('#level', 'Tab');
    await page.waitForFunction(() => document.getElementById('level-note').textContent.includes('read as 95%'));
    const shown = await summary(page);
    assert.equal(shown.level.value, 95);
    assert.doesNotMatch(await page.textContent('#summary'), /0\.95% CI/);
    assertSameAsCli(shown, tau(['pool', 'studies/parenting_ethnic_minorities.json', '--level', '0.95']));
    await page.fill('#level', '90');
    await page.press('#level', 'Tab');
    await page.waitForFunction(() => document.getElementById('cli-command').textContent.includes('--level 90'));
    assertSameAsCli(await summary(page), tau(['pool', 'studies/parenting_ethnic_minorities.json', '--level', '90']));
    await page.done();
  });

  test(`${size}: every view clears after a failed analysis or a failed file`, async () => {
    const page = await open(env, size);
    await loadExample(page, 'parenting_ethnic_minorities');
    await page.selectOption('#by', 'adaptation');
    await page.waitForSelector('#subgroups table');
    // A negative variance.
    await page.fill('#studies input[data-row="0"][data-field="vi"]', '-0.02');
    await page.press('#studies input[data-row="0"][data-field="vi"]', 'Tab');
    await page.waitForSelector('#analysis-error:not([hidden])');
    await assertViewsCleared(page, 'negative vi');
    assert.equal(await page.getAttribute('#studies input[data-row="0"][data-field="vi"]', 'aria-invalid'), 'true');
    await page.click('#undo');
    await page.waitForSelector('#subgroups table');
    // An invalid level.
    await page.fill('#level', '150');
    await page.press('#level', 'Tab');
    await page.waitForSelector('#analysis-error:not([hidden])');
    assert.match(await page.textContent('#analysis-error'), /percentage between 1 and 100/);
    await assertViewsCleared(page, 'level 150');
    await page.fill('#level', '95');
    await page.press('#level', 'Tab');
    await page.waitForSelector('#summary [data-key="estimate"]');
    // Every study removed: the table is not a dead end.
    while (await page.locator('#studies button[data-remove]').count()) await page.locator('#studies button[data-remove]').first().click();
    await assertViewsCleared(page, 'no studies');
    assert.equal(await page.isVisible('#empty-table'), true);
    await page.click('#add-study');
    assert.equal(await page.locator('#studies tbody tr').count(), 1);
    // A file that fails to load leaves nothing of the previous results.
    await loadExample(page, 'bcg');
    writeFileSync(path.join(TMP, 'broken.json'), '{"studies": [');
    await page.setInputFiles('#file', path.join(TMP, 'broken.json'));
    await page.waitForSelector('#load-error:not([hidden])');
    await assertViewsCleared(page, 'broken file');
    assert.equal(await page.locator('#studies tbody tr').count(), 0);
    await page.done();
  });

  test(`${size}: after a drag, the tau command and the R code reproduce the screen`, async () => {
    const page = await open(env, size);
    await loadExample(page, 'bcg');
    await drag(page, page.locator('#forest svg rect.square').nth(2), 50, 0);
    await page.waitForFunction(() => document.getElementById('caption').textContent.startsWith('You moved'));
    const shown = await summary(page);
    assert.equal(shown.k.value, 13);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-json')]);
    const dir = path.join(TMP, `drag-${size}`);
    spawnSync('mkdir', ['-p', dir]);
    await download.saveAs(path.join(dir, download.suggestedFilename()));
    const command = await page.textContent('#cli-command');
    assert.equal(command, `tau pool ${download.suggestedFilename()}`);
    assertSameAsCli(shown, tau(command.split(' ').slice(1), dir));
    const code = await page.textContent('#r-code');
    assert.match(code, /replace = FALSE/);
    assert.match(code, new RegExp(`fromJSON\\("${download.suggestedFilename()}"\\)`));
    // With R at hand, run the code itself (the committed fixture below covers machines without R).
    const r = spawnSync('Rscript', ['-e', 'cat(requireNamespace("metafor", quietly = TRUE))'], { encoding: 'utf8' });
    if (r.stdout === 'TRUE') {
      const script = `${code}\njsonlite::write_json(list(k = res$k, estimate = as.numeric(res$b), tau2 = res$tau2), "out.json", digits = NA, auto_unbox = TRUE)\n`;
      writeFileSync(path.join(dir, 'code.R'), script);
      const run = spawnSync('Rscript', ['code.R'], { cwd: dir, encoding: 'utf8' });
      assert.equal(run.status, 0, run.stderr);
      const out = JSON.parse(readFileSync(path.join(dir, 'out.json'), 'utf8'));
      assert.equal(out.k, 13);
      close(shown.estimate.value, out.estimate, 'estimate, metafor', 1e-6);
      close(shown.tau2.value, out.tau2, 'tau^2, metafor', 1e-6);
    }
    await page.done();
  });
}

test('the R code for BCG with one dragged study is the fixture code, and the page shows metafor\'s numbers', async () => {
  // metafor 3.8.1: fixtures/bcg_dragged.code.R (the page's code for this file) run by generate_bcg_dragged.R.
  const reference = JSON.parse(readFileSync(path.join(FIXTURES, 'bcg_dragged.json'), 'utf8'));
  const page = await open(env, 'desktop');
  const input = path.join(TMP, 'bcg_dragged_input.json');
  copyFileSync(path.join(FIXTURES, 'bcg_dragged_input.json'), input);
  await page.setInputFiles('#file', input);
  await page.waitForSelector('#summary [data-key="estimate"]');
  assert.equal(`${await page.textContent('#r-code')}\n`, readFileSync(path.join(FIXTURES, 'bcg_dragged.code.R'), 'utf8'));
  const shown = await summary(page);
  assert.equal(shown.k.value, reference.k);
  // The page names metafor's QE as tau's JSON does; the R fixture calls it Q.
  for (const key of ['estimate', 'ci_lower', 'ci_upper', 'tau2', 'I2', 'Q', 'pi_lower', 'pi_upper']) close(shown[key === 'Q' ? 'QE' : key].value, reference[key], key, 1e-6);
  await page.done();
});

for (const size of Object.keys(SIZES)) {
  test(`${size}: cells pasted from a spreadsheet, decimal commas and plain messages`, async () => {
    const page = await open(env, size);
    await page.click('#paste-box summary');
    const pasted = 'study\tyi\tvi\tgroup\nAlpha\t0,21\t0,040\ta\nBeta\t0,52\t0,031\tb\nGamma\t0,10\t0,020\ta\nDelta\t0,33\t0,052\tb\n';
    await page.fill('#paste', pasted);
    await page.click('#paste-use');
    await page.waitForSelector('#summary [data-key="estimate"]');
    assert.equal(await page.locator('#studies tbody tr').count(), 4);
    const csv = path.join(TMP, 'pasted.csv');
    writeFileSync(csv, pasted);
    assertSameAsCli(await summary(page), tau(['pool', csv]));
    // A decimal comma typed in a cell is a number.
    await page.fill('#studies input[data-row="0"][data-field="yi"]', '0,4');
    await page.press('#studies input[data-row="0"][data-field="yi"]', 'Tab');
    await page.waitForFunction(() => document.getElementById('caption').textContent.includes('to 0.4.'));
    // Text that is not a number: a plain message at the cell, no offsets into JSON.
    await page.fill('#studies input[data-row="1"][data-field="vi"]', 'abc');
    await page.press('#studies input[data-row="1"][data-field="vi"]', 'Tab');
    await page.waitForSelector('#studies .cell-error');
    const note = await page.textContent('#studies .cell-error');
    assert.match(note, /“abc” is not a number\. Type a number such as 0\.25/);
    assert.doesNotMatch(`${note} ${await page.textContent('#analysis-error')}`, /\d+:\d+|quotes/);
    assert.equal(await page.getAttribute('#studies input[data-row="1"][data-field="vi"]', 'aria-invalid'), 'true');
    await assertViewsCleared(page, 'text in a number cell');
    await page.done();
  });

  test(`${size}: start from nothing: Add a study, templates that explain their columns`, async () => {
    const page = await open(env, size);
    await page.click('#add-study');
    assert.equal(await page.locator('#studies tbody tr').count(), 3);
    await page.selectOption('#template', 'means');
    await page.click('#new-table');
    const headers = await page.$$eval('#studies th[scope="col"]', (ths) => ths.map((t) => t.textContent));
    assert.deepEqual(headers, ['study', 'n1', 'm1', 'sd1', 'n2', 'm2', 'sd2']);
    assert.match(await page.textContent('#column-help'), /sd1.*standard deviation of group 1/s);
    assert.equal(await page.inputValue('#measure'), '');
    // Fill one study in: two groups of 20, means 10 and 8, SDs 4.
    for (const row of [0, 1]) {
      for (const [field, value] of Object.entries({ n1: 20, m1: 10 + row, sd1: 4, n2: 20, m2: 8, sd2: 4 })) {
        await page.fill(`#studies input[data-row="${row}"][data-field="${field}"]`, String(value));
        await page.press(`#studies input[data-row="${row}"][data-field="${field}"]`, 'Tab');
      }
    }
    await page.waitForSelector('#summary [data-key="estimate"]');
    assert.match(await page.textContent('#summary'), /measure SMD/);
    await page.done();
  });
}
