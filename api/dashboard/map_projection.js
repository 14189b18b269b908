/**
 * Map projections and the map's frame (pure). Without tiles the map uses an equirectangular
 * projection whose standard parallel crosses the middle of Brazil; with OpenStreetMap tiles it
 * switches to Web Mercator in the tiles' own pixel space, so the outline, the devices and the
 * tiles line up.
 *
 * @module
 */

/** The standard parallel of the equirectangular projection: about the middle of Brazil. */
export const STANDARD_PARALLEL = -15;

/** The tile zoom level: Brazil is about 900 pixels wide at this zoom. */
export const TILE_ZOOM = 5;

/** Tile edge in pixels. */
export const TILE_SIZE = 256;

/** @typedef {(lon: number, lat: number) => [number, number]} Projection */

/**
 * Equirectangular: x grows east, y grows south, in degrees of latitude.
 * @type {Projection}
 */
export const equirectangular = (lon, lat) => [
  lon * Math.cos(STANDARD_PARALLEL * Math.PI / 180),
  -lat,
];

/**
 * Web Mercator in tile pixels at `zoom` (what OpenStreetMap's tiles use).
 * @param {number} zoom
 * @returns {Projection}
 */
export function webMercator(zoom) {
  const world = TILE_SIZE * 2 ** zoom;
  return (lon, lat) => {
    const phi = Math.max(-85, Math.min(85, lat)) * Math.PI / 180;
    return [
      (lon + 180) / 360 * world,
      (1 - Math.log(Math.tan(phi) + 1 / Math.cos(phi)) / Math.PI) / 2 * world,
    ];
  };
}

/**
 * The frame that holds every point, with a margin of `pad` (a share of the larger side).
 * @param {Array<[number, number]>} points projected points
 * @param {number} pad
 * @returns {{ x: number, y: number, width: number, height: number }}
 */
export function frame(points, pad = 0.04) {
  let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const [x, y] of points) {
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    x0 = Math.min(x0, x);
    y0 = Math.min(y0, y);
    x1 = Math.max(x1, x);
    y1 = Math.max(y1, y);
  }
  if (x0 === Infinity) return { x: 0, y: 0, width: 1, height: 1 };
  const margin = Math.max(x1 - x0, y1 - y0, 1e-6) * pad;
  return {
    x: x0 - margin,
    y: y0 - margin,
    width: x1 - x0 + 2 * margin,
    height: y1 - y0 + 2 * margin,
  };
}

/**
 * The tiles (x, y at {@linkcode TILE_ZOOM}) that cover a Web Mercator frame.
 * @param {{ x: number, y: number, width: number, height: number }} box
 * @returns {Array<{ x: number, y: number }>}
 */
export function tilesFor(box) {
  const last = 2 ** TILE_ZOOM - 1;
  const clamp = (/** @type {number} */ n) => Math.max(0, Math.min(last, n));
  const tiles = [];
  for (
    let y = clamp(Math.floor(box.y / TILE_SIZE));
    y <= clamp(Math.floor((box.y + box.height) / TILE_SIZE));
    y++
  ) {
    for (
      let x = clamp(Math.floor(box.x / TILE_SIZE));
      x <= clamp(Math.floor((box.x + box.width) / TILE_SIZE));
      x++
    ) {
      tiles.push({ x, y });
    }
  }
  return tiles;
}
