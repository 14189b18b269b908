/**
 * The peers' part of the markdown report (bench/report.ts): their drain rows beside ours and
 * Spark's, how their rows differ, and what they did with the corpus's bad events.
 *
 * @module
 */

import type { PeerDrainResult } from "./peer_drain.ts";
import type { PeerResults } from "./peers.ts";
import { type BenchResults, fmt, table } from "./results.ts";

/** The drain table's rows of every peer that drained. */
export function peerDrainRows(r: BenchResults): string[] {
  return peers(r).flatMap(([p, name]) => p.drains.map((d) => peerDrainRow(p, name, d)));
}

/** The peers that ran or were meant to, with their report names. */
const peers = (r: BenchResults): [PeerResults, string][] =>
  ([[r.connect, "Kafka Connect"], [r.flink, "Flink"]] as const)
    .filter((p): p is [PeerResults, "Kafka Connect" | "Flink"] => p[0] !== undefined);

function peerDrainRow(p: PeerResults, name: string, d: PeerDrainResult): string {
  const tasks = name === "Flink"
    ? `parallelism ${d.tasks}`
    : `${d.tasks} task${d.tasks > 1 ? "s" : ""}`;
  const g = d.cpu.groups;
  const cores = [g.peer, g.postgres, g.kafka, g.other, d.cpu.machineCores];
  return `| ${p.version}, ${tasks} | ${fmt(d.rowsPerS)} | – | ` +
    `${fmt(d.seconds, 1)} | ${fmt(d.readyMs)} (first row) / – | ${fmt(d.footprint.peakRssMb)} | ` +
    `${fmt(d.footprint.avgCpuPct)} (whole run) | – | ` +
    `${cores.map((c) => fmt(c, 2)).join(" / ")} | ` +
    `${fmt(d.cpuUsPerEvent.peer, 1)} / ${fmt(d.cpuUsPerEvent.postgres, 1)} |`;
}

/** How the peers' rows differ from ours, when any peer drained. */
export function peerNote(r: BenchResults): string[] {
  const ran = peers(r).filter(([p]) => p.drains.length > 0);
  if (ran.length === 0) return [];
  const events = Math.max(...ran.map(([p]) => p.events ?? 0));
  return [
    `Peers (${ran.map(([, n]) => n).join(", ")}): each drain stores ${fmt(events)} events ` +
    "of the peers' own topic (6 partitions; the legacy firmware's 10 % renamed to the " +
    "canonical keys and given an id, since neither peer maps two payload shapes by itself). " +
    "Rate = rows ÷ (last − first commit); ready = spawn → first row; CPU from the first row " +
    "seen to the last, per row stored in that window (pipeline = the peer's JVM). They write " +
    "the consumer's table and indexes; a BEFORE INSERT trigger (bench/peer_trigger.sql) " +
    "derives `timestamp_ts` and `alerta`, `dt_carga` takes its default, so no column stays " +
    "NULL; they write nothing else (no rejects, device state, alerts, anomaly scores or " +
    "offsets).",
    "",
  ];
}

/** What each peer did with the corpus's bad events, and the peers that did not run. */
export function peerGuarantees(r: BenchResults): string[] {
  const list = peers(r);
  const skipped = list.filter(([p]) => p.skipped).map(([p, n]) => `${n}: ${p.skipped}`);
  const rows = list.flatMap(([p, n]) =>
    p.guarantees.map((g) => `| ${n} | ${g.kind} (ours: ${g.ours}) | ${g.seen} |`)
  );
  return [
    ...(rows.length > 0
      ? [
        "## Peers: what they do not guarantee",
        "",
        "Each bad event of the consumer's invalid-event corpus (producer/invalid.ts) between two " +
        "valid ones, in this run; what the peer stored, and its own state after. " +
        "`worker_killed`: the peer's process killed (SIGKILL) mid-drain and started again; " +
        "committed row writes counted by triggers.",
        "",
        ...table("| peer | bad event | what the peer did |", 3, rows),
        "",
      ]
      : []),
    ...skipped.flatMap((line) => [line, ""]),
  ];
}
