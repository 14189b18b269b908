/**
 * The benchmark's chart, an SVG drawn by hand (no browser or plotting library).
 *
 * @module
 */

import { type BenchResults, fmt } from "./results.ts";

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/**
 * The chart: drain rates against the limits (bars, left) and rows committed per second over
 * time for each drain (lines, right).
 */
export function toSvg(r: BenchResults): string {
  const W = 1100;
  const H = 440;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="20" y="24" font-size="15" font-weight="bold">${
      esc(
        `Drain of ${
          fmt(r.options.events)
        } events: our consumer vs limits and Spark (${r.machine.nproc} cores, ${
          r.startedAt.slice(0, 10)
        })`,
      )
    }</text>`,
  ];
  // Left: bars.
  const bars: { label: string; value: number; color: string }[] = [];
  if (r.limits.kafka) {
    bars.push({
      label: "Kafka limit (ConsumerPerformance)",
      value: r.limits.kafka.fetchMsgsPerS,
      color: "#9e9e9e",
    });
  }
  for (const p of r.limits.postgres) {
    bars.push({
      label: `PG ${
        p.method.replace(/, \d+ rows\/batch, \d+ in flight/, "").replace(
          "consumer statement (writeBatch)",
          "our statement",
        )
      }`,
      value: p.rowsPerS,
      color: "#bdbdbd",
    });
  }
  for (const d of r.drains) {
    bars.push({
      label: `ours, ${d.consumers} consumer${d.consumers > 1 ? "s" : ""}`,
      value: d.rowsPerS,
      color: "#1e88e5",
    });
  }
  for (const d of r.spark.drains) {
    bars.push({ label: `Spark, ${d.variant}`, value: d.rowsPerS, color: "#fb8c00" });
  }
  for (const [p, name] of [[r.connect, "Connect"], [r.flink, "Flink"]] as const) {
    for (const d of p?.drains ?? []) {
      const tasks = name === "Flink" ? `parallelism ${d.tasks}` : `${d.tasks} task(s)`;
      bars.push({ label: `${name}, ${tasks}`, value: d.rowsPerS, color: "#6d4c41" });
    }
  }
  const bx = 230;
  const bw = 250;
  const top = 50;
  const bh = Math.min(30, (H - top - 40) / Math.max(1, bars.length));
  const maxBar = Math.max(1, ...bars.map((b) => b.value));
  out.push(`<text x="20" y="${top - 8}" font-weight="bold">rows/s (messages/s for Kafka)</text>`);
  bars.forEach((b, i) => {
    const y = top + i * bh;
    const w = (b.value / maxBar) * bw;
    out.push(
      `<text x="${bx - 6}" y="${y + bh * 0.65}" text-anchor="end">${esc(b.label)}</text>`,
      `<rect x="${bx}" y="${y + 3}" width="${w.toFixed(1)}" height="${
        (bh - 6).toFixed(1)
      }" fill="${b.color}"/>`,
      `<text x="${(bx + w + 4).toFixed(1)}" y="${y + bh * 0.65}">${fmt(b.value)}</text>`,
    );
  });
  // Right: lines.
  const lx = 600;
  const lw = 460;
  const ly = top;
  const lh = H - top - 60;
  const series = [
    ...r.drains.map((d, i) => ({
      label: `ours, ${d.consumers} consumer${d.consumers > 1 ? "s" : ""}`,
      points: d.timeline,
      color: ["#1e88e5", "#43a047", "#8e24aa", "#00acc1"][i % 4],
    })),
    ...r.spark.drains.map((d, i) => ({
      label: `Spark ${d.variant}`,
      points: d.timeline,
      color: ["#fb8c00", "#e53935"][i % 2],
    })),
  ].filter((s) => s.points.length > 0);
  const maxT = Math.max(1, ...series.flatMap((s) => s.points.map((p) => p.t + 1)));
  const maxY = Math.max(1, ...series.flatMap((s) => s.points.map((p) => p.rows)));
  const sx = (t: number) => lx + (Math.max(0, t) / maxT) * lw;
  const sy = (v: number) => ly + lh - (v / maxY) * lh;
  out.push(
    `<text x="${lx}" y="${
      top - 8
    }" font-weight="bold">rows committed per second (s after ready)</text>`,
    `<line x1="${lx}" y1="${ly + lh}" x2="${lx + lw}" y2="${ly + lh}" stroke="#444"/>`,
    `<line x1="${lx}" y1="${ly}" x2="${lx}" y2="${ly + lh}" stroke="#444"/>`,
  );
  for (let k = 0; k <= 4; k++) {
    const v = (maxY * k) / 4;
    out.push(
      `<text x="${lx - 4}" y="${sy(v) + 4}" text-anchor="end" font-size="10">${fmt(v)}</text>`,
      `<line x1="${lx}" y1="${sy(v)}" x2="${lx + lw}" y2="${sy(v)}" stroke="#eee"/>`,
    );
    const t = (maxT * k) / 4;
    out.push(
      `<text x="${sx(t)}" y="${ly + lh + 14}" text-anchor="middle" font-size="10">${
        fmt(t)
      } s</text>`,
    );
  }
  series.forEach((s, i) => {
    // A step line: each second's count drawn across that second, zero where nothing committed.
    const counts = new Map(s.points.map((p) => [p.t, p.rows]));
    const last = Math.max(...s.points.map((p) => p.t));
    const path: string[] = [];
    for (let t = 0; t <= last; t++) {
      const v = counts.get(t) ?? 0;
      path.push(
        `${t === 0 ? "M" : "L"}${sx(t).toFixed(1)},${sy(v).toFixed(1)}`,
        `L${sx(t + 1).toFixed(1)},${sy(v).toFixed(1)}`,
      );
    }
    out.push(
      `<path d="${path.join(" ")}" fill="none" stroke="${s.color}" stroke-width="1.8"/>`,
      `<rect x="${lx + 10 + (i % 3) * 150}" y="${
        ly + lh + 26 + Math.floor(i / 3) * 14
      }" width="10" height="10" fill="${s.color}"/>`,
      `<text x="${lx + 24 + (i % 3) * 150}" y="${ly + lh + 35 + Math.floor(i / 3) * 14}">${
        esc(s.label)
      }</text>`,
    );
  });
  out.push("</svg>");
  return out.join("\n");
}
