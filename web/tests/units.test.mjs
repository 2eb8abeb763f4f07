// The page's pure modules, without a browser (issue 27: notes for displays
// that can surprise, charts, commands, cell parsing), and the size budget of
// the engine (at most 500 KB gzipped), checked on web/dist/ as built.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import path from 'node:path';
import { DIST } from './helpers.mjs';
import { notes } from '../summary.js';
import { histogram, coverage } from '../charts.js';
import { metaforCode, tauCommand } from '../commands.js';
import { parseNumber, pastedToCsv } from '../table.js';

const pool = (over = {}) => ({
  k: 5, estimate: -0.7, tau2: 0.3, tau2_ci: [0.1, 1.1], df: null, settings: { measure: 'RR', method: 'REML', level: 95 },
  transformed: { scale: 'RR' }, ...over,
});

test('notes: the scale of each number, the PI distribution, τ² outside its Q-profile CI', () => {
  const rr = notes(pool());
  assert.match(rr[0], /log risk ratio scale \(RR\).*forest plot's axis.*risk ratios/);
  assert.match(rr[1], /normal distribution/);
  assert.equal(rr.length, 2, 'τ² inside its CI: no note');
  const knha = notes(pool({ df: 4, settings: { measure: 'SMD', method: 'REML', level: 95 }, transformed: null }));
  assert.match(knha[0], /scale of the effect sizes \(SMD\)/);
  assert.match(knha[1], /t distribution with 4 degrees of freedom/);
  const outside = notes(pool({ tau2: 0.05 }));
  assert.match(outside[2], /lies outside its Q-profile CI/);
});

test('histogram: the draws beyond the axis are a separate, labelled bar; the legend text is dark', () => {
  const svg = histogram({ DL: [0.01, 0.02, 0.03, 5], REML: [0.02, 0.02, 0.04, 0.05] }, 0.05);
  assert.match(svg, />&gt;[\d.]+<\/text>/, 'the overflow bar is labelled');
  assert.match(svg, /beyond the axis/);
  assert.doesNotMatch(svg, /<text[^>]*fill="#(E69F00|0072B2)"/, 'no coloured legend text (contrast)');
});

test('coverage: bars from 0, one colour per estimator, Knapp-Hartung hatched, never black', () => {
  const bars = ['DL', 'REML', 'PM', 'SJ'].flatMap((m, i) => [
    { label: `${m} z`, value: 90, colour: i, light: false }, { label: `${m} KH`, value: 95, colour: i, light: true }]);
  const svg = coverage('CI', bars, 95);
  const fills = [...svg.matchAll(/<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="[\d.]+" fill="([^"]+)"/g)].map((m) => m[1]);
  assert.equal(fills.length, 8);
  assert.ok(!fills.includes('#000') && !fills.includes('undefined'));
  assert.equal(new Set(fills.filter((f) => f.startsWith('#'))).size, 4);
  assert.match(svg, />0<\/text>/, 'the axis starts at 0');
});

test('commands: replace = FALSE keeps dragged studies; edited data say where they come from', () => {
  const doc = { studies: [{ study: 'a', events1: 1, n1: 10, events2: 2, n2: 10 }, { study: 'b', yi: -0.2, vi: 0.1 }] };
  const options = { method: 'REML', test: 'z', level: 90, by: null, measure: null };
  const code = metaforCode('bcg-edited.json', doc, options, 'RR', true);
  assert.match(code, /^# Reads the data as they are on the page/);
  assert.match(code, /escalc\(measure = "RR", ai = events1.*replace = FALSE\)/);
  assert.match(code, /level = 90/);
  assert.equal(tauCommand('bcg-edited.json', options), 'tau pool bcg-edited.json --level 90');
});

test('cells: decimal commas, spaces, and text that is not a number', () => {
  assert.equal(parseNumber('0,25'), 0.25);
  assert.equal(parseNumber(' -1.5e-2 '), -0.015);
  assert.equal(parseNumber('1.234,5'), null);
  assert.equal(parseNumber('abc'), null);
  const { csv, measure } = pastedToCsv('study\tn1\tm1\tsd1\tn2\tm2\tsd2\nA\t20\t10,5\t4\t20\t8\t4\n');
  assert.equal(measure, 'SMD');
  assert.match(csv, /^# measure: SMD\nstudy\tn1/);
  assert.match(pastedToCsv('study').error, /header row/);
});

// Issue 27's budget: the engine at most 500 KB gzipped. tau-plot embeds only the
// metrics of its fonts in the wasm build (crates/tau-plot/assets/fonts/metrics),
// the page's own fonts draw the SVG text.
test('the engine is at most 500 KB gzipped (web/dist, as built by build.sh)', () => {
  const wasm = readFileSync(path.join(DIST, 'pkg/tau_wasm_bg.wasm'));
  const gzipped = gzipSync(wasm, { level: 9 }).length;
  assert.ok(gzipped <= 500 * 1024, `the engine is ${gzipped} bytes gzipped`);
});
