/**
 * Memory and CPU of a process and its descendants, read from /proc while it runs.
 *
 * - RSS: `VmRSS` of every process in the tree, summed per sample; the peak is the larger of the
 *   highest sample and the root's own `VmHWM` (the kernel's exact high-water mark).
 * - CPU: `utime + stime` from /proc/<pid>/stat (clock ticks, 100 per second on Linux), so CPU %
 *   is of one core: 200 % means both cores of a 2-core machine.
 *
 * @module
 */

const TICKS_PER_S = 100;

/** One sample. */
export interface FootprintSample {
  /** Seconds since sampling started. */
  t: number;
  /** RSS of the tree, MiB. */
  rssMb: number;
  /** CPU of the tree over the last interval, % of one core. */
  cpuPct: number;
}

/** What a process tree used while sampled. */
export interface Footprint {
  /** Peak RSS, MiB. */
  peakRssMb: number;
  /** Mean CPU over the sampled time, % of one core. */
  avgCpuPct: number;
  /** Highest CPU over one interval, % of one core. */
  peakCpuPct: number;
  /** CPU seconds used while sampled. */
  cpuSeconds: number;
  /** Seconds sampled. */
  seconds: number;
}

interface ProcStat {
  ppid: number;
  /** utime + stime. */
  ticks: number;
  /** cutime + cstime: the CPU of children this process has waited for (exited and reaped). */
  reapedTicks: number;
}

function readStat(pid: number): ProcStat | undefined {
  try {
    const text = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    // After the command name: state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14).
    return {
      ppid: Number(fields[1]),
      ticks: Number(fields[11]) + Number(fields[12]),
      reapedTicks: Number(fields[13]) + Number(fields[14]),
    };
  } catch {
    return undefined;
  }
}

function statusKb(pid: number, key: string): number {
  try {
    const text = Deno.readTextFileSync(`/proc/${pid}/status`);
    const match = new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(text);
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

/** The pid and every live descendant of it. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const stat = readStat(Number(entry.name));
    if (stat === undefined) continue;
    const list = children.get(stat.ppid) ?? [];
    list.push(Number(entry.name));
    children.set(stat.ppid, list);
  }
  const tree: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.pop()!;
    tree.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return tree;
}

/** Samples a process tree every `intervalMs` until stopped. */
export class FootprintSampler {
  /** Samples so far. */
  readonly samples: FootprintSample[] = [];
  readonly #root: number;
  readonly #tree: boolean;
  readonly #timer: ReturnType<typeof setInterval>;
  readonly #started = performance.now();
  readonly #ticks = new Map<number, number>();
  #firstTicks = 0;
  #lastTicks = 0;
  #lastT = 0;
  #peakRssKb = 0;
  #peakHwmKb = 0;

  /**
   * @param root Process id.
   * @param options `tree`: include descendants (Spark: java + python); `intervalMs`: period.
   */
  constructor(root: number, options: { tree?: boolean; intervalMs?: number } = {}) {
    this.#root = root;
    this.#tree = options.tree ?? false;
    this.#firstTicks = this.#sample(true);
    this.#timer = setInterval(() => this.#sample(false), options.intervalMs ?? 250);
  }

  /** Stops sampling (after one last sample) and summarizes. */
  stop(): Footprint {
    this.#sample(false);
    clearInterval(this.#timer);
    const seconds = (performance.now() - this.#started) / 1000;
    const cpuSeconds = (this.#lastTicks - this.#firstTicks) / TICKS_PER_S;
    return {
      peakRssMb: round(Math.max(this.#peakRssKb, this.#peakHwmKb) / 1024, 1),
      avgCpuPct: round(seconds > 0 ? (100 * cpuSeconds) / seconds : 0, 1),
      peakCpuPct: round(Math.max(0, ...this.samples.map((s) => s.cpuPct)), 1),
      cpuSeconds: round(cpuSeconds, 2),
      seconds: round(seconds, 2),
    };
  }

  #sample(first: boolean): number {
    const pids = this.#tree ? processTree(this.#root) : [this.#root];
    let rssKb = 0;
    for (const pid of pids) {
      const stat = readStat(pid);
      if (stat === undefined) continue;
      // A process that exited keeps its last count: CPU totals never go backwards.
      this.#ticks.set(pid, stat.ticks);
      rssKb += statusKb(pid, "VmRSS");
    }
    const hwm = statusKb(this.#root, "VmHWM");
    if (!this.#tree || pids.length === 1) this.#peakHwmKb = Math.max(this.#peakHwmKb, hwm);
    this.#peakRssKb = Math.max(this.#peakRssKb, rssKb);
    let ticks = 0;
    for (const value of this.#ticks.values()) ticks += value;
    const t = (performance.now() - this.#started) / 1000;
    if (!first && rssKb > 0) {
      const dt = t - this.#lastT;
      this.samples.push({
        t: round(t, 2),
        rssMb: round(rssKb / 1024, 1),
        cpuPct: round(dt > 0 ? (100 * (ticks - this.#lastTicks)) / TICKS_PER_S / dt : 0, 1),
      });
    }
    this.#lastTicks = ticks;
    this.#lastT = t;
    return ticks;
  }
}

/** Rounds to `digits` decimals. */
export function round(value: number, digits = 0): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** CPU ticks of every process at one instant, and the machine's busy/total ticks. */
export interface CpuSnapshot {
  /** Monotonic time, ms. */
  at: number;
  /** pid → [ppid, its own ticks plus those of its reaped children]. */
  procs: Map<number, [number, number]>;
  /** Busy and total jiffies of all CPUs (/proc/stat). */
  machine: { busy: number; total: number };
}

/** Reads every process's CPU ticks and the machine's totals. */
export function cpuSnapshot(): CpuSnapshot {
  const procs = new Map<number, [number, number]>();
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const stat = readStat(Number(entry.name));
    if (stat !== undefined) {
      procs.set(Number(entry.name), [stat.ppid, stat.ticks + stat.reapedTicks]);
    }
  }
  const line = Deno.readTextFileSync("/proc/stat").split("\n")[0].trim().split(/\s+/).slice(1)
    .map(Number);
  // user nice system idle iowait irq softirq steal: idle + iowait are not busy.
  const total = line.slice(0, 8).reduce((a, b) => a + b, 0);
  const busy = total - line[3] - line[4];
  return { at: performance.now(), procs, machine: { busy, total } };
}

/** CPU used between two snapshots, in cores (1.0 = one core busy all the time), per group. */
export interface CpuBreakdown {
  /** Seconds between the snapshots. */
  seconds: number;
  /** Cores in use on the whole machine (busy share × core count). */
  machineCores: number;
  /** Cores available. */
  cores: number;
  /** Cores used by each named group (process trees); `other` is everything else. */
  groups: Record<string, number>;
}

/**
 * Splits the CPU used between `before` and `after` by process trees.
 *
 * @param groups Group name → root pids (each root counts with all its descendants).
 */
export function cpuBreakdown(
  before: CpuSnapshot,
  after: CpuSnapshot,
  groups: Record<string, number[]>,
): CpuBreakdown {
  const seconds = (after.at - before.at) / 1000;
  const cores = navigator.hardwareConcurrency;
  const groupOf = new Map<number, string>();
  const parentOf = (pid: number) => after.procs.get(pid)?.[0] ?? before.procs.get(pid)?.[0];
  const find = (pid: number): string => {
    const seen: number[] = [];
    let p: number | undefined = pid;
    let name = "other";
    while (p !== undefined && p > 1) {
      const known = groupOf.get(p);
      if (known !== undefined) {
        name = known;
        break;
      }
      const direct = Object.entries(groups).find(([, roots]) => roots.includes(p!));
      if (direct) {
        name = direct[0];
        break;
      }
      seen.push(p);
      p = parentOf(p);
    }
    for (const s of seen) groupOf.set(s, name);
    return name;
  };
  const used: Record<string, number> = { other: 0 };
  for (const name of Object.keys(groups)) used[name] = 0;
  // Short-lived processes (a PostgreSQL backend per JDBC connection, as Spark opens them) exit
  // between the snapshots; their CPU reappears in their parent's reaped ticks. So every process
  // of either snapshot counts with after − before: one that vanished gives back what it had used
  // before, and its parent's reaped ticks bring its whole life, which nets to its use in between.
  for (const pid of new Set([...before.procs.keys(), ...after.procs.keys()])) {
    const delta = (after.procs.get(pid)?.[1] ?? 0) - (before.procs.get(pid)?.[1] ?? 0);
    if (delta === 0) continue;
    used[find(pid)] += delta / TICKS_PER_S / seconds;
  }
  const m = after.machine.total - before.machine.total;
  const machineCores = m > 0 ? ((after.machine.busy - before.machine.busy) / m) * cores : 0;
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(used)) out[k] = round(v, 2);
  return { seconds: round(seconds, 2), machineCores: round(machineCores, 2), cores, groups: out };
}
