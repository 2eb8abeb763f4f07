// The page: it moves data between the study table, the controls, tau's engine
// (pkg/tau_wasm.js) and the views. All statistics come from the engine.
// A failed analysis clears every view: nothing on the page shows numbers that
// the data and settings on screen do not give.

import init, * as tau from './pkg/tau_wasm.js';
import EXAMPLES from './examples.js';
import { tauCommand, metaforCode } from './commands.js';
import { fmt, esc } from './format.js';
import { renderSummary, renderSubgroups, explain, announcement } from './summary.js';
import { startDrag, dragTarget } from './drag.js';
import { renderI2Panel, clearI2Panel, runLab, I2_AUTO_LIMIT } from './panels.js';
import * as table from './table.js';
import { download, downloadPlot, copy } from './export.js';
import { fillPanelControls, updatePanels, clearPanels, multiOutcomeLevels, PANELS } from './more.js';

/** Above this many studies the forest plot is not shown (the funnel and the numbers cover all). */
export const FOREST_LIMIT = 300;
const HISTORY_LIMIT = 200;

const $ = (id) => document.getElementById(id);
const state = {
  doc: null, baseName: 'studies', original: null, history: [], fields: [], page: 0,
  result: null, options: null, kept: null, badCells: new Map(), drag: null, example: '',
};

function show(id, message) {
  $(id).hidden = !message;
  $(id).textContent = message || '';
}

function status(text) {
  $('status').textContent = text;
}

/** Says `text` once to screen readers (a polite live region; never during a drag). */
function announce(text) {
  $('announce').textContent = text;
}

const edited = () => state.doc !== null && JSON.stringify(state.doc) !== state.original;
const fileName = () => `${state.baseName}${edited() ? '-edited' : ''}.json`;

// ---------- data in ----------

function setDoc(doc, name, fields = []) {
  state.doc = doc;
  state.baseName = name.replace(/\.(json|csv)$/i, '');
  state.original = JSON.stringify(doc);
  state.history = [];
  state.fields = fields;
  state.page = 0;
  state.badCells.clear();
  $('dataset-title').textContent = doc.title || name;
  fillPanelControls(doc, { fresh: true });
}

function loadText(text, name) {
  const out = JSON.parse(tau.read_file(text, name));
  show('load-error', out.error);
  if (!out.file) {
    state.doc = null;
    $('dataset-title').textContent = '';
    $('studies').innerHTML = '';
    refreshData();
    fail('No analysis: the file could not be read (see the message under “1. Data”).');
    return;
  }
  setDoc(out.file, name);
  refreshData(out.issues || []);
  analyse(null, { keepErrors: out.error !== null });
}

/** Asks before edited data are replaced (arrow keys on a menu must not lose work). */
function mayReplace() {
  return !edited() || window.confirm('Replace the data on the page? Your edits are lost (download them first to keep them).');
}

/** Remembers the data before a change, for Undo. */
function remember() {
  state.history.push(JSON.stringify(state.doc));
  if (state.history.length > HISTORY_LIMIT) state.history.shift();
}

function restore(text, why) {
  state.doc = JSON.parse(text);
  state.badCells.clear();
  refreshData();
  analyse(why);
}

// ---------- the study table ----------

function updateTools() {
  $('undo').disabled = state.history.length === 0;
  $('reset').disabled = !edited();
  $('data-tools').hidden = state.doc === null;
}

/** Redraws the table and what depends on its columns (not after a cell edit: focus stays where it is). */
function refreshData(issues = []) {
  const doc = state.doc;
  updateTools();
  if (!doc) {
    $('column-help').innerHTML = '';
    $('pager').hidden = true;
    updateMeasure();
    return;
  }
  const pages = Math.max(1, Math.ceil(doc.studies.length / table.PAGE_ROWS));
  state.page = Math.min(state.page, pages - 1);
  const { numeric } = table.renderTable($('studies'), doc, state.fields, state.page);
  $('column-help').innerHTML = table.columnHelp(numeric);
  $('pager').hidden = pages === 1;
  const first = state.page * table.PAGE_ROWS;
  $('page-label').textContent = `Studies ${first + 1}–${Math.min(first + table.PAGE_ROWS, doc.studies.length)} of ${doc.studies.length}`;
  $('page-prev').disabled = state.page === 0;
  $('page-next').disabled = state.page >= pages - 1;
  $('empty-table').hidden = doc.studies.length > 0;
  fillModerators();
  fillPanelControls(doc);
  updateMeasure();
  markAll(issues);
}

function markAll(issues = []) {
  const own = [...state.badCells].map(([key, message]) => {
    const [index, field] = key.split('|');
    return { index: +index, field, message };
  });
  table.markCells($('studies'), [...issues, ...own]);
}

/** Measure only applies to raw data: for effect sizes given as yi/vi it is off, with the reason. */
function updateMeasure() {
  const given = state.doc !== null && state.doc.studies.length > 0 && state.doc.studies.every((s) => s.yi !== undefined);
  $('measure').disabled = given;
  if (given) $('measure').value = '';
  $('measure-note').textContent = given
    ? `Your studies give their effect sizes directly (yi and vi), so tau uses them as they are (${state.doc.measure || 'GEN'}); `
      + 'the measure only says how to compute effect sizes from raw data such as means or counts.'
    : '';
}

function fillModerators() {
  const by = $('by');
  const keep = by.value;
  by.innerHTML = '<option value="">none</option>';
  for (const name of table.moderatorNames(state.doc)) {
    if (state.doc.studies.some((s) => typeof s.moderators?.[name] === 'string')) by.add(new Option(name, name));
  }
  by.value = [...by.options].some((o) => o.value === keep) ? keep : '';
}

function editCell(input) {
  const row = +input.dataset.row;
  const study = state.doc.studies[row];
  const field = input.dataset.field;
  const key = `${row}|${field}`;
  const { value, problem } = table.cellValue(input);
  if (problem) {
    state.badCells.set(key, problem);
    markAll();
    analyse(null);
    return;
  }
  state.badCells.delete(key);
  const moderator = input.dataset.kind === 'moderator';
  const before = field === 'study' ? study.study : moderator ? study.moderators?.[field] : study[field];
  remember();
  if (moderator) study.moderators = { ...(study.moderators || {}), [field]: value };
  else if (value === undefined) delete study[field];
  else study[field] = value;
  show('load-error', '');
  updateTools();
  updateMeasure();
  if (moderator) fillModerators();
  analyse(`You changed ${field} of ${study.study} from ${before ?? 'empty'} to ${value ?? 'empty'}.`);
}

function newDoc(key) {
  const { doc, fields } = table.fromTemplate(key);
  show('load-error', '');
  setDoc(doc, 'my-studies.json', fields);
  $('example').value = '';
  refreshData();
  analyse(null);
}

function addStudy() {
  if (!state.doc) newDoc($('template').value);
  remember();
  const { numeric } = { numeric: table.numericColumns(state.doc, state.fields) };
  const last = state.doc.studies.at(-1);
  const study = { study: `Study ${state.doc.studies.length + 1}` };
  for (const f of numeric) if (last?.[f] !== undefined) study[f] = last[f];
  state.doc.studies.push(study);
  state.page = Math.floor((state.doc.studies.length - 1) / table.PAGE_ROWS);
  refreshData();
  analyse(`You added ${study.study}${last ? ", a copy of the last study's numbers: edit them in the table" : ': fill in its numbers in the table'}.`);
  $('studies').querySelector(`input[data-row="${state.doc.studies.length - 1}"]`)?.focus();
}

// ---------- analysis ----------

/** The level as a percentage; 0.95 is read as 95%, as metafor and the tau CLI read it. */
function readLevel() {
  const text = $('level').value.trim().replace(',', '.');
  const level = Number(text);
  if (text !== '' && level > 1 && level < 100) return { level };
  if (text !== '' && level > 0 && level < 1) return { level: Math.round(level * 1e11) / 1e9, note: `Level ${text} read as ${Math.round(level * 1e11) / 1e9}%, as metafor's level = ${text} and tau --level ${text} read it.` };
  return { level: null, note: `Level: “${$('level').value}” is not a level. Give a percentage between 1 and 100, e.g. 95 (or a proportion below 1, e.g. 0.95).` };
}

function readOptions() {
  const { level, note } = readLevel();
  $('level-note').textContent = level === null ? '' : note || '';
  return {
    options: { measure: $('measure').value || null, method: $('method').value, test: $('test').value, level, by: $('by').value || null },
    problem: level === null ? note : null,
  };
}

/** Clears every view after a failed analysis, and says why. */
function fail(message, issues = []) {
  show('analysis-error', message);
  if (state.doc) markAll(issues);
  state.result = null;
  state.kept = null;
  $('summary').innerHTML = '';
  $('caption').textContent = '';
  $('subgroups').innerHTML = '';
  for (const id of ['forest', 'funnel']) {
    $(id).innerHTML = '<p class="no-plot">No plot: there is no analysis to show.</p>';
    $(id).setAttribute('aria-label', `${id === 'forest' ? 'Forest' : 'Funnel'} plot: none, the analysis failed`);
  }
  clearI2Panel();
  clearPanels('No analysis: fix the problem shown under “3. Results” first.');
  $('cli-command').textContent = '(no analysis: fix the problem shown under “3. Results” first)';
  $('r-code').textContent = '(no analysis: fix the problem shown under “3. Results” first)';
  $('results').classList.add('failed');
  if (!state.drag) {
    status('Ready. The last analysis failed.');
    announce(`No analysis: ${message}`);
  }
}

/** The document index of each study the engine kept (records with missing data are left out). */
function keptRecords(pool) {
  const omitted = new Set();
  for (const w of pool.warnings) {
    if (!w.startsWith('left out')) continue;
    for (const m of w.matchAll(/\(record (\d+): /g)) omitted.add(+m[1] - 1);
  }
  const kept = state.doc.studies.map((_, i) => i).filter((i) => !omitted.has(i));
  return kept.length === pool.studies.length ? kept : null;
}

/**
 * Runs the analysis of the data and settings on screen and redraws every
 * view. `why` is the caption's reason; `since` the pooled result the caption
 * compares with (the last one by default).
 */
function analyse(why, { keepErrors = false, since } = {}) {
  if (!state.doc) return;
  const started = performance.now();
  const { options, problem } = readOptions();
  if (state.badCells.size) return fail(`A cell does not hold a number: ${[...state.badCells.values()][0]} The cell is marked in the table.`);
  if (problem) return fail(problem);
  if (state.doc.studies.length === 0) return fail('There are no studies: add one with “Add a study”, paste cells from a spreadsheet, or choose an example.');
  const out = JSON.parse(tau.analyse(JSON.stringify(state.doc), JSON.stringify(options)));
  const engineMs = performance.now() - started;
  if (!out.ok) {
    // A failed analysis names bad cells (`issues`); a refused request names settings (`refusals`).
    const issues = out.issues || [];
    if (issues.length) {
      state.page = Math.floor(issues[0].index / table.PAGE_ROWS);
      refreshData();
    }
    return fail(keepErrors && issues.length ? 'No analysis: fix the marked cells.' : out.error, issues);
  }
  $('results').classList.remove('failed');
  if (!keepErrors) markAll([]);
  show('analysis-error', out.plot_error || out.subgroup_error || '');
  const previous = since ? { pool: since } : state.result;
  state.result = out;
  state.options = options;
  state.kept = keptRecords(out.pool);
  const p = out.pool;
  renderSummary($('summary'), p);
  const levels = multiOutcomeLevels(state.doc);
  if (levels) {
    $('summary').insertAdjacentHTML('beforeend', `<div><dt>Note</dt><dd><span class="note">Several effect sizes per ${esc(levels.outer)}: this model treats them `
      + `as independent studies. The three-level model with a robust test is under <a href="#p-multilevel">5. More of the engine</a>.</span></dd></div>`);
  }
  renderSubgroups($('subgroups'), out.subgroup);
  renderPlot('forest', p.studies.length > FOREST_LIMIT
    ? `<p class="no-plot">The forest plot is drawn for up to ${FOREST_LIMIT} studies; this analysis has ${p.studies.length}. The funnel plot and the numbers cover all of them.</p>`
    : out.forest_svg, p);
  renderPlot('funnel', out.funnel_svg, p);
  $('caption').textContent = previous && why ? explain(previous.pool, p, why) : '';
  renderExport();
  if (!state.drag) {
    if (p.studies.length <= I2_AUTO_LIMIT) renderI2Panel(tau, p, options);
    else clearI2Panel(`With ${p.studies.length} studies this panel waits: press “Compute the panel”.`);
    $('i2-run').hidden = p.studies.length <= I2_AUTO_LIMIT;
    const panelsStarted = performance.now();
    runPanels();
    const panelsMs = performance.now() - panelsStarted;
    void document.body.offsetHeight; // lay the page out, so that the time below is the whole update
    const total = performance.now() - started;
    const panels = panelsMs >= 1 ? `, of which ${panelsMs.toFixed(0)} ms for the open panels under “5. More of the engine”` : '';
    status(`Ready. ${p.k} studies: ${total.toFixed(0)} ms for the last update (engine ${engineMs.toFixed(0)} ms, page ${(total - engineMs).toFixed(0)} ms${panels}).`);
    announce(why ? `${$('caption').textContent || why} ${announcement(p)}` : announcement(p));
  }
}

/** Runs the open panels of “5. More of the engine” (or only `only`) on the data and settings on screen. */
function runPanels(only = null, force = false) {
  if (!state.result || !state.doc) return;
  updatePanels(tau, state.doc, state.options, fileName(), state.options.by, { only, force });
}

function renderPlot(id, svg, p) {
  const el = $(id);
  el.innerHTML = svg || '';
  el.setAttribute('aria-label', `${id === 'forest' ? 'Forest' : 'Funnel'} plot of ${p.k} studies: pooled estimate ${fmt(p.estimate)} `
    + `(CI ${fmt(p.ci_lower)} to ${fmt(p.ci_upper)}), τ² ${fmt(p.tau2)}, I² ${fmt(p.I2, 2)}%, `
    + `prediction interval ${fmt(p.pi_lower)} to ${fmt(p.pi_upper)}. The numbers are listed under Results.`);
}

function renderExport() {
  const measure = state.options.measure || state.result.pool.settings.measure;
  $('cli-command').textContent = tauCommand(fileName(), state.options);
  $('r-code').textContent = metaforCode(fileName(), state.doc, state.options, measure, edited());
}

// ---------- dragging a study on a plot ----------

function pointerDown(id, event) {
  if (!state.result || (id === 'forest' && state.options.by) || event.button > 0) return;
  state.drag = startDrag($(id), event, state.result.pool, state.kept);
}

function pointerMove(event) {
  const drag = state.drag;
  if (!drag || drag.pending) return;
  const wasMoved = drag.moved;
  const target = dragTarget(drag, event);
  if (!target) return;
  if (!wasMoved) remember();
  drag.target = target;
  drag.pending = true;
  requestAnimationFrame(() => {
    if (state.drag !== drag) return;
    drag.pending = false;
    place(drag);
    analyse(null);
  });
}

/** Writes the dragged study's new effect and variance into the data. */
function place(drag) {
  const study = state.doc.studies[drag.row];
  // The study is now given by its effect and variance (its raw data no longer fit); Undo brings them back.
  state.doc.studies[drag.row] = { study: study.study, ...drag.target, ...(study.moderators ? { moderators: study.moderators } : {}) };
}

function pointerUp() {
  const drag = state.drag;
  if (!drag) return;
  state.drag = null;
  if (!drag.moved) return; // a click: nothing changes
  place(drag);
  refreshData();
  const s = state.doc.studies[drag.row];
  // One analysis, one caption and one announcement for the whole drag.
  analyse(`You moved ${s.study} to yi = ${fmt(s.yi)}, vi = ${fmt(s.vi, 6)} (standard error ${fmt(Math.sqrt(s.vi))}; `
    + 'a smaller standard error is a larger study).', { since: drag.before });
}

// ---------- wiring ----------

function wire() {
  $('example').addEventListener('change', (e) => {
    const key = e.target.value;
    if (!key) return;
    if (!mayReplace()) {
      e.target.value = state.example;
      return;
    }
    state.example = key;
    loadText(EXAMPLES[key], `${key}.json`);
  });
  $('file').addEventListener('change', (e) => e.target.files[0] && mayReplace() && e.target.files[0].text().then((t) => loadText(t, e.target.files[0].name)));
  document.addEventListener('dragover', (e) => e.preventDefault());
  document.addEventListener('drop', (e) => {
    e.preventDefault();
    const file = e.dataTransfer.files[0];
    if (file && mayReplace()) file.text().then((t) => loadText(t, file.name));
  });
  $('new-table').addEventListener('click', () => mayReplace() && newDoc($('template').value));
  $('paste-use').addEventListener('click', () => {
    const { csv, error } = table.pastedToCsv($('paste').value);
    if (error) return show('paste-error', error);
    show('paste-error', '');
    if (mayReplace()) loadText(csv, 'pasted.csv');
  });
  $('studies').addEventListener('change', (e) => e.target.matches('input') && editCell(e.target));
  $('studies').addEventListener('click', (e) => {
    const i = e.target.dataset.remove;
    if (i === undefined) return;
    remember();
    const [gone] = state.doc.studies.splice(+i, 1);
    state.badCells.clear();
    refreshData();
    analyse(`You removed ${gone.study}.`);
    $('studies').querySelector(`button[data-remove="${Math.min(+i, state.doc.studies.length - 1)}"]`)?.focus();
  });
  $('page-prev').addEventListener('click', () => { state.page -= 1; refreshData(); });
  $('page-next').addEventListener('click', () => { state.page += 1; refreshData(); });
  $('undo').addEventListener('click', () => state.history.length && restore(state.history.pop(), 'You undid the last change.'));
  $('reset').addEventListener('click', () => {
    remember();
    restore(state.original, 'You reset the data to the file as loaded.');
  });
  $('add-study').addEventListener('click', addStudy);
  $('add-moderator').addEventListener('click', () => {
    const name = $('new-moderator').value.trim();
    if (!name) return;
    if (!state.doc) newDoc($('template').value);
    remember();
    for (const s of state.doc.studies) s.moderators = { ...(s.moderators || {}), [name]: s.moderators?.[name] ?? null };
    $('new-moderator').value = '';
    refreshData();
  });
  for (const id of ['measure', 'method', 'test', 'level', 'by']) {
    $(id).addEventListener('change', () => analyse(`${$(id).closest('label').firstChild.textContent.trim()}: ${$(id).value || 'none'}.`));
  }
  for (const id of ['forest', 'funnel']) {
    $(id).addEventListener('pointerdown', (e) => pointerDown(id, e));
    $(id).addEventListener('pointermove', pointerMove);
    $(id).addEventListener('pointerup', pointerUp);
    $(id).addEventListener('pointercancel', pointerUp);
  }
  document.querySelectorAll('[data-download]').forEach((b) => b.addEventListener('click', () => downloadPlot($(b.dataset.download), b.dataset.format, fileName().replace(/\.json$/, ''))));
  $('download-json').addEventListener('click', () => {
    if (state.doc) download(fileName(), new Blob([`${JSON.stringify(state.doc, null, 2)}\n`], { type: 'application/json' }));
  });
  $('copy-cli').addEventListener('click', (e) => copy($('cli-command'), e.target));
  $('copy-r').addEventListener('click', (e) => copy($('r-code'), e.target));
  $('i2-run').addEventListener('click', () => state.result && renderI2Panel(tau, state.result.pool, state.options));
  for (const name of PANELS) {
    $(`p-${name}`).addEventListener('toggle', () => $(`p-${name}`).open && runPanels(name));
    $(`${name}-run`).addEventListener('click', () => runPanels(name, true));
  }
  for (const [id, panel] of [['reg-mod', 'regress'], ['ml-outer', 'multilevel'], ['ml-inner', 'multilevel'], ['ml-robust', 'multilevel'],
    ['bayes-family', 'bayes'], ['bayes-mu', 'bayes'], ['bayes-average', 'bayes']]) {
    $(id).addEventListener('change', () => runPanels(panel));
  }
  // The posterior follows the prior as it moves.
  $('bayes-scale').addEventListener('input', () => runPanels('bayes'));
  $('copy-markdown').addEventListener('click', (e) => copy($('paper-markdown'), e.target));
  $('copy-latex').addEventListener('click', (e) => copy($('paper-latex'), e.target));
  $('lab-form').addEventListener('submit', (e) => {
    e.preventDefault();
    runLab(tau, readLevel().level, status);
  });
}

try {
  await init();
  wire();
  refreshData();
  status('Ready. Choose an example, open a file, paste cells or start a new table.');
} catch (error) {
  $('status').classList.add('error');
  $('status').setAttribute('role', 'alert');
  status(`The engine could not be loaded, so the page cannot analyse anything: ${error?.message || error}. `
    + 'Reload the page; if that does not help, your browser may block WebAssembly, or the page was opened from a file instead of a web server.');
}
