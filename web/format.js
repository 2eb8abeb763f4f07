// Numbers and text as the page shows them (the CLI's text report rounds the same way).

export function fmt(value, digits = 4) {
  if (value === null || value === undefined) return '–';
  if (!Number.isFinite(value)) return String(value);
  return value.toFixed(digits).replace(/^-(0\.0*)$/, '$1');
}

/** A number with its full precision in `data-value`, for tests and screen readers' copy. */
export function num(key, value, digits = 4) {
  return `<span data-key="${key}" data-value="${value}">${fmt(value, digits)}</span>`;
}

/** A p-value as the CLI's text report writes it: 4 decimals, or <.0001. */
export function pValue(key, value) {
  return value !== null && value < 1e-4 ? `<span data-key="${key}" data-value="${value}">&lt;.0001</span>` : num(key, value);
}

export function esc(text) {
  return String(text).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
}
