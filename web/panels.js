// The learning panels: "What I² does not tell you" (the same true effects
// with larger and smaller studies) and the simulation lab (tau simulate).

import { fmt, num } from './format.js';
import { histogram, coverage } from './charts.js';

const I2_FACTORS = [0.25, 1, 4, 16];
/** Above this many studies the panel's four extra analyses wait for a click. */
export const I2_AUTO_LIMIT = 1000;

const $ = (id) => document.getElementById(id);

export function clearI2Panel(message = '') {
  $('i2-table').innerHTML = '';
  $('i2-caption').textContent = message;
}

export function renderI2Panel(tau, pool, options) {
  if (!pool || pool.settings.method === 'EE') {
    clearI2Panel(pool ? 'Choose a random-effects estimator (not EE) to see this panel.' : '');
    return;
  }
  const plain = { ...options, measure: null, by: null };
  const rows = I2_FACTORS.map((m) => {
    const studies = pool.studies.map((s) => ({
      study: s.study,
      yi: pool.estimate + (s.yi - pool.estimate) * Math.sqrt((pool.tau2 + s.vi / m) / (pool.tau2 + s.vi)),
      vi: s.vi / m,
    }));
    const out = JSON.parse(tau.analyse(JSON.stringify({ measure: 'GEN', studies }), JSON.stringify(plain)));
    return { m, pool: out.ok ? out.pool : null };
  });
  $('i2-table').innerHTML = `<caption>The same true effects with studies ¼ to 16 times as large</caption>
    <thead><tr><th scope="col">study size ×</th><th scope="col">τ̂²</th><th scope="col">τ̂</th><th scope="col">I² (%)</th>
    <th scope="col">prediction interval</th></tr></thead><tbody>${rows.map(({ m, pool: p }) => (p
    ? `<tr${m === 1 ? ' class="current"' : ''}><th scope="row">${m}</th><td>${num(`i2-${m}-tau2`, p.tau2)}</td><td>${fmt(p.tau)}</td>
       <td>${fmt(p.I2, 1)}</td><td>${fmt(p.pi_lower)} to ${fmt(p.pi_upper)}</td></tr>`
    : `<tr><th scope="row">${m}</th><td colspan="4">could not be fitted</td></tr>`)).join('')}</tbody>`;
  const [small, , , large] = rows.map((r) => r.pool);
  $('i2-caption').textContent = small && large
    ? `With studies 16 times as large, I² goes from ${fmt(small.I2, 1)}% to ${fmt(large.I2, 1)}% `
      + `while τ stays near ${fmt(pool.tau, 3)} (${fmt(small.tau, 3)} to ${fmt(large.tau, 3)}): I² measures how much of what you see `
      + 'is heterogeneity, not how different the true effects are.'
    : '';
}

// ---------- simulation lab ----------

function labOptions(level) {
  return {
    k: Number($('sim-k').value),
    tau2: Number($('sim-tau2').value),
    mu: Number($('sim-mu').value),
    n_min: Number($('sim-nmin').value),
    n_max: Number($('sim-nmax').value),
    reps: Number($('sim-reps').value),
    methods: [...document.querySelectorAll('input[name="sim-method"]:checked')].map((c) => c.value),
    tests: ['z', 'knha'],
    level,
    seed: Number($('sim-seed').value),
  };
}

function showError(message) {
  $('sim-error').hidden = !message;
  $('sim-error').textContent = message;
}

/** Runs the lab with the page's level (a percentage), and draws its table and charts. */
export function runLab(tau, level, status) {
  const options = labOptions(level);
  const text = JSON.stringify(options);
  if (!Number.isSafeInteger(options.seed) || options.seed < 0 || !Number.isSafeInteger(options.reps) || options.reps < 1) {
    showError('The seed must be a whole number ≥ 0 and the number of meta-analyses a whole number ≥ 1.');
    return;
  }
  if (level === null) {
    showError('The level under “2. Model” is not valid: give a percentage such as 95.');
    return;
  }
  status('Simulating…');
  setTimeout(() => {
    const started = performance.now();
    const out = JSON.parse(tau.simulate(text));
    if (!out.ok) {
      showError(out.error);
      $('sim-table').innerHTML = '';
      $('sim-plots').innerHTML = '';
      status('Ready.');
      return;
    }
    showError('');
    const draws = JSON.parse(tau.tau2_draws(text, Math.min(options.reps, 2000)));
    renderLab(out.result, draws.draws, options);
    status(`Ready. Simulation of ${options.reps} meta-analyses: ${((performance.now() - started) / 1000).toFixed(1)} s.`);
  }, 0);
}

function renderLab(result, draws, options) {
  const pct = (x) => 100 * x.value;
  const rows = result.results.map((c) => {
    const key = `${c.method}-${c.test}`;
    return `<tr><th scope="row">${c.method}</th><td>${c.test}</td>
      <td>${num(`${key}-tau2_bias`, c.tau2.bias)}</td><td>${num(`${key}-estimate_bias`, c.estimate.bias)}</td>
      <td>${num(`${key}-ci_coverage`, c.ci_coverage.value)}</td><td>${num(`${key}-pi_coverage`, c.pi_coverage.value)}</td>
      <td>${c.fits}</td><td>${c.failed}</td></tr>`;
  }).join('');
  $('sim-table').innerHTML = `<caption>${result.settings.reps} meta-analyses of k = ${options.k}, μ = ${options.mu}, τ² = ${options.tau2}, seed ${options.seed}</caption>
    <thead><tr><th scope="col">estimator</th><th scope="col">test</th><th scope="col">bias of τ̂²</th><th scope="col">bias of μ̂</th>
    <th scope="col">CI coverage</th><th scope="col">PI coverage</th><th scope="col">fits</th><th scope="col">failed</th></tr></thead><tbody>${rows}</tbody>`;
  const bars = (measure) => result.results.map((c) => ({
    label: `${c.method} ${c.test === 'knha' ? 'KH' : 'z'}`, value: pct(c[measure]), colour: options.methods.indexOf(c.method), light: c.test === 'knha',
  }));
  const level = result.settings.level;
  const alts = ['Histogram of the estimated tau squared; the table gives the bias', 'CI coverage by estimator and test; the table lists the values',
    'PI coverage by estimator and test; the table lists the values'];
  $('sim-plots').innerHTML = [
    histogram(draws, options.tau2, options.methods),
    coverage(`How often the ${level}% CI holds μ`, bars('ci_coverage'), level),
    coverage(`How often the ${level}% PI holds a new study's true effect`, bars('pi_coverage'), level),
  ].map((svg, i) => `<figure><div class="plot" role="img" aria-label="${alts[i]}">${svg}</div></figure>`).join('');
}
