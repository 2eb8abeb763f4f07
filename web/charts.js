// Small SVG charts for the simulation lab: a histogram and a coverage chart,
// each with its reference line. Okabe-Ito colours (safe with colour blindness).

// One colour per estimator (the lab offers four, so the palette never runs out);
// the Knapp-Hartung bar of an estimator is its colour hatched.
export const COLOURS = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9'];
let hatches = 0; // unique pattern ids across the charts of a page
const colour = (i) => COLOURS[((i % COLOURS.length) + COLOURS.length) % COLOURS.length];
const W = 420, H = 232, L = 48, R = 12, T = 28, B = 46;

function esc(text) {
  return String(text).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
}

function frame(title, body, xLabel) {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`
    + `<rect width="${W}" height="${H}" fill="#fff"/>`
    + `<text x="${W / 2}" y="16" text-anchor="middle" font-weight="bold">${esc(title)}</text>`
    + body
    + `<text x="${(L + W - R) / 2}" y="${H - 4}" text-anchor="middle">${esc(xLabel)}</text></svg>`;
}

function ticks(lo, hi, n = 5) {
  const step = 10 ** Math.floor(Math.log10((hi - lo) / n || 1));
  const nice = [1, 2, 5, 10].map((m) => m * step).find((s) => (hi - lo) / s <= n) || step * 10;
  const out = [];
  for (let v = Math.ceil(lo / nice) * nice; v <= hi + 1e-12; v += nice) out.push(+v.toFixed(10));
  return out;
}

/**
 * Overlaid histograms of each estimator's τ̂² (coloured by its place in
 * `order`, as the coverage bars), with the true τ² as a dashed
 * line. The axis ends at a round number; the draws beyond it are counted in
 * a separate bar after the axis, labelled with how many there are.
 */
export function histogram(series, truth, order = Object.keys(series)) {
  const all = Object.values(series).flat().filter((v) => v !== null);
  const sorted = [...all].sort((a, b) => a - b);
  const p98 = sorted.length ? sorted[Math.floor(0.98 * (sorted.length - 1))] : 0;
  const hi = Math.max(truth * 2, ...ticks(0, Math.max(p98, truth * 1.5, 1e-6)).slice(-1)) || 1;
  const bins = 30, width = hi / bins;
  const plotRight = W - R - 34;
  const x = (v) => L + (v / hi) * (plotRight - L);
  const counts = Object.entries(series).map(([name, values]) => {
    const c = new Array(bins).fill(0);
    let beyond = 0;
    for (const v of values) {
      if (v === null) continue;
      if (v >= hi) beyond += 1;
      else c[Math.floor(v / width)] += 1;
    }
    return [name, c.map((n) => n / values.length), beyond / values.length];
  });
  const top = Math.max(...counts.flatMap(([, c, b]) => [...c, b]), 1e-9);
  const y = (p) => H - B - (p / top) * (H - B - T);
  let body = '';
  counts.forEach(([name, c, beyond], s) => {
    const hue = colour(order.indexOf(name) >= 0 ? order.indexOf(name) : s);
    const path = c.map((p, i) => `${i ? 'L' : 'M'}${x(i * width).toFixed(1)},${y(p).toFixed(1)}H${x((i + 1) * width).toFixed(1)}`).join('');
    const dash = s % 2 ? ' stroke-dasharray="6 2"' : '';
    body += `<path d="${path}" fill="none" stroke="${hue}" stroke-width="2"${dash}/>`;
    const bx = plotRight + 10 + s * 6;
    body += `<rect x="${bx}" y="${y(beyond).toFixed(1)}" width="5" height="${(H - B - y(beyond)).toFixed(1)}" fill="${hue}"/>`;
    body += `<line x1="${W - R - 118}" x2="${W - R - 98}" y1="${T + 8 + 14 * s}" y2="${T + 8 + 14 * s}" stroke="${hue}" stroke-width="3"${dash}/>`
      + `<text x="${W - R - 94}" y="${T + 12 + 14 * s}" fill="#1a1a1a">${esc(name)}</text>`;
  });
  body += `<line x1="${x(truth)}" x2="${x(truth)}" y1="${T}" y2="${H - B}" stroke="#000" stroke-dasharray="3 3"/>`
    + `<text x="${x(truth) + 3}" y="${T + 10}">true τ² = ${truth}</text>`;
  body += `<line x1="${L}" x2="${plotRight}" y1="${H - B}" y2="${H - B}" stroke="#000"/>`;
  for (const t of ticks(0, hi)) body += `<text x="${x(t)}" y="${H - B + 14}" text-anchor="middle">${t}</text>`;
  body += `<text x="${plotRight + 10}" y="${H - B + 26}">&gt;${+hi.toPrecision(3)}</text>`;
  return frame('Estimated τ² across the simulated meta-analyses', body, 'τ̂² (share per bin; the bars at the right: beyond the axis)');
}

/**
 * Bars of coverage (percent, from 0) with the nominal level as a dashed line.
 * Each bar is `{ label, value, colour, light }`: `colour` indexes the
 * palette, `light` hatches the bar (the Knapp-Hartung bar of an estimator).
 */
export function coverage(title, bars, nominal) {
  const lo = 0, hi = 100;
  const y = (v) => H - B - ((v - lo) / (hi - lo)) * (H - B - T);
  const slot = (W - L - R) / bars.length;
  let defs = '';
  let body = '';
  bars.forEach((b, i) => {
    const x0 = L + i * slot + slot * 0.15;
    let fill = colour(b.colour);
    if (b.light) {
      hatches += 1;
      const id = `hatch-${hatches}`;
      defs += `<pattern id="${id}" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">`
        + `<rect width="6" height="6" fill="#fff"/><rect width="3" height="6" fill="${fill}"/></pattern>`;
      fill = `url(#${id})`;
    }
    body += `<rect x="${x0.toFixed(1)}" y="${y(b.value).toFixed(1)}" width="${(slot * 0.7).toFixed(1)}" height="${(H - B - y(b.value)).toFixed(1)}" fill="${fill}" stroke="${colour(b.colour)}"/>`
      + `<text x="${(x0 + slot * 0.35).toFixed(1)}" y="${(y(b.value) - 3).toFixed(1)}" text-anchor="middle">${b.value.toFixed(1)}</text>`
      + `<text x="${(x0 + slot * 0.35).toFixed(1)}" y="${H - B + 14}" text-anchor="middle">${b.label.split(' ').map((part, j) => `<tspan x="${(x0 + slot * 0.35).toFixed(1)}" dy="${j ? 12 : 0}">${esc(part)}</tspan>`).join('')}</text>`;
  });
  body += `<line x1="${L}" x2="${W - R}" y1="${y(nominal)}" y2="${y(nominal)}" stroke="#000" stroke-dasharray="4 3"/>`;
  for (const t of ticks(lo, hi, 4)) body += `<text x="${L - 4}" y="${y(t) + 4}" text-anchor="end">${t}</text>`;
  body += `<line x1="${L}" x2="${L}" y1="${T}" y2="${H - B}" stroke="#000"/><line x1="${L}" x2="${W - R}" y1="${H - B}" y2="${H - B}" stroke="#000"/>`;
  return frame(title, `<defs>${defs}</defs>${body}`, `coverage in percent (dashed: nominal ${nominal}%; hatched: Knapp-Hartung)`);
}
