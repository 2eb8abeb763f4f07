// The page: study table, controls, results, plots, export and the learning panels.
// All statistics come from tau's engine (pkg/tau_wasm.js); this file only moves
// data between the page and the engine.

import init, * as tau from './pkg/tau_wasm.js';
import EXAMPLES from './examples.js';
import { tauCommand, metaforCode } from './commands.js';
import { histogram, coverage } from './charts.js';

// The numeric record fields, in the order of tau's schema (tau_core::input::NUMERIC_FIELDS).
const NUMERIC_FIELDS = ['yi', 'vi', 'sei', 'estimate', 'ci_lower', 'ci_upper', 'ci_level', 'n1', 'm1', 'sd1',
  'n2', 'm2', 'sd2', 'events1', 'events2', 'r', 'n', 'events', 't', 'weight', 'm_pre', 'm_post', 'sd_pre',
  'sd_post', 'm', 'sd', 'time1', 'time2', 'time'];
const I2_FACTORS = [0.25, 1, 4, 16];

const $ = (id) => document.getElementById(id);
const state = { doc: null, fileName: 'studies.json', result: null, options: null };

// ---------- numbers ----------

function fmt(value, digits = 4) {
  if (value === null || value === undefined) return '–';
  if (!Number.isFinite(value)) return String(value);
  return value.toFixed(digits).replace(/^-(0\.0*)$/, '$1');
}

/** A p-value as the CLI's text report writes it: 4 decimals, or <.0001. */
function pValue(key, value) {
  return value !== null && value < 1e-4 ? `<span data-key="${key}" data-value="${value}">&lt;.0001</span>` : num(key, value);
}

function num(key, value, digits = 4) {
  return `<span data-key="${key}" data-value="${value}">${fmt(value, digits)}</span>`;
}

function esc(text) {
  return String(text).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
}

function show(id, message) {
  const el = $(id);
  el.hidden = !message;
  el.textContent = message || '';
}

// ---------- data in ----------

function loadText(text, name) {
  const out = JSON.parse(tau.read_file(text, name));
  state.fileName = name.replace(/\.csv$/i, '.json');
  if (!out.file) {
    show('load-error', out.error);
    return;
  }
  state.doc = out.file;
  show('load-error', out.error);
  $('dataset-title').textContent = state.doc.title || name;
  fillModerators();
  renderTable(out.issues);
  analyse(null, out.error !== null);
}

function loadExample(key) {
  loadText(EXAMPLES[key], `${key}.json`);
}

async function loadFile(file) {
  loadText(await file.text(), file.name);
}

function moderatorNames() {
  const names = [];
  for (const s of state.doc.studies) for (const k of Object.keys(s.moderators || {})) if (!names.includes(k)) names.push(k);
  return names;
}

function fillModerators() {
  const by = $('by');
  const keep = by.value;
  by.innerHTML = '<option value="">none</option>';
  for (const name of moderatorNames()) {
    const categorical = state.doc.studies.some((s) => s.moderators && typeof s.moderators[name] === 'string');
    if (categorical) by.insertAdjacentHTML('beforeend', `<option>${esc(name)}</option>`);
  }
  by.value = [...by.options].some((o) => o.value === keep) ? keep : '';
}

// ---------- the study table ----------

function columns() {
  const numeric = NUMERIC_FIELDS.filter((f) => state.doc.studies.some((s) => s[f] !== undefined));
  return { numeric, moderators: moderatorNames() };
}

function renderTable(issues = []) {
  const { numeric, moderators } = columns();
  const head = ['study', ...numeric, ...moderators].map((c) => `<th scope="col">${esc(c)}</th>`).join('');
  const rows = state.doc.studies.map((s, i) => {
    const cell = (field, value, kind) => `<td><input data-row="${i}" data-field="${esc(field)}" data-kind="${kind}"
      value="${esc(value ?? '')}" aria-label="${esc(field)} of ${esc(s.study || `study ${i + 1}`)}" size="${kind === 'study' ? 24 : 8}"></td>`;
    return `<tr>${cell('study', s.study, 'study')}${numeric.map((f) => cell(f, s[f], 'number')).join('')}${
      moderators.map((m) => cell(m, s.moderators?.[m], 'moderator')).join('')
    }<td><button type="button" data-remove="${i}" aria-label="Remove ${esc(s.study)}">✕</button></td></tr>`;
  }).join('');
  $('studies').innerHTML = `<thead><tr>${head}<th><span class="visually-hidden">remove</span></th></tr></thead><tbody>${rows}</tbody>`;
  markIssues(issues);
}

function markIssues(issues) {
  for (const el of document.querySelectorAll('#studies .cell-error')) el.remove();
  for (const el of document.querySelectorAll('#studies [aria-invalid]')) {
    el.removeAttribute('aria-invalid');
    el.removeAttribute('aria-describedby');
  }
  issues.forEach((issue, n) => {
    const input = document.querySelector(`#studies input[data-row="${issue.index}"][data-field="${issue.field || 'study'}"]`)
      || document.querySelector(`#studies input[data-row="${issue.index}"][data-field="study"]`);
    if (!input) return;
    input.setAttribute('aria-invalid', 'true');
    input.setAttribute('aria-describedby', `cell-error-${n}`);
    input.insertAdjacentHTML('afterend', `<span class="cell-error" id="cell-error-${n}">${esc(issue.message)}</span>`);
  });
}

function cellValue(input) {
  const text = input.value.trim();
  if (input.dataset.kind === 'study') return input.value;
  if (text === '' || text === 'NA') return input.dataset.kind === 'moderator' ? null : undefined;
  const number = Number(text);
  if (Number.isFinite(number)) return number;
  if (input.dataset.kind === 'moderator') return text === 'true' ? true : text === 'false' ? false : text;
  return text; // not a number: tau's reader says so, with the study and field
}

function editCell(input) {
  const study = state.doc.studies[+input.dataset.row];
  const field = input.dataset.field;
  const value = cellValue(input);
  const before = field === 'study' ? study.study : input.dataset.kind === 'moderator' ? study.moderators?.[field] : study[field];
  if (input.dataset.kind === 'moderator') {
    study.moderators = { ...(study.moderators || {}), [field]: value };
  } else if (value === undefined) {
    delete study[field];
  } else {
    study[field] = value;
  }
  show('load-error', '');
  if (input.dataset.kind === 'moderator') fillModerators();
  analyse(`You changed ${field} of ${study.study} from ${before ?? 'empty'} to ${value ?? 'empty'}.`);
}

// ---------- analysis ----------

function readOptions() {
  return {
    measure: $('measure').value || null,
    method: $('method').value,
    test: $('test').value,
    level: Number($('level').value),
    by: $('by').value || null,
  };
}

function analyse(why, keepErrors = false) {
  if (!state.doc) return;
  const options = readOptions();
  const started = performance.now();
  const out = JSON.parse(tau.analyse(JSON.stringify(state.doc), JSON.stringify(options)));
  const ms = performance.now() - started;
  if (!out.ok) {
    show('analysis-error', keepErrors ? '' : out.error);
    markIssues(out.issues);
    $('summary').innerHTML = '';
    $('caption').textContent = '';
    state.result = null;
    return;
  }
  if (!keepErrors) markIssues([]);
  show('analysis-error', out.plot_error || out.subgroup_error || '');
  const previous = state.result;
  state.result = out;
  state.options = options;
  renderSummary(out.pool);
  renderSubgroups(out.subgroup);
  renderPlot('forest', out.forest_svg, out.pool);
  renderPlot('funnel', out.funnel_svg, out.pool);
  $('caption').textContent = previous && why !== null ? explain(previous.pool, out.pool, why) : '';
  renderExport();
  if (!dragging) renderI2Panel();
  $('status').textContent = `Ready. Last analysis: ${ms.toFixed(1)} ms.`;
}

function renderSummary(p) {
  const level = p.settings.level;
  const test = p.df === null ? 'z' : `t(${fmt(p.df, 0)})`;
  const items = [
    ['Studies', `k = ${num('k', p.k, 0)} (measure ${p.settings.measure}, ${p.settings.method}, ${p.settings.test === 'knha' ? 'Knapp-Hartung' : 'z'})`],
    ['Pooled estimate μ̂', `${num('estimate', p.estimate)} (${level}% CI ${num('ci_lower', p.ci_lower)} to ${num('ci_upper', p.ci_upper)}); ${test} = ${num('statistic', p.statistic, 2)}, p = ${pValue('p', p.p)}`],
    ['τ² (between-study variance)', `${num('tau2', p.tau2)}${p.tau2_ci ? ` (${level}% CI ${num('tau2_ci_lower', p.tau2_ci[0])} to ${num('tau2_ci_upper', p.tau2_ci[1])})` : ''}; τ = ${num('tau', p.tau)}`],
    ['I² (share of variability from heterogeneity)', `${num('I2', p.I2, 2)}%${p.I2_ci ? ` (CI ${num('I2_ci_lower', p.I2_ci[0], 2)} to ${num('I2_ci_upper', p.I2_ci[1], 2)})` : ''}; H² = ${num('H2', p.H2, 2)}`],
    ['Heterogeneity test', `Q(${p.Q_df}) = ${num('Q', p.Q)}, p = ${pValue('Q_p', p.Q_p)}`],
    ['Prediction interval', `${num('pi_lower', p.pi_lower)} to ${num('pi_upper', p.pi_upper)}`],
  ];
  if (p.transformed) {
    const t = p.transformed;
    items.push([`Back-transformed (${t.scale})`, `${fmt(t.estimate)} (CI ${fmt(t.ci_lower)} to ${fmt(t.ci_upper)}; PI ${fmt(t.pi_lower)} to ${fmt(t.pi_upper)})`]);
  }
  for (const w of p.warnings) items.push(['Note', esc(w)]);
  $('summary').innerHTML = items.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join('');
}

function renderSubgroups(s) {
  if (!s) {
    $('subgroups').innerHTML = '';
    return;
  }
  const rows = s.groups.map((g) => `<tr><th scope="row">${esc(g.level)}</th><td>${g.k}</td><td>${fmt(g.estimate)}</td>
    <td>${fmt(g.ci_lower)} to ${fmt(g.ci_upper)}</td><td>${fmt(g.tau2)}</td><td>${fmt(g.I2, 2)}</td></tr>`).join('');
  const test = s.Q_between === null ? '' : `<p>Test of subgroup differences: Q(${s.Q_between_df}) = ${fmt(s.Q_between)}, p = ${fmt(s.Q_between_p)}</p>`;
  $('subgroups').innerHTML = `<table class="numbers"><caption>Subgroups by ${esc(s.settings.by)}</caption>
    <thead><tr><th scope="col">level</th><th scope="col">k</th><th scope="col">estimate</th><th scope="col">CI</th>
    <th scope="col">τ²</th><th scope="col">I² (%)</th></tr></thead><tbody>${rows}</tbody></table>${test}`;
}

function renderPlot(id, svg, p) {
  const el = $(id);
  el.innerHTML = svg || '';
  el.setAttribute('aria-label', `${id === 'forest' ? 'Forest' : 'Funnel'} plot of ${p.k} studies: pooled estimate ${fmt(p.estimate)} `
    + `(CI ${fmt(p.ci_lower)} to ${fmt(p.ci_upper)}), τ² ${fmt(p.tau2)}, I² ${fmt(p.I2, 2)}%, `
    + `prediction interval ${fmt(p.pi_lower)} to ${fmt(p.pi_upper)}. The numbers are listed under Results.`);
}

/** A plain-words account of what changed between two pooled results. */
function explain(before, after, why) {
  const words = [why || ''];
  const change = (a, b, name, digits = 4) => {
    if (Math.abs(a - b) < 10 ** -digits / 2) return `${name} stayed at ${fmt(b, digits)}`;
    return `${name} ${b > a ? 'rose' : 'fell'} from ${fmt(a, digits)} to ${fmt(b, digits)}`;
  };
  words.push(`${change(before.tau2, after.tau2, 'τ²')}, ${change(before.I2, after.I2, 'I²', 2)}%, ${change(before.estimate, after.estimate, 'the pooled estimate')}.`);
  const widthBefore = before.pi_upper - before.pi_lower, widthAfter = after.pi_upper - after.pi_lower;
  if (Math.abs(widthAfter - widthBefore) > 1e-4) {
    words.push(`The prediction interval got ${widthAfter > widthBefore ? 'wider' : 'narrower'} (${fmt(widthBefore)} → ${fmt(widthAfter)} wide)`
      + (after.tau2 > before.tau2 ? ': the true effects look more spread out.' : after.tau2 < before.tau2 ? ': the true effects look more alike.' : '.'));
  }
  if (before.studies.length === after.studies.length) {
    let most = 0;
    after.studies.forEach((s, i) => {
      if (Math.abs(s.weight - before.studies[i].weight) > Math.abs(after.studies[most].weight - before.studies[most].weight)) most = i;
    });
    const b = before.studies[most].weight, a = after.studies[most].weight;
    if (Math.abs(a - b) > 0.05) {
      words.push(`The weight of ${after.studies[most].study} went from ${fmt(b, 1)}% to ${fmt(a, 1)}%`
        + (after.tau2 !== before.tau2 ? ` (each weight is 1/(vᵢ + τ²): a larger τ² makes the weights more equal).` : '.'));
    }
  }
  return words.filter(Boolean).join(' ');
}

// ---------- dragging a study on a plot ----------

let dragging = null;

function markers(id) {
  const svg = $(id).querySelector('svg');
  if (!svg) return [];
  // The funnel draws one point per study first; its legend's swatch comes after.
  const studies = state.result ? state.result.pool.studies.length : 0;
  const els = id === 'funnel'
    ? [...svg.querySelectorAll('circle')].slice(0, studies)
    : [...svg.querySelectorAll('rect.square')];
  return els.map((el) => (el.tagName === 'circle'
    ? { el, x: +el.getAttribute('cx'), y: +el.getAttribute('cy') }
    : { el, x: +el.getAttribute('x') + +el.getAttribute('width') / 2 }));
}

/** The inverse of a plot axis, SVG coordinate → value, fitted to where the studies are drawn. */
function axis(values, coords) {
  if (values.length !== coords.length || values.length < 2) return null;
  const mv = values.reduce((a, b) => a + b) / values.length, mc = coords.reduce((a, b) => a + b) / coords.length;
  let svc = 0, svv = 0;
  values.forEach((v, i) => { svc += (v - mv) * (coords[i] - mc); svv += (v - mv) ** 2; });
  if (svv === 0 || svc === 0) return null;
  return (c) => mv + (c - mc) / (svc / svv);
}

/** Where `event` is in the coordinates of the plot as it was drawn when the drag began. */
function svgPoint(matrix, event) {
  return new DOMPoint(event.clientX, event.clientY).matrixTransform(matrix);
}

function startDrag(id, event) {
  if (!state.result || (id === 'forest' && state.options.by)) return;
  const ms = markers(id);
  const index = ms.findIndex((m) => m.el === event.target);
  if (index < 0) return;
  event.preventDefault();
  $(id).setPointerCapture(event.pointerId);
  // The axes are those of the plot at the start: the plot rescales as the
  // study moves, and following its new axes would run away with the pointer.
  const studies = state.result.pool.studies;
  const matrix = $(id).querySelector('svg').getScreenCTM().inverse();
  dragging = {
    id,
    index,
    matrix,
    before: state.result.pool,
    pending: false,
    start: svgPoint(matrix, event),
    toEffect: axis(studies.map((s) => s.yi), ms.map((m) => m.x)),
    toSe: id === 'funnel' ? axis(studies.map((s) => s.sei), ms.map((m) => m.y)) : null,
  };
}

function moveDrag(event) {
  if (!dragging || dragging.pending || !dragging.toEffect) return;
  dragging.pending = true;
  const { index, matrix, toEffect, toSe, start } = dragging;
  const point = svgPoint(matrix, event);
  requestAnimationFrame(() => {
    if (!dragging) return;
    dragging.pending = false;
    const yi = +toEffect(point.x).toFixed(4);
    let vi = dragging.before.studies[index].vi;
    // Up and down on the funnel is the standard error: a larger or smaller
    // study. Plotters draws at whole pixels: only a clear vertical move counts.
    if (toSe && Math.abs(point.y - start.y) > 3) {
      const se = toSe(point.y);
      if (se > 0) vi = +(se * se).toPrecision(4);
    }
    const study = state.doc.studies[index];
    // The study is now given by its effect and variance (its raw data no longer fit).
    state.doc.studies[index] = { study: study.study, yi, vi, ...(study.moderators ? { moderators: study.moderators } : {}) };
    analyse(null);
  });
}

function endDrag() {
  if (!dragging) return;
  const { index, before } = dragging;
  dragging = null;
  const s = state.doc.studies[index];
  renderTable();
  if (state.result) {
    $('caption').textContent = explain(before, state.result.pool,
      `You moved ${s.study} to yi = ${fmt(s.yi)}, vi = ${fmt(s.vi, 6)} (standard error ${fmt(Math.sqrt(s.vi))}; a smaller standard error is a larger study).`);
    renderI2Panel();
  }
}

// ---------- what I² does not tell you ----------

function renderI2Panel() {
  const p = state.result?.pool;
  if (!p || p.settings.method === 'EE') {
    $('i2-table').innerHTML = '';
    $('i2-caption').textContent = p ? 'Choose a random-effects estimator (not EE) to see this panel.' : '';
    return;
  }
  const options = { ...state.options, measure: null, by: null };
  const rows = I2_FACTORS.map((m) => {
    const studies = p.studies.map((s) => ({
      study: s.study,
      yi: p.estimate + (s.yi - p.estimate) * Math.sqrt((p.tau2 + s.vi / m) / (p.tau2 + s.vi)),
      vi: s.vi / m,
    }));
    const out = JSON.parse(tau.analyse(JSON.stringify({ measure: 'GEN', studies }), JSON.stringify(options)));
    return { m, pool: out.ok ? out.pool : null };
  });
  $('i2-table').innerHTML = `<caption>The same true effects with studies ¼ to 16 times as large</caption>
    <thead><tr><th scope="col">study size ×</th><th scope="col">τ̂²</th><th scope="col">τ̂</th><th scope="col">I² (%)</th>
    <th scope="col">prediction interval</th></tr></thead><tbody>${rows.map(({ m, pool }) => (pool
    ? `<tr${m === 1 ? ' class="current"' : ''}><th scope="row">${m}</th><td>${fmt(pool.tau2)}</td><td>${fmt(pool.tau)}</td>
       <td>${fmt(pool.I2, 1)}</td><td>${fmt(pool.pi_lower)} to ${fmt(pool.pi_upper)}</td></tr>`
    : `<tr><th scope="row">${m}</th><td colspan="4">could not be fitted</td></tr>`)).join('')}</tbody>`;
  const [small, , , large] = rows.map((r) => r.pool);
  if (small && large) {
    $('i2-caption').textContent = `With studies 16 times as large, I² goes from ${fmt(small.I2, 1)}% to ${fmt(large.I2, 1)}% `
      + `while τ stays near ${fmt(p.tau, 3)} (${fmt(small.tau, 3)} to ${fmt(large.tau, 3)}): I² measures how much of what you see `
      + 'is heterogeneity, not how different the true effects are.';
  }
}

// ---------- simulation lab ----------

function labOptions() {
  return {
    k: Number($('sim-k').value),
    tau2: Number($('sim-tau2').value),
    mu: Number($('sim-mu').value),
    n_min: Number($('sim-nmin').value),
    n_max: Number($('sim-nmax').value),
    reps: Number($('sim-reps').value),
    methods: [...document.querySelectorAll('input[name="sim-method"]:checked')].map((c) => c.value),
    tests: ['z', 'knha'],
    level: Number($('level').value),
    seed: Number($('sim-seed').value),
  };
}

function runLab(event) {
  event.preventDefault();
  const options = labOptions();
  const text = JSON.stringify(options);
  if (!Number.isSafeInteger(options.seed) || options.seed < 0 || !Number.isSafeInteger(options.reps) || options.reps < 1) {
    show('sim-error', 'The seed must be a whole number ≥ 0 and the number of meta-analyses a whole number ≥ 1.');
    return;
  }
  $('status').textContent = 'Simulating…';
  setTimeout(() => {
    const started = performance.now();
    const out = JSON.parse(tau.simulate(text));
    if (!out.ok) {
      show('sim-error', out.error);
      $('status').textContent = 'Ready.';
      return;
    }
    show('sim-error', '');
    const draws = JSON.parse(tau.tau2_draws(text, Math.min(options.reps, 2000)));
    renderLab(out.result, draws.draws, options);
    $('status').textContent = `Ready. Simulation: ${((performance.now() - started) / 1000).toFixed(1)} s.`;
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
  const methods = options.methods;
  const bars = (measure) => result.results.map((c) => ({
    label: `${c.method} ${c.test === 'knha' ? 'KH' : 'z'}`, value: pct(c[measure]), colour: methods.indexOf(c.method) * 2 + (c.test === 'knha' ? 1 : 0),
  }));
  $('sim-plots').innerHTML = [
    histogram(draws, options.tau2),
    coverage(`How often the ${result.settings.level}% CI holds μ`, bars('ci_coverage'), result.settings.level),
    coverage(`How often the ${result.settings.level}% PI holds a new study's true effect`, bars('pi_coverage'), result.settings.level),
  ].map((svg, i) => `<figure><div class="plot" role="img" aria-label="${['Histogram of the estimated tau squared; the table gives the bias', 'CI coverage by estimator and test; the table lists the values', 'PI coverage by estimator and test; the table lists the values'][i]}">${svg}</div></figure>`).join('');
}

// ---------- export ----------

function renderExport() {
  const measure = state.options.measure || state.result.pool.settings.measure;
  $('cli-command').textContent = tauCommand(state.fileName, state.options);
  $('r-code').textContent = metaforCode(state.fileName, state.doc, state.options, measure);
}

function download(name, blob) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

function downloadPlot(id, format) {
  const svg = $(id).querySelector('svg');
  if (!svg) return;
  const text = new XMLSerializer().serializeToString(svg);
  const base = state.fileName.replace(/\.json$/, '');
  const blob = new Blob([text], { type: 'image/svg+xml' });
  if (format === 'svg') {
    download(`${base}-${id}.svg`, blob);
    return;
  }
  const image = new Image();
  image.onload = () => {
    const scale = 2; // 192 dpi
    const canvas = document.createElement('canvas');
    canvas.width = image.width * scale;
    canvas.height = image.height * scale;
    const ctx = canvas.getContext('2d');
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.drawImage(image, 0, 0, canvas.width, canvas.height);
    canvas.toBlob((png) => download(`${base}-${id}.png`, png), 'image/png');
  };
  image.src = URL.createObjectURL(blob);
}

async function copy(id, button) {
  const text = $(id).textContent;
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = 'Copied';
  } catch {
    button.textContent = 'Select the text below to copy it';
  }
}

// ---------- wiring ----------

function wire() {
  $('example').addEventListener('change', (e) => e.target.value && loadExample(e.target.value));
  $('file').addEventListener('change', (e) => e.target.files[0] && loadFile(e.target.files[0]));
  document.addEventListener('dragover', (e) => e.preventDefault());
  document.addEventListener('drop', (e) => {
    e.preventDefault();
    if (e.dataTransfer.files[0]) loadFile(e.dataTransfer.files[0]);
  });
  $('studies').addEventListener('change', (e) => e.target.matches('input') && editCell(e.target));
  $('studies').addEventListener('click', (e) => {
    const i = e.target.dataset.remove;
    if (i === undefined) return;
    const [gone] = state.doc.studies.splice(+i, 1);
    renderTable();
    analyse(`You removed ${gone.study}.`);
  });
  $('add-study').addEventListener('click', () => {
    const { numeric } = columns();
    const study = { study: `New study ${state.doc.studies.length + 1}` };
    for (const f of numeric) study[f] = state.doc.studies.at(-1)?.[f];
    state.doc.studies.push(study);
    renderTable();
    analyse(`You added ${study.study}, a copy of the last study's numbers: edit them in the table.`);
  });
  $('add-moderator').addEventListener('click', () => {
    const name = $('new-moderator').value.trim();
    if (!name || !state.doc) return;
    for (const s of state.doc.studies) s.moderators = { ...(s.moderators || {}), [name]: s.moderators?.[name] ?? null };
    $('new-moderator').value = '';
    renderTable();
  });
  for (const id of ['measure', 'method', 'test', 'level', 'by']) {
    $(id).addEventListener('change', () => {
      const label = $(id).closest('label').firstChild.textContent.trim();
      analyse(`${label}: ${$(id).value || 'none'}.`);
    });
  }
  for (const id of ['forest', 'funnel']) {
    $(id).addEventListener('pointerdown', (e) => startDrag(id, e));
    $(id).addEventListener('pointermove', moveDrag);
    $(id).addEventListener('pointerup', endDrag);
    $(id).addEventListener('pointercancel', endDrag);
  }
  document.querySelectorAll('[data-download]').forEach((b) => b.addEventListener('click', () => downloadPlot(b.dataset.download, b.dataset.format)));
  $('download-json').addEventListener('click', () => {
    if (state.doc) download(state.fileName, new Blob([`${JSON.stringify(state.doc, null, 2)}\n`], { type: 'application/json' }));
  });
  $('copy-cli').addEventListener('click', (e) => copy('cli-command', e.target));
  $('copy-r').addEventListener('click', (e) => copy('r-code', e.target));
  $('lab-form').addEventListener('submit', runLab);
}

await init();
wire();
$('status').textContent = 'Ready.';
