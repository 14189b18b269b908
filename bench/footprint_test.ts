import assert from "node:assert/strict";
import { cpuBreakdown, type CpuSnapshot } from "./footprint.ts";

function snapshot(at: number, procs: [number, number, number][]): CpuSnapshot {
  return {
    at,
    procs: new Map(procs.map(([pid, ppid, ticks]) => [pid, [ppid, ticks]])),
    machine: { busy: at / 10, total: at / 5 },
  };
}

Deno.test("cpuBreakdown() counts a child that exited between snapshots through its parent", () => {
  // Server 100 used 10 ticks; its backend 101 had 30 before, used 20 more, exited and was reaped
  // (the server's reaped ticks grow by its whole life, 50). Process 200 is someone else's.
  const before = snapshot(0, [[100, 1, 50], [101, 100, 30], [200, 1, 7]]);
  const after = snapshot(1000, [[100, 1, 50 + 10 + 50], [200, 1, 7 + 5]]);
  const cpu = cpuBreakdown(before, after, { postgres: [100] });
  assert.equal(cpu.seconds, 1);
  assert.equal(cpu.groups.postgres, 0.3);
  assert.equal(cpu.groups.other, 0.05);
});

Deno.test("cpuBreakdown() counts a process born between snapshots from zero", () => {
  const before = snapshot(0, [[100, 1, 50]]);
  const after = snapshot(2000, [[100, 1, 50], [102, 100, 40]]);
  assert.equal(cpuBreakdown(before, after, { postgres: [100] }).groups.postgres, 0.2);
});
