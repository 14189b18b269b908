/**
 * The header's figures (pure): formatting, and the lag read from the stream.
 *
 * @module
 */

/**
 * The lag of the readings the stream delivered last: the median time, in seconds, between a reading's event time and
 * the moment it was stored (`loaded_at`). It grows when the consumers fall behind the devices.
 * @param {Array<{ time: string, loaded_at: string }>} readings
 * @returns {number | undefined} undefined for no reading
 */
export function lagSeconds(readings) {
  const lags = readings
    .map((r) => (Date.parse(r.loaded_at) - Date.parse(r.time)) / 1000)
    .filter(Number.isFinite)
    .sort((a, b) => a - b);
  if (lags.length === 0) return undefined;
  const mid = lags.length >> 1;
  return lags.length % 2 ? lags[mid] : (lags[mid - 1] + lags[mid]) / 2;
}

/**
 * A figure for the header: `–` when unknown, else grouped digits with `digits` decimals.
 * @param {number | null | undefined} value
 * @param {number} digits
 * @returns {string}
 */
export function formatFigure(value, digits = 0) {
  if (value === null || value === undefined || !Number.isFinite(value)) return "–";
  return value.toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}
