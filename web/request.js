// The analysis requests the page sends to the engine: the JSON of tau-core's
// analysis Spec (crates/tau-core/src/analysis/spec.rs), whose keys are the
// Spec's field names. Every multilevel request is built here, so that a
// change of the Spec's `random` field is made in one place.

/**
 * The `random` field of a multilevel model with effect sizes (`inner`)
 * nested in clusters (`outer`): metafor's `random = ~ 1 | outer/inner`.
 * The Spec takes a list of random terms, each as `--random` writes it.
 */
export function randomLevels(outer, inner) {
  return [`${outer}/${inner}`];
}

/** The same levels as the tau command line writes them (`--random outer/inner`). */
export function randomFlag(outer, inner) {
  return `${outer}/${inner}`;
}

/** The request of the three-level model, with cluster-robust tests by `outer` when `robust`. */
export function multilevelRequest(base, { outer, inner, robust }) {
  const test = base.test === 'knha' ? 't' : 'z';
  const method = ['REML', 'ML'].includes(base.method) ? base.method : 'REML';
  return {
    measure: base.measure, level: base.level, method, test,
    random: randomLevels(outer, inner),
    ...(robust ? { robust: outer } : {}),
  };
}

/** A meta-regression on `moderators` with the page's estimator, test and level. */
export function regressionRequest(base, moderators) {
  return { measure: base.measure, method: base.method, test: base.test, level: base.level, question: 'regress', mods: moderators };
}

/** The pooled model with one τ² of the page (leave-one-out, bias). */
export function pooledRequest(base) {
  return { measure: base.measure, method: base.method, test: base.test, level: base.level };
}
