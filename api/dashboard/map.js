/**
 * The fleet map: an SVG with Brazil's outline (brazil.js) and one dot per device coloured by its
 * status; a click (or Enter) on a dot selects the device. OpenStreetMap tiles are an optional
 * layer under the outline, turned on by a setting: with them the map switches to Web Mercator so
 * they line up; a tile that fails to load is removed, and the outline stays.
 *
 * @module
 */

import { BRAZIL_OUTLINE } from "./brazil.js";
import { statusOf } from "./fleet_state.js";
import {
  equirectangular,
  frame,
  TILE_SIZE,
  TILE_ZOOM,
  tilesFor,
  webMercator,
} from "./map_projection.js";

const SVG = "http://www.w3.org/2000/svg";

/** The fleet's bounding box (producer/fleet.ts), so the frame holds every simulated device. */
const FLEET_BOX = [[-73.9, -33.7], [-34.8, 5.2]];

/** The map of one page. */
export class FleetMap {
  /**
   * @param {SVGSVGElement} svg
   * @param {(id: string) => void} onSelect
   * @param {{ tiles: boolean }} options
   */
  constructor(svg, onSelect, { tiles }) {
    this.svg = svg;
    this.onSelect = onSelect;
    this.tiles = tiles;
    this.project = tiles ? webMercator(TILE_ZOOM) : equirectangular;
    /** @type {Map<string, SVGCircleElement>} */
    this.dots = new Map();
    /** @type {string | undefined} */
    this.selected = undefined;
    const corners = [...BRAZIL_OUTLINE, ...FLEET_BOX].map(([lon, lat]) => this.project(lon, lat));
    this.box = frame(corners);
    this.radius = this.box.width / 110;
    svg.setAttribute("viewBox", `${this.box.x} ${this.box.y} ${this.box.width} ${this.box.height}`);
    svg.dataset.projection = tiles ? "web-mercator" : "equirectangular";
    this.tileLayer = node("g", { class: "tiles" });
    this.dotLayer = node("g", { class: "devices" });
    const outline = BRAZIL_OUTLINE.map(([lon, lat]) => this.project(lon, lat).map(fix).join(","));
    svg.replaceChildren(
      this.tileLayer,
      node("path", { class: "outline", d: `M${outline.join("L")}Z` }),
      this.dotLayer,
    );
    if (tiles) this.#loadTiles();
  }

  /**
   * Adds, moves and recolours the dots.
   * @param {Iterable<import("./fleet_state.js").Device>} devices
   */
  update(devices) {
    for (const device of devices) {
      if (device.latest === null || !Number.isFinite(device.latest.latitude)) continue;
      let dot = this.dots.get(device.id);
      if (dot === undefined) {
        dot = /** @type {SVGCircleElement} */ (node("circle", {
          r: this.radius,
          tabindex: 0,
          role: "button",
          "data-device": device.id,
        }));
        const title = node("title", {});
        dot.append(title);
        const select = () => this.onSelect(device.id);
        dot.addEventListener("click", select);
        dot.addEventListener("keydown", (e) => {
          if (/** @type {KeyboardEvent} */ (e).key === "Enter") select();
        });
        this.dots.set(device.id, dot);
        this.dotLayer.append(dot);
      }
      const [x, y] = this.project(device.latest.longitude, device.latest.latitude);
      const status = statusOf(device.openTypes);
      dot.setAttribute("cx", fix(x));
      dot.setAttribute("cy", fix(y));
      dot.setAttribute("class", `dot ${status}${device.id === this.selected ? " selected" : ""}`);
      dot.dataset.status = status;
      dot.setAttribute("aria-label", `${device.id}: ${status}`);
      /** @type {Element} */ (dot.firstChild).textContent = `${device.id} (${status})`;
    }
  }

  /**
   * Marks the selected device's dot (and raises it above the others).
   * @param {string} id
   */
  select(id) {
    this.dots.get(this.selected ?? "")?.classList.remove("selected");
    this.selected = id;
    const dot = this.dots.get(id);
    if (dot !== undefined) {
      dot.classList.add("selected");
      this.dotLayer.append(dot);
    }
  }

  #loadTiles() {
    let failed = 0;
    for (const { x, y } of tilesFor(this.box)) {
      const image = node("image", {
        href: `https://tile.openstreetmap.org/${TILE_ZOOM}/${x}/${y}.png`,
        x: x * TILE_SIZE,
        y: y * TILE_SIZE,
        width: TILE_SIZE,
        height: TILE_SIZE,
      });
      image.addEventListener("error", () => {
        image.remove();
        this.svg.dataset.tilesFailed = String(++failed);
      });
      this.tileLayer.append(image);
    }
  }
}

/** @param {number} n */
function fix(n) {
  return n.toFixed(3);
}

/**
 * @param {string} name
 * @param {Record<string, string | number>} attributes
 */
function node(name, attributes) {
  const el = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) el.setAttribute(key, String(value));
  return el;
}
