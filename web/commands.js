// The tau command line and the metafor R code that reproduce the page's analysis.

const METAFOR_ARGS = {
  // escalc() arguments for each data form, by tau's record fields.
  twoGroup: ['m1i = m1', 'sd1i = sd1', 'n1i = n1', 'm2i = m2', 'sd2i = sd2', 'n2i = n2'],
  binary: ['ai = events1', 'n1i = n1', 'ci = events2', 'n2i = n2'],
  correlation: ['ri = r', 'ni = n'],
  proportion: ['xi = events', 'ni = n'],
  tStatistic: ['ti = t', 'n1i = n1', 'n2i = n2'],
  prePost: ['m1i = m_post', 'm2i = m_pre', 'sd1i = sd_pre', 'sd2i = sd_post', 'ni = n', 'ri = r'],
  mean: ['mi = m', 'sdi = sd', 'ni = n'],
  rates: ['x1i = events1', 't1i = time1', 'x2i = events2', 't2i = time2'],
  rate: ['xi = events', 'ti = time'],
};

function dataForm(doc) {
  const r = doc.studies.find((s) => s.yi === undefined) || doc.studies[0] || {};
  if (r.yi !== undefined) return r.sei !== undefined && r.vi === undefined ? 'sei' : 'generic';
  if (r.m1 !== undefined) return 'twoGroup';
  if (r.time1 !== undefined || r.time2 !== undefined) return 'rates';
  if (r.events1 !== undefined) return 'binary';
  if (r.m_pre !== undefined || r.m_post !== undefined) return 'prePost';
  if (r.m !== undefined) return 'mean';
  if (r.r !== undefined) return 'correlation';
  if (r.time !== undefined) return 'rate';
  if (r.events !== undefined) return 'proportion';
  if (r.t !== undefined) return 'tStatistic';
  return 'estimate';
}

function quote(text) {
  return /^[A-Za-z0-9_./-]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`;
}

/** `tau pool` (or `tau subgroup`) with the page's options. */
export function tauCommand(fileName, options) {
  const parts = ['tau', options.by ? 'subgroup' : 'pool', quote(fileName)];
  if (options.by) parts.push('--by', quote(options.by));
  if (options.measure) parts.push('--measure', options.measure);
  if (options.method !== 'REML') parts.push('--method', options.method);
  if (options.test !== 'z') parts.push('--test', options.test);
  if (options.level !== 95) parts.push('--level', String(options.level));
  return parts.join(' ');
}

/**
 * The metafor calls that fit the same model to the same file. Studies given
 * by yi and vi beside raw data (a study dragged on a plot) keep their yi and
 * vi: `escalc(..., replace = FALSE)` computes only the missing ones. With
 * `edited`, a comment says that the code reads the page's data as downloaded.
 */
export function metaforCode(fileName, doc, options, measure, edited = false) {
  const form = dataForm(doc);
  const lines = [
    ...(edited ? [`# Reads the data as they are on the page: save them first with "Download the data as tau JSON" (${fileName}).`] : []),
    'library(metafor)',
    `file <- jsonlite::fromJSON(${JSON.stringify(fileName)})`,
    'dat <- file$studies',
    'if (!is.null(dat$moderators)) dat <- cbind(dat[setdiff(names(dat), "moderators")], dat$moderators)',
  ];
  if (METAFOR_ARGS[form]) {
    const keep = doc.studies.some((s) => s.yi !== undefined) ? ', replace = FALSE' : '';
    lines.push(`dat <- escalc(measure = "${measure}", ${METAFOR_ARGS[form].join(', ')}, data = dat${keep})`);
  } else if (form === 'estimate') {
    lines.push('# tau turns estimate and CI into yi and vi (log scale for OR and RR): do the same first');
  }
  const variance = form === 'sei' ? 'sei = sei' : 'vi';
  const args = [`yi`, variance, 'data = d', `method = "${options.method}"`];
  if (options.test !== 'z') args.push(`test = "${options.test}"`);
  if (options.level !== 95) args.push(`level = ${options.level}`);
  const call = `rma(${args.join(', ')})`;
  if (options.by) {
    lines.push(`lapply(split(dat, dat$${options.by}), function(d) ${call})`);
  } else {
    lines.push(`d <- dat`, `res <- ${call}`, 'summary(res)', 'predict(res)');
  }
  return lines.join('\n');
}
