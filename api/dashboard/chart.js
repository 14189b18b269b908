/**
 * A small hand-written SVG line chart: one metric of one device over time, with its range
 * shaded (the history's per-bucket min and max) and its last value written out.
 *
 * @module
 */

const SVG = "http://www.w3.org/2000/svg";

/** Drawing area, in the SVG's own units (it scales to its box). */
export const CHART_SIZE = Object.freeze({
  width: 320,
  height: 90,
  left: 34,
  right: 6,
  top: 8,
  bottom: 14,
});

/** @typedef {{ t: number, v: number, min?: number, max?: number }} Point */

/**
 * The scales and path data of `points` (pure): x by time over [from, to], y over the values'
 * range (never empty: a flat series gets ±1 around it).
 * @param {Point[]} points time-ordered
 * @param {number} from ms
 * @param {number} to ms
 * @param {typeof CHART_SIZE} size
 * @returns {{ line: string, band: string, low: number, high: number, last?: [number, number] }}
 */
export function chartPaths(points, from, to, size = CHART_SIZE) {
  const { width, height, left, right, top, bottom } = size;
  const values = points.flatMap((p) => [p.v, p.min ?? p.v, p.max ?? p.v]).filter(Number.isFinite);
  let low = values.length ? Math.min(...values) : 0;
  let high = values.length ? Math.max(...values) : 1;
  if (high - low < 1e-9) [low, high] = [low - 1, high + 1];
  const span = Math.max(to - from, 1);
  const x = (/** @type {number} */ t) => left + (t - from) / span * (width - left - right);
  const y = (/** @type {number} */ v) => top + (high - v) / (high - low) * (height - top - bottom);
  const f = (/** @type {number} */ n) => n.toFixed(1);
  const line = points.map((p, i) => `${i ? "L" : "M"}${f(x(p.t))},${f(y(p.v))}`).join("");
  const upper = points.map((p) => `${f(x(p.t))},${f(y(p.max ?? p.v))}`);
  const lower = points.map((p) => `${f(x(p.t))},${f(y(p.min ?? p.v))}`).reverse();
  const band = points.length ? `M${[...upper, ...lower].join("L")}Z` : "";
  const end = points.at(-1);
  return { line, band, low, high, last: end && [x(end.t), y(end.v)] };
}

/**
 * Draws (or redraws) a chart into `svg`.
 * @param {SVGSVGElement} svg
 * @param {Point[]} points
 * @param {{ from: number, to: number, unit: string }} options
 */
export function drawChart(svg, points, { from, to, unit }) {
  // One SVG unit per pixel of the box, so the text keeps its size whatever the box's width.
  const size = { ...CHART_SIZE, width: Math.max(svg.clientWidth, 120) || CHART_SIZE.width };
  const { width, height, left, bottom } = size;
  const { line, band, low, high, last: end } = chartPaths(points, from, to, size);
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.replaceChildren(
    el("path", { class: "band", d: band }),
    el("path", { class: "line", d: line }),
    text(2, 12, `${high.toFixed(1)}`),
    text(2, height - bottom, `${low.toFixed(1)}`),
    text(left, height - 2, new Date(from).toLocaleTimeString()),
    text(width - 60, height - 2, new Date(to).toLocaleTimeString()),
  );
  // The newest value as a dot: a single reading still shows.
  if (end !== undefined) {
    svg.append(el("circle", { class: "last", cx: end[0], cy: end[1], r: 2.5 }));
  }
  const last = points.at(-1);
  svg.dataset.points = String(points.length);
  svg.dataset.last = last ? String(last.v) : "";
  const title = el("title", {});
  title.textContent = last ? `last ${last.v.toFixed(1)} ${unit}` : "no readings in range";
  svg.append(title);
}

/**
 * @param {string} name
 * @param {Record<string, string | number>} attributes
 */
function el(name, attributes) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  return node;
}

/**
 * @param {number} x
 * @param {number} y
 * @param {string} content
 */
function text(x, y, content) {
  const node = el("text", { x, y, class: "axis" });
  node.textContent = content;
  return node;
}
