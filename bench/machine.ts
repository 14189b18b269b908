/**
 * The machine and software a run measured, and whether the machine was quiet.
 *
 * @module
 */

import postgres from "postgres";
import { KAFKA_VERSION } from "../scripts/services/kafka.ts";
import { cpuBreakdown, cpuSnapshot } from "./footprint.ts";
import { ROOT } from "../scripts/repo.ts";
import { serverPids, type Stack } from "./stack.ts";

/** Hardware and versions. */
export interface Machine {
  /** CPU model. */
  cpuModel: string;
  /** Logical CPUs. */
  nproc: number;
  /** RAM, GiB. */
  memoryGiB: number;
  /** Kernel release. */
  kernel: string;
  /** Distribution. */
  os: string;
  /** Versions of everything measured. */
  versions: Record<string, string>;
}

async function command(cmd: string[]): Promise<string> {
  try {
    const out = await new Deno.Command(cmd[0], {
      args: cmd.slice(1),
      stdout: "piped",
      stderr: "piped",
    })
      .output();
    const dec = new TextDecoder();
    return (dec.decode(out.stdout) + dec.decode(out.stderr)).trim();
  } catch {
    return "";
  }
}

function importVersion(name: string): string {
  const config = JSON.parse(Deno.readTextFileSync(`${ROOT}/deno.json`));
  const spec: string = config.imports?.[name] ?? "";
  return spec.slice(spec.lastIndexOf("@") + 1);
}

/** Reads the machine's details and the versions of the servers and clients. */
export async function describeMachine(stack: Stack, sparkVersion?: string): Promise<Machine> {
  const cpuinfo = await Deno.readTextFile("/proc/cpuinfo");
  const meminfo = await Deno.readTextFile("/proc/meminfo");
  const osRelease = await Deno.readTextFile("/etc/os-release").catch(() => "");
  const sql = postgres(stack.databaseUrl, { max: 1, onnotice: () => {} });
  let pgVersion = "";
  try {
    [{ v: pgVersion }] = await sql<{ v: string }[]>`SELECT current_setting('server_version') AS v`;
  } finally {
    await sql.end({ timeout: 5 });
  }
  const java = (await command(["java", "-version"])).split("\n")[0] ?? "";
  const python = await command(["python3", "--version"]);
  return {
    cpuModel: /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? "unknown",
    nproc: navigator.hardwareConcurrency,
    memoryGiB: Math.round(Number(/^MemTotal:\s+(\d+)/m.exec(meminfo)?.[1] ?? 0) / 1024 / 1024),
    kernel: await command(["uname", "-r"]),
    os: /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(osRelease)?.[1] ?? "unknown",
    versions: {
      deno: Deno.version.deno,
      v8: Deno.version.v8,
      java,
      kafka: KAFKA_VERSION,
      postgresql: pgVersion,
      ...(sparkVersion ? { spark: sparkVersion, python } : {}),
      kafkajs: importVersion("kafkajs"),
      "@platformatic/kafka": importVersion("@platformatic/kafka"),
      "postgres.js": importVersion("postgres"),
    },
  };
}

/** How busy the machine was with work that is not the benchmark's. */
export interface Quietness {
  /** When. */
  at: string;
  /** 1-minute load average. */
  loadavg1: number;
  /** Cores used over `seconds` by processes outside the benchmark and its servers. */
  otherCores: number;
  /** Seconds watched. */
  seconds: number;
  /** otherCores below 0.15. */
  quiet: boolean;
}

/** Watches the machine for `seconds` while the benchmark itself is idle. */
export async function measureQuietness(stack: Stack, seconds = 5): Promise<Quietness> {
  const before = cpuSnapshot();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const after = cpuSnapshot();
  const cpu = cpuBreakdown(before, after, {
    bench: [Deno.pid],
    ...serverPids(stack),
  });
  const loadavg = Number((await Deno.readTextFile("/proc/loadavg")).split(" ")[0]);
  return {
    at: new Date().toISOString(),
    loadavg1: loadavg,
    otherCores: cpu.groups.other,
    seconds,
    quiet: cpu.groups.other < 0.15,
  };
}

/** The code a run measured: the commit, and changed files in the measured paths. */
export interface SourceInfo {
  /** `git rev-parse HEAD`, or BENCH_COMMIT when run from an exported snapshot. */
  commit: string;
  /** Uncommitted changes under consumer/, producer/, shared/ (empty for a clean run). */
  dirty: string[];
}

/** Reads the commit and the working-tree state of the measured code. */
export async function describeSource(): Promise<SourceInfo> {
  const fromEnv = Deno.env.get("BENCH_COMMIT");
  const head = await command(["git", "-C", ROOT, "rev-parse", "HEAD"]);
  if (!/^[0-9a-f]{40}$/.test(head)) return { commit: fromEnv ?? "unknown", dirty: [] };
  const status = await command([
    "git",
    "-C",
    ROOT,
    "status",
    "--porcelain",
    "--",
    "consumer",
    "producer",
    "shared",
  ]);
  return { commit: head, dirty: status.split("\n").filter((l) => l.trim() !== "") };
}
