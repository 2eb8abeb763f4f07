// "More of the engine": meta-regression with its bubble plot, the
// three-level model with cluster-robust tests, leave-one-out, the bias panel,
// the Bayesian model and the paper tables. Each panel sends one analysis
// request (request.js) to one entry point of the engine, the one the tau
// command of the same name calls, and shows its answer; it computes only
// while it is open, and follows every change of the data and settings.

import { fmt, num, pValue, esc } from './format.js';
import { multilevelRequest, regressionRequest, pooledRequest, randomFlag } from './request.js';
import { moderatorNames } from './table.js';

const $ = (id) => document.getElementById(id);

/** Above this many studies the panels wait for a click ("Compute"). */
export const PANEL_AUTO_LIMIT = 300;

export const PANELS = ['regress', 'multilevel', 'loo', 'bias', 'bayes', 'paper'];

const quote = (text) => (/^[A-Za-z0-9_./-]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`);

/** The moderators that can group effect sizes: some value shared by several rows. */
function groupingCandidates(doc) {
  return moderatorNames(doc).filter((name) => {
    const values = doc.studies.map((s) => s.moderators?.[name]).filter((v) => v !== undefined && v !== null);
    return values.length === doc.studies.length && new Set(values).size < values.length;
  });
}

/**
 * The levels of a multi-outcome data set: a moderator naming the trial (its
 * values repeat) and one that tells the effect sizes of a trial apart.
 * `null` when the studies have one effect size each.
 */
export function multiOutcomeLevels(doc) {
  if (!doc) return null;
  const names = moderatorNames(doc);
  const outer = groupingCandidates(doc).find((n) => /trial|study|cluster|sample|paper|author/i.test(n));
  if (!outer) return null;
  const distinct = (inner) => new Set(doc.studies.map((s) => `${s.moderators?.[outer]}\u0000${s.moderators?.[inner]}`)).size === doc.studies.length;
  const inner = names.filter((n) => n !== outer && distinct(n))
    .sort((a, b) => Number(/outcome|es_?id|effect|measure/i.test(b)) - Number(/outcome|es_?id|effect|measure/i.test(a)))[0];
  return inner ? { outer, inner } : null;
}

/** Fills the panels' menus from the moderators of `doc`; opens the three-level panel for multi-outcome data. */
export function fillPanelControls(doc, { fresh = false } = {}) {
  const names = doc ? moderatorNames(doc) : [];
  const fill = (id, options, preferred) => {
    const select = $(id);
    const keep = select.value;
    select.innerHTML = '';
    for (const name of options) select.add(new Option(name, name));
    const wanted = fresh ? preferred : keep;
    select.value = options.includes(wanted) ? wanted : options.includes(preferred) ? preferred : (options[0] ?? '');
  };
  const levels = multiOutcomeLevels(doc);
  const numeric = names.filter((n) => doc.studies.some((s) => typeof s.moderators?.[n] === 'number'));
  fill('reg-mod', names, numeric[0]);
  fill('ml-outer', names, levels?.outer);
  fill('ml-inner', names, levels?.inner);
  if (fresh) {
    $('p-multilevel').open = Boolean(levels);
    $('ml-note').textContent = levels
      ? `These data have several effect sizes per ${levels.outer} (${levels.inner}): they are not independent, so this panel is open and fits the three-level model, with cluster-robust tests by ${levels.outer}.`
      : '';
  }
}

function table(caption, head, rows) {
  return `<table class="numbers" tabindex="0"><caption>${caption}</caption><thead><tr>${head.map((h) => `<th scope="col">${h}</th>`).join('')}</tr></thead>`
    + `<tbody>${rows.map((r) => `<tr>${r.map((c, i) => (i === 0 ? `<th scope="row">${c}</th>` : `<td>${c}</td>`)).join('')}</tr>`).join('')}</tbody></table>`;
}

function setPanel(name, { html = '', plot = '', plotLabel = '', error = '', command = '' }) {
  $(`${name}-out`).innerHTML = html;
  const plotEl = $(`${name}-plot`);
  if (plotEl) {
    plotEl.innerHTML = plot || '';
    plotEl.hidden = !plot;
    if (plotLabel) plotEl.setAttribute('aria-label', plotLabel);
  }
  $(`${name}-error`).hidden = !error;
  $(`${name}-error`).textContent = error;
  const cmd = $(`${name}-command`);
  if (cmd) cmd.textContent = command;
}

/** Empties every panel (a failed main analysis: no panel shows numbers the screen does not give). */
export function clearPanels(message = '') {
  cleared += 1;
  for (const name of PANELS) setPanel(name, { html: message ? `<p class="note">${esc(message)}</p>` : '' });
  $('paper-markdown').textContent = '';
  $('paper-latex').textContent = '';
}

const call = (fn, doc, request) => JSON.parse(fn(JSON.stringify(doc), JSON.stringify(request)));

/**
 * The second module of the engine (leave-one-out, bias, Bayes, paper tables):
 * the same engine built with its `panels` feature, loaded the first time one
 * of those panels opens, so that the first load stays small.
 */
let panelEngine = null;
async function panelsModule() {
  panelEngine ??= import('./pkg-panels/tau_wasm.js').then(async (m) => {
    await m.default();
    return m;
  });
  return panelEngine;
}

function regressPanel(tau, doc, base, file) {
  const mod = $('reg-mod').value;
  if (!mod) return setPanel('regress', { html: '<p class="note">Add a moderator (a column after the effect data) to regress on it.</p>' });
  const out = call(tau.analyse, doc, regressionRequest(base, [mod]));
  const command = `tau regress ${quote(file)} --mods ${quote(mod)}${flags(base)}`;
  if (!out.ok) return setPanel('regress', { error: out.error, command });
  const a = out.analysis;
  const rows = a.coefficients.map((c, i) => [esc(c.name), num(`reg-b${i}`, c.estimate), fmt(c.se), `${fmt(c.ci_lower)} to ${fmt(c.ci_upper)}`, pValue(`reg-p${i}`, c.p)]);
  const qm = a.QM_df2 ? `F(${a.QM_df}, ${fmt(a.QM_df2, 0)})` : `QM(${a.QM_df})`;
  const html = table(`Meta-regression on ${esc(mod)} (k = ${a.k})`, ['coefficient', 'estimate', 'SE', `${base.level}% CI`, 'p'], rows)
    + `<p>Test of the moderator: ${qm} = ${num('reg-qm', a.QM)}, p = ${pValue('reg-qm-p', a.QM_p)}. Residual τ² = ${num('reg-tau2', a.tau2)}`
    + `${a.R2 !== undefined && a.R2 !== null ? `; R² = ${fmt(a.R2, 2)}% of τ² explained` : ''}.</p>`
    + '<p class="note">The slope is the change in the effect per unit of the moderator. A moderator is an observational comparison between studies, not a randomised one.</p>';
  setPanel('regress', {
    html, command,
    plot: out.bubble_svg,
    plotLabel: `Bubble plot: each study's effect against ${mod}, bubble area by weight, with the fitted line and its CI.`,
  });
}

function flags(base) {
  return `${base.measure ? ` --measure ${base.measure}` : ''}${base.method !== 'REML' ? ` --method ${base.method}` : ''}`
    + `${base.test !== 'z' ? ` --test ${base.test}` : ''}${base.level !== 95 ? ` --level ${base.level}` : ''}`;
}

function multilevelPanel(tau, doc, base, file) {
  const outer = $('ml-outer').value, inner = $('ml-inner').value, robust = $('ml-robust').checked;
  if (!outer || !inner || outer === inner) return setPanel('multilevel', { html: '<p class="note">Choose two different moderators: the cluster (e.g. the trial) and the effect size within it (e.g. the outcome).</p>' });
  const request = multilevelRequest(base, { outer, inner, robust });
  const out = call(tau.analyse, doc, request);
  const command = `tau pool ${quote(file)} --random ${quote(randomFlag(outer, inner))}${robust ? ` --robust ${quote(outer)}` : ''}`
    + `${request.method !== 'REML' ? ` --method ${request.method}` : ''}${request.test !== 'z' ? ` --test ${request.test}` : ''}${base.level !== 95 ? ` --level ${base.level}` : ''}`;
  if (!out.ok) return setPanel('multilevel', { error: out.error, command });
  const a = out.analysis;
  const levels = a.sigma2_names.map((name, i) => [esc(name), num(`ml-sigma2-${i}`, a.sigma2[i]), fmt(Math.sqrt(a.sigma2[i])), String(a.sigma2_levels[i])]);
  const r = a.robust;
  const inference = r
    ? `Cluster-robust (${esc(r.type)}, ${esc(r.small_sample)}) by ${esc(r.cluster)}, ${r.clusters} clusters`
    : `Model-based (${request.test === 't' ? 't' : 'z'} test)`;
  const df = a.df ?? a.coefficients?.[0]?.df;
  const html = `<dl class="numbers-list"><div><dt>Pooled estimate</dt><dd>${num('ml-estimate', a.estimate)} (${base.level}% CI ${num('ml-ci_lower', a.ci_lower)} to ${num('ml-ci_upper', a.ci_upper)}), p = ${pValue('ml-p', a.p)}${df ? `, ${fmt(df, 1)} df` : ''}</dd></div>`
    + `<div><dt>Inference</dt><dd>${inference}</dd></div><div><dt>Effect sizes</dt><dd>k = ${a.k}</dd></div></dl>`
    + table('Variance components (REML)', ['level', 'σ²', 'σ', 'units'], levels)
    + `<p class="note">σ² of ${esc(outer)} is how much the true effects differ between ${esc(outer)}s; σ² of ${esc(outer)}/${esc(inner)} how much they differ within one. `
    + `${r ? 'The robust test does not trust the model\'s variance structure: it uses only that clusters are independent (CR2 with Satterthwaite degrees of freedom, as clubSandwich).' : ''}</p>`;
  setPanel('multilevel', {
    html, command, plot: out.forest_svg,
    plotLabel: `Forest plot of the three-level model: effect sizes grouped by ${outer}, pooled estimate ${fmt(a.estimate)}.`,
  });
}

function looPanel(tau, doc, base, file) {
  const out = call(tau.leave_one_out, doc, pooledRequest(base));
  const command = `tau leave-one-out ${quote(file)}${flags(base)}`;
  if (!out.ok) return setPanel('loo', { error: out.error, command });
  const r = out.result;
  const rows = r.studies.map((s, i) => [esc(s.study), s.error ? esc(s.error) : num(`loo-${i}`, s.estimate), s.error ? '' : `${fmt(s.ci_lower)} to ${fmt(s.ci_upper)}`,
    s.error ? '' : fmt(s.tau2), s.error ? '' : fmt(s.I2, 1)]);
  const shift = r.studies.filter((s) => !s.error).reduce((m, s) => (Math.abs(s.estimate - r.overall.estimate) > Math.abs(m.estimate - r.overall.estimate) ? s : m), r.overall);
  const html = `<p>All ${r.k} studies: ${num('loo-all', r.overall.estimate)} (CI ${fmt(r.overall.ci_lower)} to ${fmt(r.overall.ci_upper)}). `
    + `${shift !== r.overall ? `Leaving out ${esc(shift.study)} moves the estimate most, to ${fmt(shift.estimate)}.` : ''}</p>`
    + table('The model without each study', ['without', 'estimate', `${base.level}% CI`, 'τ²', 'I² (%)'], rows);
  setPanel('loo', { html, command, plot: out.plot_svg, plotLabel: 'Leave-one-out plot: the estimate and CI without each study, beside the estimate on all studies.' });
}

function biasPanel(tau, doc, base, file) {
  const out = call(tau.bias, doc, pooledRequest(base));
  const command = `tau bias ${quote(file)}${flags(base)}`;
  if (!out.ok) return setPanel('bias', { error: out.error, command });
  const r = out.result;
  const rows = r.adjusted.map((a, i) => [esc(a.method), num(`bias-adj-${i}`, a.estimate), `${fmt(a.ci_lower)} to ${fmt(a.ci_upper)}`, a.p === null ? '–' : `${esc(a.test)}: ${pValue(`bias-adj-p-${i}`, a.p)}`]);
  const assumes = `<details class="assumes"><summary>What each method assumes</summary><dl>${r.adjusted.map((a) => `<dt>${esc(a.method)}</dt><dd>${esc(a.assumes)}</dd>`).join('')}</dl></details>`;
  const tests = [];
  if (r.egger) tests.push(`Egger's regression test: ${r.egger.df ? `t(${fmt(r.egger.df, 0)})` : 'z'} = ${num('bias-egger', r.egger.statistic, 3)}, p = ${pValue('bias-egger-p', r.egger.p)}`);
  if (r.begg) tests.push(`Begg's rank correlation: Kendall's τ = ${fmt(r.begg.tau, 3)}, p = ${pValue('bias-begg-p', r.begg.p)}`);
  if (r.trimfill) tests.push(`Trim-and-fill: ${num('bias-k0', r.trimfill.k0, 0)} studies imputed on the ${esc(r.trimfill.side)} side (open points in the funnel)`);
  const html = `<ul>${tests.map((t) => `<li>${t}</li>`).join('')}</ul>`
    + table(`Unadjusted and adjusted estimates (k = ${r.k})`, ['method', 'estimate', 'CI', 'test: p'], rows) + assumes
    + r.warnings.map((w) => `<p class="note">${esc(w)}</p>`).join('')
    + '<p class="note">Each method assumes a different reason for funnel asymmetry; none proves publication bias. With fewer than 10 studies the tests have little power.</p>';
  setPanel('bias', { html, command, plot: out.funnel_svg, plotLabel: 'Funnel plot with the studies trim-and-fill imputes (open points) and the adjusted estimates.' });
}

/** The prior on τ as the panel's controls give it, in the CLI's words (`half-normal:0.5`). */
export function tauPrior() {
  const family = $('bayes-family').value;
  const scale = $('bayes-scale').value;
  $('bayes-scale-value').textContent = scale;
  $('bayes-scale').disabled = family === 'jeffreys';
  return family === 'jeffreys' ? 'jeffreys' : `${family}:${scale}`;
}

function summaryRow(name, key, s) {
  return [name, num(`bayes-${key}-median`, s.median), fmt(s.mean), fmt(s.sd), `${num(`bayes-${key}-lower`, s.ci_lower)} to ${num(`bayes-${key}-upper`, s.ci_upper)}`,
    s.ci_shortest ? `${fmt(s.ci_shortest[0])} to ${fmt(s.ci_shortest[1])}` : '–'];
}

function bayesPanel(tau, doc, base, file) {
  const prior = tauPrior();
  const muPrior = $('bayes-mu').value;
  $('bayes-average').disabled = muPrior === 'flat' || prior === 'jeffreys';
  const average = $('bayes-average').checked && !$('bayes-average').disabled;
  const request = { measure: base.measure, level: base.level, tau_prior: prior, mu_prior: muPrior, average };
  const out = call(tau.bayes, doc, request);
  const command = `tau bayes ${quote(file)} --tau-prior ${prior} --mu-prior ${muPrior}${average ? ' --average' : ''}${base.level !== 95 ? ` --level ${base.level}` : ''}`;
  if (!out.ok) return setPanel('bayes', { error: out.error, command });
  const r = out.result;
  const rows = [summaryRow('τ (heterogeneity)', 'tau', r.tau), summaryRow('μ (mean effect)', 'mu', r.mu), summaryRow('θ of a new study', 'theta', r.theta_new)];
  let html = table(`Posterior (k = ${r.k}, prior on τ ${esc(prior)}, on μ ${esc(muPrior)})`, ['', 'median', 'mean', 'sd', `central ${base.level}%`, `shortest ${base.level}%`], rows);
  if (r.bayes_factor) {
    html += `<p>Bayes factors BF₀₁: τ = 0 against τ > 0: ${num('bayes-bf-tau', r.bayes_factor['tau=0'], 3)}; μ = 0 against μ ≠ 0: ${num('bayes-bf-mu', r.bayes_factor['mu=0'], 3)} (above 1 favours the null).</p>`;
  }
  if (r.inclusion_bf) {
    html += `<p>Model averaging: inclusion Bayes factor for an effect ${num('bayes-incl-effect', r.inclusion_bf.effect, 3)}, for heterogeneity ${num('bayes-incl-het', r.inclusion_bf.heterogeneity, 3)}; `
      + `averaged μ ${fmt(r.averaged.mu.median)} (${fmt(r.averaged.mu.ci_lower)} to ${fmt(r.averaged.mu.ci_upper)}).</p>`;
  }
  html += r.notes.map((n) => `<p class="note">${esc(n)}</p>`).join('');
  html += '<p class="note">Exact numerical integration (bayesmeta\'s model), no sampling: move the prior and watch the posterior of τ follow it when the studies say little about τ, and stay put when they say much.</p>';
  setPanel('bayes', { html, command, plot: out.density_svg, plotLabel: `Posterior densities of τ and μ under the ${prior} prior on τ: τ median ${fmt(r.tau.median)}, μ median ${fmt(r.mu.median)}.` });
}

function paperPanel(tau, doc, base, file, by) {
  const out = call(tau.paper_tables, doc, by ? { ...pooledRequest(base), question: 'subgroup', by } : pooledRequest(base));
  if (!out.ok || !out.tables) return setPanel('paper', { error: out.error || 'This analysis has no paper table.' });
  setPanel('paper', { html: `<p class="note">The tables of <code>tau ${by ? 'subgroup' : 'pool'} ${esc(quote(file))}${by ? ` --by ${esc(quote(by))}` : ''}${esc(flags(base))} --format markdown</code> (and <code>--format latex</code>), for the analysis under “3. Results”.</p>` });
  $('paper-markdown').textContent = out.tables.markdown;
  $('paper-latex').textContent = out.tables.latex;
}

const RUN = { regress: regressPanel, multilevel: multilevelPanel, loo: looPanel, bias: biasPanel, bayes: bayesPanel };

/**
 * The panels that need the second module of the engine: every model but the
 * pooled one of "3. Results", so that the first load stays under its budget.
 */
const SECOND = new Set(['regress', 'multilevel', 'loo', 'bias', 'bayes', 'paper']);
/** Counts the failed analyses: an update that a failure overtook while the module loaded is dropped. */
let cleared = 0;

/**
 * Runs every open panel (or only `only`) on the data and settings on screen.
 * The panels of the second module run once it has loaded; an update that
 * a failed analysis has overtaken meanwhile is dropped.
 */
export async function updatePanels(tau, doc, base, file, by, { only = null, force = false } = {}) {
  const epoch = cleared;
  const wanted = PANELS.filter((name) => (!only || name === only) && $(`p-${name}`).open);
  let second = null;
  if (wanted.some((name) => SECOND.has(name))) {
    try {
      second = await panelsModule();
    } catch (error) {
      panelEngine = null;
      for (const name of wanted.filter((n) => SECOND.has(n))) {
        setPanel(name, { error: `This part of the engine could not be loaded: ${error?.message || error}. Close and open the panel to try again.` });
      }
    }
    if (epoch !== cleared) return;
  }
  for (const name of wanted) {
    const engine = SECOND.has(name) ? second : tau;
    if (!engine) continue;
    if (only && name !== only) continue;
    if (!force && doc.studies.length > PANEL_AUTO_LIMIT) {
      setPanel(name, { html: `<p class="note">With ${doc.studies.length} studies this panel waits: press “Compute” below.</p>` });
      $(`${name}-run`).hidden = false;
      continue;
    }
    $(`${name}-run`).hidden = true;
    try {
      if (name === 'paper') paperPanel(engine, doc, base, file, by);
      else RUN[name](engine, doc, base, file);
    } catch (error) {
      setPanel(name, { error: `This panel failed: ${error.message}` });
    }
  }
}
