// The summary of a pooled result, with a note for each number that can
// surprise; the subgroup table; and the caption that says what an edit changed.

import { fmt, num, pValue, esc } from './format.js';

/** The scale tau analyses each transformed measure on (metafor's escalc scales). */
const SCALES = {
  OR: ['log odds ratio', 'odds ratios'], RR: ['log risk ratio', 'risk ratios'], IRR: ['log incidence rate ratio', 'incidence rate ratios'],
  ROM: ['log ratio of means', 'ratios of means'], ZCOR: ["Fisher's z", 'correlations'], PLO: ['logit (log odds)', 'proportions'],
  PLN: ['log proportion', 'proportions'], PFT: ['Freeman-Tukey double arcsine', 'proportions'], PAS: ['arcsine square root', 'proportions'],
  IRLN: ['log incidence rate', 'incidence rates'], MNLN: ['log mean', 'means'], UCOR: ['correlation', 'correlations'],
};

/** The notes under the summary: scale, intervals and their distributions, estimate outside its CI. */
export function notes(p) {
  const out = [];
  const measure = p.settings.measure;
  const scale = SCALES[measure];
  if (p.transformed && scale) {
    out.push(`Scale: μ̂, its CI, τ², τ and the prediction interval are on the ${scale[0]} scale (${measure}), as metafor reports them; `
      + `the forest plot's axis and the back-transformed line show ${scale[1]}. τ² and τ have no back-transformed version.`);
  } else {
    out.push(`Scale: every number is on the scale of the effect sizes (${measure}).`);
  }
  const quantile = p.df === null ? 'the normal distribution (z)' : `a t distribution with ${fmt(p.df, 0)} degrees of freedom`;
  out.push(`Prediction interval: μ̂ ± q·√(SE(μ̂)² + τ̂²), with q from ${quantile}, as metafor's predict(); `
    + 'it is where a new study\'s true effect is expected, not a CI of μ.');
  if (p.tau2_ci && (p.tau2 < p.tau2_ci[0] || p.tau2 > p.tau2_ci[1])) {
    out.push(`τ̂² = ${fmt(p.tau2)} lies outside its Q-profile CI (${fmt(p.tau2_ci[0])} to ${fmt(p.tau2_ci[1])}): the CI inverts the `
      + `generalised Q statistic (Viechtbauer 2007), not the ${p.settings.method} estimator, so the two can disagree; metafor shows the same.`);
  }
  return out;
}

export function renderSummary(el, p) {
  const level = p.settings.level;
  const test = p.df === null ? 'z' : `t(${fmt(p.df, 0)})`;
  const items = [
    ['Studies', `k = ${num('k', p.k, 0)} (measure ${p.settings.measure}, ${p.settings.method}, ${p.settings.test === 'knha' ? 'Knapp-Hartung' : 'z'})`],
    ['Pooled estimate μ̂', `${num('estimate', p.estimate)} (<span data-key="level" data-value="${level}">${level}</span>% CI ${num('ci_lower', p.ci_lower)} to ${num('ci_upper', p.ci_upper)}); ${test} = ${num('statistic', p.statistic, 2)}, p = ${pValue('p', p.p)}`],
    ['τ² (between-study variance)', `${num('tau2', p.tau2)}${p.tau2_ci ? ` (${level}% CI ${num('tau2_ci_lower', p.tau2_ci[0])} to ${num('tau2_ci_upper', p.tau2_ci[1])})` : ''}; τ = ${num('tau', p.tau)}`],
    ['I² (share of variability from heterogeneity)', `${num('I2', p.I2, 2)}%${p.I2_ci ? ` (CI ${num('I2_ci_lower', p.I2_ci[0], 2)} to ${num('I2_ci_upper', p.I2_ci[1], 2)})` : ''}; H² = ${num('H2', p.H2, 2)}`],
    ['Heterogeneity test', `Q(${p.QE_df}) = ${num('QE', p.QE)}, p = ${pValue('QE_p', p.QE_p)}`],
    ['Prediction interval', `${num('pi_lower', p.pi_lower)} to ${num('pi_upper', p.pi_upper)}`],
  ];
  if (p.transformed) {
    const t = p.transformed;
    items.push([`Back-transformed (${t.scale})`, `${fmt(t.estimate)} (CI ${fmt(t.ci_lower)} to ${fmt(t.ci_upper)}; PI ${fmt(t.pi_lower)} to ${fmt(t.pi_upper)})`]);
  }
  for (const w of p.warnings) items.push(['Warning', esc(w)]);
  for (const n of notes(p)) items.push(['Note', `<span class="note">${esc(n)}</span>`]);
  el.innerHTML = items.map(([k, v]) => `<div><dt>${k}</dt><dd>${v}</dd></div>`).join('');
}

/** A sentence for the live region: the main numbers, once. */
export function announcement(p) {
  return `k = ${p.k}: pooled estimate ${fmt(p.estimate)}, ${p.settings.level}% CI ${fmt(p.ci_lower)} to ${fmt(p.ci_upper)}; `
    + `τ² ${fmt(p.tau2)}; I² ${fmt(p.I2, 2)}%.`;
}

export function renderSubgroups(el, s) {
  if (!s) {
    el.innerHTML = '';
    return;
  }
  const rows = s.groups.map((g) => `<tr><th scope="row">${esc(g.level)}</th><td>${g.k}</td><td>${fmt(g.estimate)}</td>
    <td>${fmt(g.ci_lower)} to ${fmt(g.ci_upper)}</td><td>${fmt(g.tau2)}</td><td>${fmt(g.I2, 2)}</td></tr>`).join('');
  const test = s.Q_between === null ? '' : `<p>Test of subgroup differences: Q(${s.Q_between_df}) = ${fmt(s.Q_between)}, p = ${fmt(s.Q_between_p)}</p>`;
  el.innerHTML = `<table class="numbers" tabindex="0"><caption>Subgroups by ${esc(s.settings.by)}</caption>
    <thead><tr><th scope="col">level</th><th scope="col">k</th><th scope="col">estimate</th><th scope="col">CI</th>
    <th scope="col">τ²</th><th scope="col">I² (%)</th></tr></thead><tbody>${rows}</tbody></table>${test}
    <p class="note">Each subgroup is fitted on its own, with its own τ² (separate τ², as <code>tau subgroup</code> and one
    <code>rma()</code> per subgroup in metafor); the test of differences compares the subgroup estimates with a Wald-type Q
    on those separate fits, not a meta-regression with one common τ².</p>`;
}

/** A plain-words account of what changed between two pooled results. */
export function explain(before, after, why) {
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
  if (before.studies.length === after.studies.length && after.studies.length > 0) {
    let most = 0;
    after.studies.forEach((s, i) => {
      if (Math.abs(s.weight - before.studies[i].weight) > Math.abs(after.studies[most].weight - before.studies[most].weight)) most = i;
    });
    const b = before.studies[most].weight, a = after.studies[most].weight;
    if (Math.abs(a - b) > 0.05) {
      words.push(`The weight of ${after.studies[most].study} went from ${fmt(b, 1)}% to ${fmt(a, 1)}%`
        + (after.tau2 !== before.tau2 ? ' (each weight is 1/(vᵢ + τ²): a larger τ² makes the weights more equal).' : '.'));
    }
  }
  return words.filter(Boolean).join(' ');
}
