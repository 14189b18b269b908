/**
 * A small volume that only a stack's PostgreSQL sees, for the fault-injection suite's full disk:
 * a size-capped tmpfs mounted in a private mount namespace. A holder process (`sleep infinity`,
 * started detached) keeps the namespace and the tmpfs alive, so the postmaster can crash and be
 * started again inside it (through `nsenter`) without losing the files. Nothing is mounted on
 * the machine itself; `closeVolume` ends the holder and the tmpfs goes with it.
 *
 * Filling it is shrinking the cap to what is in use (`mount -o remount,size=`): the next page
 * PostgreSQL needs fails with ENOSPC, and no filler file takes memory. Needs root (CAP_SYS_ADMIN).
 * @module
 */

import { run } from "../command.ts";
import type { StackPaths } from "./stack_config.ts";
import { isAlive, sleep } from "./util.ts";

/** Where the volume of a stack is mounted (inside the namespace) and its holder's files. */
export interface VolumePaths {
  /** Mount point: an empty folder on the machine, the tmpfs inside the namespace. */
  mountPoint: string;
  /** Pid of the process that holds the namespace. */
  pidFile: string;
  /** The holder's stderr (why a mount failed). */
  errFile: string;
}

/** The volume's files for a stack. */
export function volumePaths(pg: StackPaths): VolumePaths {
  return {
    mountPoint: `${pg.postgresDir}/volume`,
    pidFile: `${pg.postgresDir}/volume.pid`,
    errFile: `${pg.postgresDir}/volume.err`,
  };
}

/** Whether `pid` runs in a mount namespace where `mountPoint` is a tmpfs. */
async function holds(pid: number, mountPoint: string): Promise<boolean> {
  if (!isAlive(pid)) return false;
  const info = await Deno.readTextFile(`/proc/${pid}/mountinfo`).catch(() => "");
  // Fields: id parent major:minor root mount-point options ... - fstype source super-options.
  return info.split("\n").some((line) => {
    const [left, right] = line.split(" - ");
    return left?.split(" ")[4] === mountPoint && right?.startsWith("tmpfs ");
  });
}

/** Pid of the live holder of the stack's volume, or undefined when there is none. */
export async function volumeHolder(pg: StackPaths): Promise<number | undefined> {
  const v = volumePaths(pg);
  const pid = Number((await Deno.readTextFile(v.pidFile).catch(() => "")).trim());
  return Number.isInteger(pid) && pid > 0 && await holds(pid, v.mountPoint) ? pid : undefined;
}

/**
 * Makes the stack's volume if it has none: mount point, holder, tmpfs of `sizeBytes` owned by
 * `uid`:`gid` (mode 0700). Returns the holder's pid. PostgreSQL started afterwards runs inside.
 *
 * @throws {Error} naming the cause when the namespace or the mount cannot be made (not root).
 */
export async function openVolume(
  pg: StackPaths,
  owner: { uid: number; gid: number },
  sizeBytes: number,
): Promise<number> {
  const existing = await volumeHolder(pg);
  if (existing !== undefined) return existing;
  const v = volumePaths(pg);
  await Deno.mkdir(v.mountPoint, { recursive: true });
  const options = `size=${sizeBytes},mode=0700,uid=${owner.uid},gid=${owner.gid}`;
  // setsid: Ctrl-C aimed at the harness must not end the volume under a running server.
  const holder = new Deno.Command("setsid", {
    // Every step execs the next: the pid stays the holder's. Its stderr (why it failed) to a file.
    args: [
      ...["sh", "-c", 'exec 2>"$1"; shift; exec unshare --mount --propagation private -- "$@"'],
      ...["sh", v.errFile, "sh", "-c"],
      'mount -t tmpfs -o "$1" iot-pg-volume "$2" && exec sleep infinity',
      ...["sh", options, v.mountPoint],
    ],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  holder.unref();
  const deadline = Date.now() + 10_000;
  while (!(await holds(holder.pid, v.mountPoint))) {
    if (!isAlive(holder.pid) || Date.now() > deadline) {
      const why = await Deno.readTextFile(v.errFile).catch(() => "");
      if (isAlive(holder.pid)) Deno.kill(holder.pid, "SIGKILL");
      throw new Error(
        `cannot make PostgreSQL's private volume (a tmpfs in a mount namespace, which needs ` +
          `root): ${why.trim() || "its holder exited"}`,
      );
    }
    await sleep(50);
  }
  await Deno.writeTextFile(v.pidFile, `${holder.pid}\n`);
  return holder.pid;
}

/** Ends the holder (the tmpfs and everything on it goes); false when there was none. */
export async function closeVolume(pg: StackPaths): Promise<boolean> {
  const pid = await volumeHolder(pg);
  await Deno.remove(volumePaths(pg).pidFile).catch(() => {});
  if (pid === undefined) return false;
  Deno.kill(pid, "SIGTERM");
  for (let i = 0; i < 100 && isAlive(pid); i++) await sleep(50);
  return true;
}

/** `cmd` run inside the volume's namespace when the stack has one, else as it is. */
export async function inVolume(pg: StackPaths, cmd: string[]): Promise<string[]> {
  const pid = await volumeHolder(pg);
  return pid === undefined ? cmd : ["nsenter", "-t", `${pid}`, "--mount", "--", ...cmd];
}

/** Whether process `pid` (the postmaster) runs in the namespace of the stack's volume. */
export async function seesVolume(pg: StackPaths, pid: number): Promise<boolean> {
  const holder = await volumeHolder(pg);
  if (holder === undefined) return false;
  const ns = (p: number) => Deno.readLink(`/proc/${p}/ns/mnt`).catch(() => `none ${p}`);
  return await ns(pid) === await ns(holder);
}

/** The volume's path as seen from this process (through the holder's root). */
export async function volumePath(pg: StackPaths, ...parts: string[]): Promise<string> {
  const pid = await volumeHolder(pg);
  if (pid === undefined) throw new Error(`no PostgreSQL volume in ${pg.postgresDir}`);
  return [`/proc/${pid}/root${volumePaths(pg).mountPoint}`, ...parts].join("/");
}

/** Size, use and free space of the volume, in bytes. */
export async function volumeUsage(
  pg: StackPaths,
): Promise<{ sizeBytes: number; usedBytes: number; freeBytes: number }> {
  const res = await run(["stat", "-f", "-c", "%S %b %f", await volumePath(pg)], { check: true });
  const [block, blocks, free] = res.stdout.trim().split(" ").map(Number);
  return {
    sizeBytes: blocks * block,
    usedBytes: (blocks - free) * block,
    freeBytes: free * block,
  };
}

/**
 * Sets the volume's cap: `sizeBytes`, or `"full"` for exactly what is in use (no byte free: the
 * next page PostgreSQL needs fails with ENOSPC). Resolves with the cap set, in bytes.
 */
export async function capVolume(pg: StackPaths, size: number | "full"): Promise<number> {
  const v = volumePaths(pg);
  // PostgreSQL may take a page between the reading and the remount, and the kernel refuses a
  // cap below the use: read and try again.
  for (let attempt = 0;; attempt++) {
    const bytes = size === "full" ? (await volumeUsage(pg)).usedBytes : size;
    const res = await run(
      await inVolume(pg, ["mount", "-o", `remount,size=${bytes}`, v.mountPoint]),
    );
    if (res.code === 0) return bytes;
    if (attempt >= 20) throw new Error(`cannot cap PostgreSQL's volume at ${bytes}: ${res.output}`);
    await sleep(20);
  }
}
