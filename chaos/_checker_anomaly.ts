/**
 * The anomaly half of the monitoring checks (private to chaos/; see `_checker_alerts.ts`): each
 * device's `seq_dispositivo` are 1..n and keep each partition's order, each score and the model
 * equal the replay's, exactly.
 *
 * Exact, not within a tolerance: the replay runs the rules' operations in their order on the same
 * doubles, so it gets the same bits; float8 travels both ways as the shortest text that reads back
 * as the same double (PostgreSQL 12+, JavaScript). A score one ulp off is a different computation.
 *
 * @module
 */

import type { Expected } from "./_checker_expect.ts";
import { readingOf } from "./_checker_expect.ts";
import type { DeviceReplay } from "./_checker_fold.ts";
import type { StoredFold, StoredModel } from "./_checker_monitoring.ts";
import type { Problem, StoredRow } from "./_checker_types.ts";

/** Compares one device's stored fold places, scores and model with its replay. */
export function compareAnomaly(
  device: string,
  replay: DeviceReplay,
  readings: readonly StoredRow[],
  fold: ReadonlyMap<string, StoredFold>,
  model: StoredModel | undefined,
  pinned: ReadonlyMap<string, Pin>,
): Problem[] {
  const problems: Problem[] = [];
  const seqs = readings.map((r) => fold.get(r.id)?.seq_dispositivo ?? null);
  const gaps = seqs.flatMap((s, i) => (s === i + 1 ? [] : [`${readings[i].id} has ${s}`]));
  if (gaps.length > 0) {
    problems.push({
      message: `${device}: seq_dispositivo not 1..${readings.length}: ${
        gaps.slice(0, 3).join("; ")
      }`,
    });
  }
  problems.push(...partitionOrder(device, readings, pinned));
  for (const r of readings) {
    const stored = fold.get(r.id)?.escore_anomalia ?? null;
    const want = replay.scores.get(r.id) ?? null;
    if (stored !== want) {
      // Not tallied as a wrong value: that figure counts the events' and devices' columns.
      problems.push({ message: `${device}: ${r.id} escore_anomalia ${stored}, replay ${want}` });
    }
  }
  if (model === undefined) {
    problems.push({ message: `${device}: no anomaly model (no tb_dispositivo row)` });
    return problems;
  }
  const m = replay.model;
  const want: Omit<StoredModel, "id_dispositivo"> = {
    anomalia_n: m.n,
    temperatura_media: m.temperatura?.mean ?? null,
    temperatura_var: m.temperatura?.variance ?? null,
    umidade_media: m.umidade?.mean ?? null,
    umidade_var: m.umidade?.variance ?? null,
    temperatura_nivel: m.temperatura?.level ?? null,
    temperatura_base: m.temperatura?.baseline ?? null,
    temperatura_dispersao: m.temperatura?.spread ?? null,
    umidade_nivel: m.umidade?.level ?? null,
    umidade_base: m.umidade?.baseline ?? null,
    umidade_dispersao: m.umidade?.spread ?? null,
  };
  const wrong = (Object.keys(want) as (keyof typeof want)[]).filter((c) => model[c] !== want[c]);
  if (wrong.length > 0) {
    problems.push({
      message: `${device}: model ${
        wrong.map((c) => `${c} ${model[c]} (replay ${want[c]})`).join(", ")
      }`,
    });
  }
  return problems;
}

/** Where the only partition that carried a reading first carried it. */
export interface Pin {
  partition: number;
  generation: number;
  offset: bigint;
}

/**
 * Readings all of whose messages are on one partition: their fold follows that partition's order
 * (each partition is processed in order, a generation whole before the next), so their seqs must.
 */
export function pinnedPositions(expected: Expected): Map<string, Pin> {
  const out = new Map<string, Pin>();
  for (const g of expected.groups) {
    if (g.stored === undefined) continue;
    const carried = g.members.filter((x) => readingOf(x.row) === readingOf(g.stored!));
    if (new Set(carried.map((x) => x.m.partition)).size !== 1) continue;
    const pins = carried.map(({ m }) => ({
      partition: m.partition,
      generation: m.generation ?? 0,
      offset: BigInt(m.offset),
    }));
    out.set(g.id, pins.reduce((a, b) => (after(a, b) ? b : a)));
  }
  return out;
}

const after = (a: Pin, b: Pin) =>
  a.generation !== b.generation ? a.generation > b.generation : a.offset > b.offset;

function partitionOrder(
  device: string,
  readings: readonly StoredRow[],
  pinned: ReadonlyMap<string, Pin>,
): Problem[] {
  const last = new Map<number, [Pin, string]>();
  const problems: Problem[] = [];
  for (const r of readings) {
    const pin = pinned.get(r.id);
    if (pin === undefined) continue;
    const before = last.get(pin.partition);
    if (before !== undefined && after(before[0], pin)) {
      problems.push({
        message: `${device}: ${r.id} folded after ${before[1]}, which came later on partition ` +
          `${pin.partition}`,
      });
    }
    if (before === undefined || after(pin, before[0])) last.set(pin.partition, [pin, r.id]);
  }
  return problems;
}
