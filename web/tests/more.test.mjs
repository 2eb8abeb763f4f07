// Issue 27, "the whole engine through the analysis request", and issue 31's
// page control: the panels of "5. More of the engine" (meta-regression with
// its bubble plot, the three-level model with a robust test, leave-one-out,
// the bias panel, the Bayesian model with the prior on τ as a control, the
// paper tables), each checked against the tau command it names, at the
// desktop and phone sizes, by keyboard, and with an axe-core scan.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { ROOT, TAU, SIZES, start, open, loadExample, tau, close } from './helpers.mjs';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const FILE = 'studies/parenting_ethnic_minorities.json';
let env;
before(async () => { env = await start(); });
after(async () => { await env?.stop(); });

/** The full-precision value of a number shown with `data-key`. */
const shown = (page, key) => page.$eval(`[data-key="${key}"]`, (e) => Number(e.dataset.value));

async function openPanel(page, name) {
  await page.locator(`#p-${name} > summary`).click();
  await page.waitForSelector(`#${name}-out :is(table, p, dl), #${name}-error:not([hidden])`);
}

for (const size of Object.keys(SIZES)) {
  test(`${size}: the parenting example opens the three-level model with a robust test, as tau pool --random --robust`, async () => {
    const page = await open(env, size);
    await loadExample(page, 'parenting_ethnic_minorities');
    assert.equal(await page.$eval('#p-multilevel', (d) => d.open), true, 'several outcomes per trial: the panel is open');
    await page.waitForSelector('[data-key="ml-estimate"]');
    assert.equal(await page.inputValue('#ml-outer'), 'trial');
    assert.equal(await page.inputValue('#ml-inner'), 'outcome');
    const cli = tau(['pool', FILE, '--random', 'trial/outcome', '--robust', 'trial']);
    close(await shown(page, 'ml-estimate'), cli.estimate, 'three-level estimate');
    close(await shown(page, 'ml-ci_lower'), cli.ci_lower, 'robust CI lower');
    close(await shown(page, 'ml-ci_upper'), cli.ci_upper, 'robust CI upper');
    close(await shown(page, 'ml-sigma2-0'), cli.sigma2[0], 'σ² of trial');
    close(await shown(page, 'ml-sigma2-1'), cli.sigma2[1], 'σ² of trial/outcome');
    assert.equal(await page.textContent('#multilevel-command'), `tau pool ${path.basename(FILE).replace('.json', '')}.json --random trial/outcome --robust trial`);
    assert.equal(await page.locator('#multilevel-plot svg').count(), 1);
    // Without the robust test: the model-based CI of the same model.
    await page.uncheck('#ml-robust');
    await page.waitForFunction(() => !document.getElementById('multilevel-command').textContent.includes('--robust'));
    const model = tau(['pool', FILE, '--random', 'trial/outcome']);
    close(await shown(page, 'ml-ci_lower'), model.ci_lower, 'model-based CI lower');
    await page.done();
  });

  test(`${size}: meta-regression with a bubble plot, leave-one-out and the bias panel match the CLI`, async () => {
    const page = await open(env, size);
    await loadExample(page, 'parenting_ethnic_minorities');
    await openPanel(page, 'regress');
    await page.selectOption('#reg-mod', 'sessions');
    await page.waitForFunction(() => document.getElementById('regress-command').textContent.includes('--mods sessions'));
    const regress = tau(['regress', FILE, '--mods', 'sessions']);
    close(await shown(page, 'reg-b1'), regress.coefficients[1].estimate, 'slope');
    close(await shown(page, 'reg-qm'), regress.QM, 'QM');
    assert.equal(await page.locator('#regress-plot svg').count(), 1, 'a bubble plot');
    await page.selectOption('#reg-mod', 'adaptation');
    await page.waitForFunction(() => document.getElementById('regress-command').textContent.includes('--mods adaptation'));
    assert.equal(await page.locator('#regress-plot svg').count(), 0, 'no bubble plot for a text moderator');

    await openPanel(page, 'loo');
    const loo = tau(['leave-one-out', FILE]);
    close(await shown(page, 'loo-0'), loo.studies[0].estimate, 'without the first study');
    close(await shown(page, 'loo-all'), loo.overall.estimate, 'all studies');
    assert.equal(await page.locator('#loo-plot svg').count(), 1);

    await openPanel(page, 'bias');
    const bias = tau(['bias', FILE]);
    close(await shown(page, 'bias-egger'), bias.egger.statistic, "Egger's test");
    close(await shown(page, 'bias-k0'), bias.trimfill.k0, 'trim-and-fill k0');
    const psm = bias.adjusted.findIndex((a) => /3PSM|selection/i.test(a.method));
    assert.ok(psm >= 0, 'the 3PSM is among the adjusted estimates');
    close(await shown(page, `bias-adj-${psm}`), bias.adjusted[psm].estimate, '3PSM estimate');
    assert.equal(await page.locator('#bias-plot svg').count(), 1);

    // The panels follow the page's settings: DL.
    await page.selectOption('#method', 'DL');
    await page.waitForFunction(() => document.getElementById('loo-command').textContent.includes('--method DL'));
    close(await shown(page, 'loo-0'), tau(['leave-one-out', FILE, '--method', 'DL']).studies[0].estimate, 'leave-one-out with DL');
    await page.done();
  });

  test(`${size}: the Bayesian model redraws the posterior as the prior on τ moves (keyboard)`, async () => {
    const page = await open(env, size);
    await loadExample(page, 'parenting_ethnic_minorities');
    // Keyboard only: focus the panel's summary, open it with Enter, move the prior with the arrow keys.
    await page.focus('#p-bayes > summary');
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-key="bayes-mu-median"]');
    let cli = tau(['bayes', FILE, '--tau-prior', 'half-normal:0.5']);
    close(await shown(page, 'bayes-mu-median'), cli.mu.median, 'posterior median of μ', 1e-8);
    close(await shown(page, 'bayes-tau-upper'), cli.tau.ci_upper, 'upper end of τ', 1e-8);
    const before = await page.innerHTML('#bayes-plot');
    await page.focus('#bayes-scale');
    for (let i = 0; i < 4; i += 1) await page.keyboard.press('ArrowRight');
    await page.waitForFunction(() => document.getElementById('bayes-command').textContent.includes('half-normal:0.7'));
    assert.equal(await page.textContent('#bayes-scale-value'), '0.7');
    assert.notEqual(await page.innerHTML('#bayes-plot'), before, 'the densities are redrawn');
    cli = tau(['bayes', FILE, '--tau-prior', 'half-normal:0.7']);
    close(await shown(page, 'bayes-tau-median'), cli.tau.median, 'posterior median of τ under the new prior', 1e-8);
    // Model averaging needs a proper prior on μ: off with a flat one, on with normal(0, 1).
    assert.equal(await page.isDisabled('#bayes-average'), true);
    await page.selectOption('#bayes-mu', 'normal:0,1');
    await page.check('#bayes-average');
    await page.waitForSelector('[data-key="bayes-incl-effect"]');
    cli = tau(['bayes', FILE, '--tau-prior', 'half-normal:0.7', '--mu-prior', 'normal:0,1', '--average']);
    close(await shown(page, 'bayes-incl-effect'), cli.inclusion_bf.effect, 'inclusion BF of the effect', 1e-8);
    await page.done();
  });

  test(`${size}: keyboard only: the skip link, a panel opened with Enter, its menu with the arrow keys`, async () => {
    const page = await open(env, size);
    await loadExample(page, 'parenting_ethnic_minorities');
    const focused = () => page.evaluate(() => document.activeElement.id || document.activeElement.textContent.trim());
    await page.focus('body');
    let presses = 0;
    while ((await focused()) !== 'Skip to more analyses' && presses < 5) {
      await page.keyboard.press('Tab');
      presses += 1;
    }
    await page.keyboard.press('Enter');
    assert.equal(await focused(), 'h-more');
    await page.keyboard.press('Tab');
    assert.equal(await focused(), 'Meta-regression and bubble plot');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.getElementById('regress-command').textContent.startsWith('tau regress'));
    await page.keyboard.press('Tab');
    assert.equal(await focused(), 'reg-mod');
    const before = await page.textContent('#regress-command');
    await page.keyboard.press('ArrowDown');
    await page.waitForFunction((b) => document.getElementById('regress-command').textContent !== b, before);
    assert.match(await page.textContent('#regress-command'), /--mods /);
    await page.done();
  });

  test(`${size}: the paper table is tau's Markdown and LaTeX, with copy buttons`, async () => {
    const page = await open(env, size);
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
    await loadExample(page, 'parenting_ethnic_minorities');
    await openPanel(page, 'paper');
    const markdown = execFileSync(TAU, ['pool', FILE, '--format', 'markdown'], { cwd: ROOT, encoding: 'utf8' });
    const latex = execFileSync(TAU, ['pool', FILE, '--format', 'latex'], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(await page.textContent('#paper-markdown'), markdown);
    assert.equal(await page.textContent('#paper-latex'), latex);
    await page.click('#copy-latex');
    await page.waitForFunction(() => /Copied|Select/.test(document.getElementById('copy-latex').textContent));
    if ((await page.textContent('#copy-latex')) === 'Copied') {
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), latex);
    }
    // Subgroups: the table of tau subgroup.
    await page.selectOption('#by', 'adaptation');
    await page.waitForFunction(() => document.getElementById('paper-out').textContent.includes('--by adaptation'));
    const groups = execFileSync(TAU, ['subgroup', FILE, '--by', 'adaptation', '--format', 'markdown'], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(await page.textContent('#paper-markdown'), groups);
    await page.done();
  });

  test(`${size}: a failed analysis clears every panel; axe-core finds nothing serious with all panels open`, async () => {
    const page = await open(env, size);
    await loadExample(page, 'parenting_ethnic_minorities');
    for (const name of ['regress', 'loo', 'bias', 'bayes', 'paper']) await openPanel(page, name);
    await page.waitForSelector('#bayes-plot svg');
    await page.addScriptTag({ path: AXE });
    const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
    const serious = result.violations.filter((v) => ['serious', 'critical'].includes(v.impact))
      .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join('; ')})`);
    assert.deepEqual(serious, []);
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth) <= SIZES[size].viewport.width, 'no sideways scrolling of the page');
    if (process.env.TAU_SCREENSHOTS) {
      mkdirSync(process.env.TAU_SCREENSHOTS, { recursive: true });
      for (const name of ['multilevel', 'bayes', 'bias']) {
        await page.locator(`#p-${name}`).scrollIntoViewIfNeeded();
        await page.locator(`#p-${name}`).screenshot({ path: path.join(process.env.TAU_SCREENSHOTS, `${size}-${name}.png`) });
      }
    }
    await page.fill('#studies input[data-row="0"][data-field="vi"]', '-1');
    await page.press('#studies input[data-row="0"][data-field="vi"]', 'Tab');
    await page.waitForSelector('#studies .cell-error');
    for (const name of ['multilevel', 'regress', 'loo', 'bias', 'bayes']) {
      assert.equal(await page.locator(`#${name}-out [data-key]`).count(), 0, `${name}: no numbers`);
      assert.equal(await page.locator(`#${name}-plot svg`).count(), 0, `${name}: no plot`);
    }
    assert.equal(await page.textContent('#paper-markdown'), '');
    await page.done();
  });
}
