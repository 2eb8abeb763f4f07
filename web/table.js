// The study table: columns, templates for a new table, cells in plain
// language (decimal commas accepted), paging for large data sets, and cells
// pasted from a spreadsheet. It knows nothing of the analysis: app.js calls it.

import { esc } from './format.js';

// The numeric record fields, in the order of tau's schema (tau_core::input::NUMERIC_FIELDS).
export const NUMERIC_FIELDS = ['yi', 'vi', 'sei', 'estimate', 'ci_lower', 'ci_upper', 'ci_level', 'n1', 'm1', 'sd1',
  'n2', 'm2', 'sd2', 'events1', 'events2', 'r', 'n', 'events', 't', 'weight', 'm_pre', 'm_post', 'sd_pre',
  'sd_post', 'm', 'sd', 'time1', 'time2', 'time'];

/** What each column means, for the help under the table and the headers' titles. */
export const FIELD_HELP = {
  study: 'a label for the study (author and year, say)',
  yi: 'the effect size, on the scale of the analysis (a log odds ratio, a standardised mean difference, ...)',
  vi: 'its sampling variance: the squared standard error (not the standard error itself)',
  sei: 'the standard error of yi (give vi or sei)',
  estimate: 'an effect reported with a CI (a ratio on its natural scale, not logged)',
  ci_lower: 'lower limit of the reported CI', ci_upper: 'upper limit of the reported CI',
  ci_level: 'level of the reported CI in percent (95 when empty)',
  n1: 'size of group 1 (e.g. treated)', m1: 'mean of group 1', sd1: 'standard deviation of group 1',
  n2: 'size of group 2 (e.g. control)', m2: 'mean of group 2', sd2: 'standard deviation of group 2',
  events1: 'people with the event in group 1', events2: 'people with the event in group 2',
  r: 'a correlation coefficient (for pre-post data: the correlation between pre and post)',
  n: 'sample size', events: 'number of events', t: 't statistic of a two-group comparison',
  weight: 'a user weight (rarely needed)',
  m_pre: 'mean before', m_post: 'mean after', sd_pre: 'standard deviation before', sd_post: 'standard deviation after',
  m: 'a single mean', sd: 'its standard deviation', time1: 'person-time in group 1', time2: 'person-time in group 2',
  time: 'person-time',
};

/** Empty tables to start from: the measure and the columns of each data type. */
export const TEMPLATES = {
  effects: { label: 'effect sizes and variances (yi, vi)', measure: 'GEN', fields: ['yi', 'vi'] },
  means: { label: 'two groups: means, SDs, sizes', measure: 'SMD', fields: ['n1', 'm1', 'sd1', 'n2', 'm2', 'sd2'] },
  counts: { label: '2×2 tables: events and group sizes', measure: 'OR', fields: ['events1', 'n1', 'events2', 'n2'] },
  correlations: { label: 'correlations and sample sizes', measure: 'ZCOR', fields: ['r', 'n'] },
  prepost: { label: 'pre-post: means and SDs before and after', measure: 'SMCR', fields: ['m_pre', 'm_post', 'sd_pre', 'sd_post', 'n', 'r'] },
};

/** A new document from a template, with two empty studies to fill in. */
export function fromTemplate(key) {
  const t = TEMPLATES[key];
  return { doc: { measure: t.measure, studies: [{ study: 'Study 1' }, { study: 'Study 2' }] }, fields: [...t.fields] };
}

export const PAGE_ROWS = 100;

export function moderatorNames(doc) {
  const names = [];
  for (const s of doc.studies) for (const k of Object.keys(s.moderators || {})) if (!names.includes(k)) names.push(k);
  return names;
}

/** The numeric columns to show: those any study has, and those the table started with. */
export function numericColumns(doc, fields = []) {
  return NUMERIC_FIELDS.filter((f) => fields.includes(f) || doc.studies.some((s) => s[f] !== undefined));
}

/**
 * The table (one page of `PAGE_ROWS` studies), with a remove button per
 * study. Inputs carry the study's index in the document (`data-row`).
 */
export function renderTable(table, doc, fields, page) {
  const numeric = numericColumns(doc, fields);
  const moderators = moderatorNames(doc);
  const header = (c) => `<th scope="col"${FIELD_HELP[c] ? ` title="${esc(FIELD_HELP[c])}"` : ''}>${esc(c)}</th>`;
  const head = ['study', ...numeric, ...moderators].map(header).join('');
  const first = page * PAGE_ROWS;
  const rows = doc.studies.slice(first, first + PAGE_ROWS).map((s, j) => {
    const i = first + j;
    const name = s.study || `study ${i + 1}`;
    const cell = (field, value, kind) => `<td><input data-row="${i}" data-field="${esc(field)}" data-kind="${kind}"
      value="${esc(value ?? '')}" aria-label="${esc(field)} of ${esc(name)}" size="${kind === 'study' ? 20 : 7}"${kind === 'number' ? ' inputmode="decimal"' : ''}></td>`;
    return `<tr>${cell('study', s.study, 'study')}${numeric.map((f) => cell(f, s[f], 'number')).join('')}${
      moderators.map((m) => cell(m, s.moderators?.[m], 'moderator')).join('')
    }<td><button type="button" data-remove="${i}" aria-label="Remove ${esc(name)}">✕</button></td></tr>`;
  }).join('');
  table.innerHTML = `<thead><tr>${head}<th><span class="visually-hidden">remove</span></th></tr></thead><tbody>${rows}</tbody>`;
  return { numeric, moderators };
}

/** The column help for the columns shown. */
export function columnHelp(numeric) {
  return ['study', ...numeric].filter((f) => FIELD_HELP[f])
    .map((f) => `<dt><code>${esc(f)}</code></dt><dd>${esc(FIELD_HELP[f])}</dd>`).join('');
}

/** A number as people type it: a decimal point or a decimal comma, spaces around ignored. */
export function parseNumber(text) {
  const t = text.trim().replace(/^(-?\d*),(\d+)$/, '$1.$2');
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t)) return null;
  return Number(t);
}

/**
 * The value of a cell for the document: `{ value }`, or `{ problem }` with a
 * plain-language message when a number cell does not hold a number.
 */
export function cellValue(input) {
  const text = input.value.trim();
  const kind = input.dataset.kind;
  if (kind === 'study') return { value: input.value };
  if (text === '' || text === 'NA') return { value: kind === 'moderator' ? null : undefined };
  const number = parseNumber(text);
  if (number !== null) return { value: number };
  if (kind === 'moderator') return { value: text === 'true' ? true : text === 'false' ? false : text };
  return { problem: `“${text}” is not a number. Type a number such as 0.25 (0,25 works too), or leave the cell empty for a missing value.` };
}

/** Marks cells: each `{ index, field, message }`. */
export function markCells(table, issues) {
  for (const el of table.querySelectorAll('.cell-error')) el.remove();
  for (const el of table.querySelectorAll('[aria-invalid]')) {
    el.removeAttribute('aria-invalid');
    el.removeAttribute('aria-describedby');
  }
  issues.forEach((issue, n) => {
    const input = table.querySelector(`input[data-row="${issue.index}"][data-field="${issue.field || 'study'}"]`)
      || table.querySelector(`input[data-row="${issue.index}"][data-field="study"]`);
    if (!input) return;
    input.setAttribute('aria-invalid', 'true');
    input.setAttribute('aria-describedby', `cell-error-${n}`);
    input.insertAdjacentHTML('afterend', `<span class="cell-error" id="cell-error-${n}">${esc(issue.message)}</span>`);
  });
}

/** A guess of the measure from the columns of pasted data (the Measure menu changes it). */
function guessMeasure(header) {
  if (header.includes('yi')) return null;
  if (header.includes('m1')) return 'SMD';
  if (header.includes('events1')) return 'OR';
  if (header.includes('m_pre') || header.includes('m_post')) return 'SMCR';
  if (header.includes('r')) return 'ZCOR';
  if (header.includes('events')) return 'PLO';
  return null;
}

/**
 * Cells copied from Excel or LibreOffice as the text tau's CSV reader takes:
 * it reads tabs, semicolons or commas and decimal commas itself. The first row
 * names the columns (study, yi, vi, n1, ...; others are moderators); without
 * a measure column the measure is guessed from the columns.
 */
export function pastedToCsv(text) {
  const lines = text.replace(/\r\n?/g, '\n').split('\n').filter((l) => l.trim() !== '');
  if (lines.length < 2) return { error: 'Paste a header row (study, yi, vi, ... or study, n1, m1, sd1, ...) and at least one row of numbers.' };
  const header = lines[0].toLowerCase().split(/[\t;,]/).map((h) => h.trim());
  const measure = header.includes('measure') ? null : guessMeasure(header);
  return { csv: `${measure ? `# measure: ${measure}\n` : ''}${lines.join('\n')}\n`, measure };
}
