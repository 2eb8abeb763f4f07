// Dragging a study on the forest or funnel plot. Each mark is bound to the
// study it stands for (its index in the document, through the analysis's
// list of kept records), never to its position among the marks; a press that
// moves less than DEAD_ZONE pixels is a click and changes nothing.

/** Screen pixels a press must move before it is a drag. */
export const DEAD_ZONE = 6;
/** Screen pixels around a mark that still grab it: a mouse, and a finger (wider). */
const GRAB = { mouse: 8, touch: 22 };

/** The draggable marks of a plot, in the order of the analysis's studies. */
export function markers(plot, studies) {
  const svg = plot.querySelector('svg');
  if (!svg) return [];
  // The funnel draws one point per study first; its legend's swatch comes after.
  const els = plot.id === 'funnel'
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

/** The mark under the pointer, or the nearest one within GRAB screen pixels. */
function grabbed(marks, event) {
  const direct = marks.findIndex((m) => m.el === event.target);
  if (direct >= 0) return direct;
  let best = -1, bestDistance = event.pointerType === 'touch' || event.pointerType === 'pen' ? GRAB.touch : GRAB.mouse;
  marks.forEach((m, i) => {
    const r = m.el.getBoundingClientRect();
    const d = Math.hypot(Math.max(r.left - event.clientX, 0, event.clientX - r.right), Math.max(r.top - event.clientY, 0, event.clientY - r.bottom));
    if (d < bestDistance) [best, bestDistance] = [i, d];
  });
  return best;
}

/**
 * Starts a drag on `plot` if the press is on (or near) a study's mark.
 * `kept[i]` is the document index of the analysis's i-th study. Returns the
 * drag, or null.
 */
export function startDrag(plot, event, pool, kept) {
  if (!kept || kept.length !== pool.studies.length) return null;
  const marks = markers(plot, pool.studies.length);
  if (marks.length !== pool.studies.length) return null;
  const index = grabbed(marks, event);
  if (index < 0) return null;
  event.preventDefault();
  plot.setPointerCapture(event.pointerId);
  // The axes are those of the plot at the start: the plot rescales as the
  // study moves, and following its new axes would run away with the pointer.
  const matrix = plot.querySelector('svg').getScreenCTM().inverse();
  const toSvg = (e) => new DOMPoint(e.clientX, e.clientY).matrixTransform(matrix);
  return {
    plot: plot.id,
    row: kept[index],
    before: pool,
    vi: pool.studies[index].vi,
    screen: { x: event.clientX, y: event.clientY },
    start: toSvg(event),
    toSvg,
    moved: false,
    pending: false,
    toEffect: axis(pool.studies.map((s) => s.yi), marks.map((m) => m.x)),
    toSe: plot.id === 'funnel' ? axis(pool.studies.map((s) => s.sei), marks.map((m) => m.y)) : null,
  };
}

/**
 * Where the pointer puts the study: `{ yi, vi }`, or null while the press is
 * still inside the dead zone.
 */
export function dragTarget(drag, event) {
  if (!drag.toEffect) return null;
  if (!drag.moved && Math.hypot(event.clientX - drag.screen.x, event.clientY - drag.screen.y) < DEAD_ZONE) return null;
  drag.moved = true;
  const point = drag.toSvg(event);
  const yi = +drag.toEffect(point.x).toFixed(4);
  let vi = drag.vi;
  // Up and down on the funnel is the standard error: a larger or smaller
  // study. Plotters draws at whole pixels: only a clear vertical move counts.
  if (drag.toSe && Math.abs(point.y - drag.start.y) > 3) {
    const se = drag.toSe(point.y);
    if (se > 0) vi = +(se * se).toPrecision(4);
  }
  return Number.isFinite(yi) && Number.isFinite(vi) ? { yi, vi } : null;
}
